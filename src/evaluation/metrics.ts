/**
 * Training metrics after a job: results.csv parsing, checkpoint choice by policy, overfitting detection and a small
 * curve for the report. Pure: no I/O, so the workflow's activity and the tests share it unchanged.
 */
import { parse } from 'csv-parse/sync';
import type { CheckpointPolicy, CheckpointSummary, MetricsAnalysis, ResultsRow, TrainingMetrics } from '../pipeline/types';

/** The report draws at most this many points per curve; the workflow history carries no more. */
export const MAX_CURVE_ROWS = 200;

/** A validation loss at least this much (relative) above its minimum counts as a rise, not noise. */
const RISE_TOLERANCE = 0.01;

export class ResultsCsvError extends Error {}

type Column = Exclude<keyof ResultsRow, 'step'>;

/** results.csv header names -> fields. The docs spell the accuracy column `validation_...`; real files say `valid_...`. */
const COLUMNS: Record<string, Column> = {
  train_loss: 'trainLoss',
  train_mean_token_accuracy: 'trainMeanTokenAccuracy',
  valid_loss: 'validLoss',
  valid_mean_token_accuracy: 'validMeanTokenAccuracy',
  validation_mean_token_accuracy: 'validMeanTokenAccuracy',
  full_valid_loss: 'fullValidLoss',
  full_valid_mean_token_accuracy: 'fullValidMeanTokenAccuracy',
};

/** Azure has served result files base64-encoded; accept that as well as plain CSV. */
function decodeIfBase64(text: string): string {
  const trimmed = text.trim();
  if (/^step\s*,/i.test(trimmed.replace(/^\uFEFF/, '')) || !/^[A-Za-z0-9+/=\s]+$/.test(trimmed)) return text;
  const decoded = Buffer.from(trimmed, 'base64').toString('utf8');
  return /^\uFEFF?step\s*,/i.test(decoded) ? decoded : text;
}

/** Parses results.csv. Empty cells are null; a bad number or a short row is an error naming its line. */
export function parseResultsCsv(text: string): ResultsRow[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(decodeIfBase64(text), { bom: true, trim: true, skip_empty_lines: true, info: true }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    throw new ResultsCsvError(`results.csv: ${(err as Error).message}`);
  }
  const [header, ...body] = records;
  if (!header) throw new ResultsCsvError('results.csv: the file is empty (expected a header starting with "step")');
  const names = header.record.map((name) => name.toLowerCase());
  const stepIndex = names.indexOf('step');
  if (stepIndex < 0) throw new ResultsCsvError(`results.csv line ${header.info.lines}: no "step" column in the header (${header.record.join(',')})`);
  const known = names.flatMap((name, index) => (COLUMNS[name] ? [{ index, name, field: COLUMNS[name] }] : []));

  return body.map(({ record, info }) => {
    const cell = (index: number, name: string): number | null => {
      const raw = record[index] ?? '';
      if (raw === '') return null;
      const value = Number(raw);
      if (!Number.isFinite(value)) throw new ResultsCsvError(`results.csv line ${info.lines}: column ${name}: "${raw.slice(0, 40)}" is not a number`);
      return value;
    };
    const step = cell(stepIndex, 'step');
    if (step === null || !Number.isInteger(step) || step < 0) throw new ResultsCsvError(`results.csv line ${info.lines}: column step: a step number is required`);
    const row: ResultsRow = { step, trainLoss: null, trainMeanTokenAccuracy: null, validLoss: null, validMeanTokenAccuracy: null, fullValidLoss: null, fullValidMeanTokenAccuracy: null };
    for (const column of known) row[column.field] = cell(column.index, column.name) ?? row[column.field];
    return row;
  });
}

export interface AnalyzeMetricsInput {
  checkpoints: CheckpointSummary[];
  rows: ResultsRow[];
  policy?: CheckpointPolicy;
}

const fmt = (value: number): string => value.toFixed(4);

