/** Token distribution and the automatic epoch rule, as pure functions. */
import { AUTO_EPOCHS } from './limits';

export interface TokenDistribution {
  min: number;
  median: number;
  p90: number;
  max: number;
}

/** Growable list of per-example token counts (4 bytes each, so a 512 MB file costs a few MB). */
export class CountList {
  private values = new Uint32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Uint32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  /** Min, median, 90th percentile and max, with linear interpolation between ranks (numpy's default); null when empty. */
  distribution(): TokenDistribution | null {
    if (this.length === 0) return null;
    const sorted = this.values.slice(0, this.length).sort();
    const quantile = (q: number): number => {
      const position = q * (sorted.length - 1);
      const below = Math.floor(position);
      const above = Math.min(below + 1, sorted.length - 1);
      return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
    };
    return { min: sorted[0]!, median: quantile(0.5), p90: quantile(0.9), max: sorted[sorted.length - 1]! };
  }
}

/** The service's automatic n_epochs for a training set of `examples` (rule and source in limits.ts). */
export function autoEpochs(examples: number): number {
  const { target, minTargetExamples, maxTargetExamples, minEpochs, maxEpochs } = AUTO_EPOCHS;
  if (examples <= 0) return target;
  if (examples * target < minTargetExamples) return Math.min(maxEpochs, Math.floor(minTargetExamples / examples));
  if (examples * target > maxTargetExamples) return Math.max(minEpochs, Math.floor(maxTargetExamples / examples));
  return target;
}
