/** The live training curve the `status` query carries: plain data, workflow-safe. */
import type { TrainingMetrics } from './types';

/** The live curve keeps at most this many rows (the continue-as-new input carries it, so it stays small). */
export const MAX_LIVE_CURVE_ROWS = 200;

/**
 * Adds a metrics row seen while training (a row of the same step replaces it). When the curve is full, every other
 * row is dropped, keeping the first and the newest: the curve keeps its shape at half the resolution.
 */
export function addCurvePoint(curve: TrainingMetrics[], row: TrainingMetrics, max = MAX_LIVE_CURVE_ROWS): void {
  const last = curve[curve.length - 1];
  if (last && row.step < last.step) return;
  if (last && last.step === row.step) {
    curve[curve.length - 1] = row;
    return;
  }
  curve.push(row);
  if (curve.length > max) {
    const thinned = curve.filter((_, i) => i % 2 === 0 || i === curve.length - 1);
    curve.splice(0, curve.length, ...thinned);
  }
}