/** A checkpoint's metrics, with what its own metrics leave out filled in from results.csv's row of the same step. */
function completed(checkpoint: CheckpointSummary, byStep: Map<number, ResultsRow>): CheckpointSummary {
  const row = byStep.get(checkpoint.step);
  if (!row) return checkpoint;
  const metrics: TrainingMetrics = { ...checkpoint.metrics };
  for (const key of Object.keys(COLUMNS).map((name) => COLUMNS[name]!)) metrics[key] ??= row[key];
  return { ...checkpoint, metrics };
}

const validLossOf = (c: CheckpointSummary): number | null => c.metrics.fullValidLoss ?? c.metrics.validLoss;
const validAccuracyOf = (c: CheckpointSummary): number | null => c.metrics.fullValidMeanTokenAccuracy ?? c.metrics.validMeanTokenAccuracy;

function pickBy(checkpoints: CheckpointSummary[], value: (c: CheckpointSummary) => number | null, better: (a: number, b: number) => boolean): CheckpointSummary | undefined {
  let best: CheckpointSummary | undefined;
  for (const c of checkpoints) {
    const v = value(c);
    if (v === null) continue;
    const current = best ? value(best) : null;
    // Ties go to the earlier checkpoint: it had fewer chances to overfit.
    if (current === null || better(v, current)) best = c;
  }
  return best;
}

function choose(checkpoints: CheckpointSummary[], policy: CheckpointPolicy): { chosen: CheckpointSummary; reason: string } {
  const final = checkpoints[checkpoints.length - 1]!;
  const finalWords = `the final checkpoint (step ${final.step})`;
  if (policy === 'final') return { chosen: final, reason: `policy "final": ${finalWords}` };
  if (policy === 'best_valid_accuracy') {
    const best = pickBy(checkpoints, validAccuracyOf, (a, b) => a > b);
    if (best) {
      const others = best === final ? 'it is also the final one' : `the final checkpoint has ${fmt(validAccuracyOf(final) ?? NaN)}`;
      return { chosen: best, reason: `policy "best_valid_accuracy": step ${best.step} has the highest validation token accuracy, ${fmt(validAccuracyOf(best)!)} (${others})` };
    }
    return { chosen: final, reason: `policy "best_valid_accuracy", but no checkpoint has a validation token accuracy (the job had no validation file?): fell back to ${finalWords}` };
  }
  const best = pickBy(checkpoints, validLossOf, (a, b) => a < b);
  if (best) {
    const kind = best.metrics.fullValidLoss !== null ? 'full validation loss' : 'validation loss';
    const others = best === final ? 'it is also the final one' : `the final checkpoint has ${fmt(validLossOf(final) ?? NaN)}`;
    return { chosen: best, reason: `policy "lowest_valid_loss": step ${best.step} has the lowest ${kind}, ${fmt(validLossOf(best)!)} (${others})` };
  }
  return { chosen: final, reason: `policy "lowest_valid_loss", but no checkpoint has a validation loss (the job had no validation file?): fell back to ${finalWords}` };
}

interface EpochPoint {
  step: number;
  validLoss: number;
  /** Mean training loss over the steps since the previous point (single steps are noisy): what overfitting is judged on. */
  trainLoss: number | null;
  /** Training loss at the point's own step, as the checkpoint table shows it (the checkpoint's, else results.csv's). */
  trainLossAtStep: number | null;
}

function mean(values: number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Validation loss at each epoch end (results.csv's full validation rows, else the checkpoints'), with training loss beside it. */
function epochPoints(rows: ResultsRow[], checkpoints: CheckpointSummary[]): EpochPoint[] {
  const fromRows = rows.filter((r) => r.fullValidLoss !== null).map((r) => ({ step: r.step, validLoss: r.fullValidLoss! }));
  const raw = fromRows.length >= 2 ? fromRows : checkpoints.flatMap((c) => (validLossOf(c) === null ? [] : [{ step: c.step, validLoss: validLossOf(c)! }]));
  const sorted = [...raw].sort((a, b) => a.step - b.step);
  return sorted.map((point, i) => {
    const from = i === 0 ? -Infinity : sorted[i - 1]!.step;
    const train = mean(rows.filter((r) => r.step > from && r.step <= point.step && r.trainLoss !== null).map((r) => r.trainLoss!));
    const atStep = checkpoints.find((c) => c.step === point.step)?.metrics.trainLoss ?? rows.find((r) => r.step === point.step)?.trainLoss ?? null;
    return { ...point, trainLoss: train ?? atStep, trainLossAtStep: atStep };
  });
}

function overfitting(points: EpochPoint[]): MetricsAnalysis['overfitting'] {
  if (points.length < 2) {
    return { detected: false, detail: `not judged: overfitting needs validation loss at two or more epochs, and there ${points.length === 1 ? 'is one' : 'are none'}` };
  }
  let lowest = points[0]!;
  for (const p of points) if (p.validLoss < lowest.validLoss) lowest = p;
  const last = points[points.length - 1]!;
  const rise = (last.validLoss - lowest.validLoss) / lowest.validLoss;
  if (last === lowest || rise <= RISE_TOLERANCE) {
    return { detected: false, detail: `no sign of overfitting: validation loss ended at ${fmt(last.validLoss)} (step ${last.step}), at or near its lowest, ${fmt(lowest.validLoss)}` };
  }
  const trainFell = last.trainLoss !== null && lowest.trainLoss !== null && last.trainLoss < lowest.trainLoss;
  const valid = `validation loss rose from ${fmt(lowest.validLoss)} at step ${lowest.step} to ${fmt(last.validLoss)} at step ${last.step} (+${(rise * 100).toFixed(1)}%)`;
  if (!trainFell) {
    return { detected: false, detail: `${valid}, but training loss did not fall meanwhile, so this is not the overfitting pattern (noisy or unstable training?)` };
  }
  // The step values are the ones the checkpoint table shows; the epoch means (what is judged) are given beside them.
  const atSteps = lowest.trainLossAtStep !== null && last.trainLossAtStep !== null ? `${fmt(lowest.trainLossAtStep)} at step ${lowest.step} to ${fmt(last.trainLossAtStep)} at step ${last.step}; ` : '';
  return {
    detected: true,
    detail: `${valid} while training loss kept falling (${atSteps}mean over the epoch ${fmt(lowest.trainLoss!)} to ${fmt(last.trainLoss!)}): the model started memorising the training data after step ${lowest.step}`,
  };
}

/** At most `max` rows: the first, the last, epoch ends (full validation) and checkpoint steps first, then evenly spaced others. */
export function downsampleCurve(rows: ResultsRow[], checkpointSteps: number[] = [], max = MAX_CURVE_ROWS): ResultsRow[] {
  if (rows.length <= max) return rows;
  const evenly = (indices: number[], count: number): number[] => {
    if (count <= 0) return [];
    if (indices.length <= count) return indices;
    if (count === 1) return [indices[0]!];
    return Array.from({ length: count }, (_, i) => indices[Math.round((i * (indices.length - 1)) / (count - 1))]!);
  };
  const wanted = new Set(checkpointSteps);
  const important = rows.flatMap((r, i) => (i === 0 || i === rows.length - 1 || r.fullValidLoss !== null || wanted.has(r.step) ? [i] : []));
  const keep = new Set(evenly(important, max));
  const rest = rows.flatMap((_, i) => (keep.has(i) ? [] : [i]));
  for (const i of evenly(rest, max - keep.size)) keep.add(i);
  return [...keep].sort((a, b) => a - b).map((i) => rows[i]!);
}

/** Picks a checkpoint by `policy` (default: lowest full validation loss), flags overfitting and keeps a small curve. */
export function analyzeMetrics(input: AnalyzeMetricsInput): MetricsAnalysis {
  const policy = input.policy ?? 'lowest_valid_loss';
  if (input.checkpoints.length === 0) throw new Error('the job has no checkpoints to choose from');
  const rows = [...input.rows].sort((a, b) => a.step - b.step);
  const byStep = new Map(rows.map((r) => [r.step, r]));
  const checkpoints = [...input.checkpoints].sort((a, b) => a.step - b.step).map((c) => completed(c, byStep));
  const { chosen, reason } = choose(checkpoints, policy);
  return {
    policy,
    chosen,
    reason,
    overfitting: overfitting(epochPoints(rows, checkpoints)),
    curve: downsampleCurve(rows, checkpoints.map((c) => c.step)),
  };
}
