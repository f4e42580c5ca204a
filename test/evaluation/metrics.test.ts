import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeMetrics, downsampleCurve, MAX_CURVE_ROWS, parseResultsCsv } from '../../src/evaluation/metrics';
import type { CheckpointSummary, ResultsRow } from '../../src/pipeline/types';

const HEADER = 'step,train_loss,train_mean_token_accuracy,valid_loss,valid_mean_token_accuracy,full_valid_loss,full_valid_mean_token_accuracy';
const STEPS_PER_EPOCH = 10;
/** Validation loss per epoch end: best after epoch 2, rising after it (overfitting); accuracy mirrors it. */
const EPOCH_VALID = [1.2, 0.6, 0.7, 0.95];
const EPOCH_ACCURACY = [0.5, 0.8, 0.78, 0.7];

/** A results.csv of 4 epochs whose training loss keeps falling (with a little noise). */
function overfittingCsv(accuracyColumn = 'valid_mean_token_accuracy'): string {
  const lines = [HEADER.replace('valid_mean_token_accuracy,full', `${accuracyColumn},full`)];
  for (let step = 1; step <= STEPS_PER_EPOCH * EPOCH_VALID.length; step++) {
    const train = (2 / (1 + step / 5) + (step % 3) * 0.01).toFixed(4);
    const epochEnd = step % STEPS_PER_EPOCH === 0 ? step / STEPS_PER_EPOCH - 1 : -1;
    const valid = (EPOCH_VALID[Math.floor((step - 1) / STEPS_PER_EPOCH)]! + 0.02).toFixed(4);
    const full = epochEnd >= 0 ? [EPOCH_VALID[epochEnd]!, EPOCH_ACCURACY[epochEnd]!] : ['', ''];
    lines.push([step, train, '0.7', valid, '0.75', ...full].join(','));
  }
  return `${lines.join('\n')}\n`;
}

function checkpoint(step: number, rows: ResultsRow[], withValidation = true): CheckpointSummary {
  const row = rows.find((r) => r.step === step)!;
  return {
    id: `ftchkpt-${step}`,
    model: `gpt-4.1-mini-2025-04-14.ft-abc:ckpt-step-${step}`,
    step,
    metrics: { ...row, ...(withValidation ? {} : { validLoss: null, validMeanTokenAccuracy: null, fullValidLoss: null, fullValidMeanTokenAccuracy: null }) },
  };
}

describe('results.csv', () => {
  it('reads both spellings of the validation accuracy column, with empty cells as null', () => {
    for (const column of ['valid_mean_token_accuracy', 'validation_mean_token_accuracy']) {
      const rows = parseResultsCsv(overfittingCsv(column));
      assert.equal(rows.length, 40);
      assert.deepEqual(rows[0], { step: 1, trainLoss: 1.6767, trainMeanTokenAccuracy: 0.7, validLoss: 1.22, validMeanTokenAccuracy: 0.75, fullValidLoss: null, fullValidMeanTokenAccuracy: null });
      assert.equal(rows[19]!.fullValidLoss, 0.6);
      assert.equal(rows[19]!.fullValidMeanTokenAccuracy, 0.8);
    }
  });

  it('reads a file without validation columns, a BOM, CRLF line ends and a base64-encoded file', () => {
    const plain = '\uFEFFstep,train_loss,train_mean_token_accuracy\r\n1,2.5,0.4\r\n2,2.1,0.45\r\n';
    const rows = parseResultsCsv(plain);
    assert.deepEqual(rows.map((r) => [r.step, r.trainLoss, r.validLoss]), [[1, 2.5, null], [2, 2.1, null]]);
    assert.deepEqual(parseResultsCsv(Buffer.from(overfittingCsv()).toString('base64')), parseResultsCsv(overfittingCsv()));
  });

  it('names the line and column of bad data', () => {
    assert.throws(() => parseResultsCsv(`${HEADER}\n1,0.5,0.5,,,,\n2,abc,0.5,,,,\n`), /results\.csv line 3: column train_loss: "abc" is not a number/);
    assert.throws(() => parseResultsCsv(`${HEADER}\n1,0.5,0.5,,,,\n2,0.4\n`), /results\.csv: .*line 3/i);
    assert.throws(() => parseResultsCsv('train_loss\n0.5\n'), /line 1: no "step" column/);
    assert.throws(() => parseResultsCsv(''), /empty/);
    assert.throws(() => parseResultsCsv(`${HEADER}\n,0.5,0.5,,,,\n`), /line 2: column step/);
  });
});

describe('checkpoint choice and overfitting', () => {
  const rows = parseResultsCsv(overfittingCsv());
  // Azure keeps the final model and the two epochs before it.
  const kept = [20, 30, 40].map((s) => checkpoint(s, rows));

  it('picks the lowest full validation loss by default, not the final checkpoint, and flags overfitting', () => {
    const analysis = analyzeMetrics({ checkpoints: kept, rows });
    assert.equal(analysis.policy, 'lowest_valid_loss');
    assert.equal(analysis.chosen.step, 20);
    assert.equal(analysis.chosen.model, kept[0]!.model);
    assert.match(analysis.reason, /step 20 has the lowest full validation loss, 0\.6000 \(the final checkpoint has 0\.9500\)/);
    assert.equal(analysis.overfitting.detected, true);
    assert.match(analysis.overfitting.detail, /validation loss rose from 0\.6000 at step 20 to 0\.9500 at step 40 .* while training loss kept falling/);
    assert.equal(analysis.curve.length, 40);
  });

  it('takes the final checkpoint under "final" and the most accurate under "best_valid_accuracy"', () => {
    const final = analyzeMetrics({ checkpoints: kept, rows, policy: 'final' });
    assert.equal(final.chosen.step, 40);
    assert.match(final.reason, /policy "final"/);
    const accurate = analyzeMetrics({ checkpoints: [...kept].reverse(), rows, policy: 'best_valid_accuracy' });
    assert.equal(accurate.chosen.step, 20);
    assert.match(accurate.reason, /highest validation token accuracy, 0\.8000/);
  });

  it('fills a checkpoint\'s missing metrics from results.csv', () => {
    const bare = [20, 30, 40].map((s) => checkpoint(s, rows, false));
    const analysis = analyzeMetrics({ checkpoints: bare, rows });
    assert.equal(analysis.chosen.step, 20);
    assert.equal(analysis.chosen.metrics.fullValidLoss, 0.6);
  });

  it('does not flag a curve whose validation loss keeps falling', () => {
    const healthy = rows.map((r) => (r.fullValidLoss === null ? r : { ...r, fullValidLoss: 1.5 - r.step / 40 }));
    const analysis = analyzeMetrics({ checkpoints: [20, 30, 40].map((s) => checkpoint(s, healthy)), rows: healthy });
    assert.equal(analysis.chosen.step, 40);
    assert.match(analysis.reason, /it is also the final one/);
    assert.deepEqual(analysis.overfitting.detected, false);
    assert.match(analysis.overfitting.detail, /no sign of overfitting/);
  });

  it('falls back to the final checkpoint, saying why, without validation metrics', () => {
    const noValidation = rows.map((r) => ({ ...r, validLoss: null, validMeanTokenAccuracy: null, fullValidLoss: null, fullValidMeanTokenAccuracy: null }));
    const checkpoints = [20, 30, 40].map((s) => checkpoint(s, noValidation, false));
    for (const policy of ['lowest_valid_loss', 'best_valid_accuracy'] as const) {
      const analysis = analyzeMetrics({ checkpoints, rows: noValidation, policy });
      assert.equal(analysis.chosen.step, 40);
      assert.match(analysis.reason, /no checkpoint has a validation .*fell back to the final checkpoint \(step 40\)/);
      assert.equal(analysis.overfitting.detected, false);
      assert.match(analysis.overfitting.detail, /not judged/);
    }
  });

  it('works from the checkpoints alone when results.csv is missing', () => {
    const analysis = analyzeMetrics({ checkpoints: kept, rows: [] });
    assert.equal(analysis.chosen.step, 20);
    assert.equal(analysis.overfitting.detected, true);
    assert.deepEqual(analysis.curve, []);
  });

  it('refuses a job without checkpoints', () => {
    assert.throws(() => analyzeMetrics({ checkpoints: [], rows }), /no checkpoints/);
  });
});

describe('curve downsampling', () => {
  it('keeps at most 200 rows, including the first, the last, every epoch end and checkpoint', () => {
    const rows: ResultsRow[] = Array.from({ length: 5000 }, (_, i) => ({
      step: i + 1, trainLoss: 1 / (i + 1), trainMeanTokenAccuracy: null, validLoss: null, validMeanTokenAccuracy: null,
      fullValidLoss: (i + 1) % 1000 === 0 ? 0.5 : null, fullValidMeanTokenAccuracy: null,
    }));
    const curve = downsampleCurve(rows, [1234]);
    assert.ok(curve.length <= MAX_CURVE_ROWS && curve.length >= MAX_CURVE_ROWS - 1, `${curve.length} rows`);
    const steps = curve.map((r) => r.step);
    for (const s of [1, 1000, 1234, 2000, 3000, 4000, 5000]) assert.ok(steps.includes(s), `step ${s} kept`);
    assert.deepEqual(steps, [...steps].sort((a, b) => a - b));
    assert.equal(new Set(steps).size, steps.length);
    assert.ok(JSON.stringify(analyzeMetrics({ checkpoints: [{ id: 'c', model: 'm', step: 5000, metrics: { ...rows[4999]! } }], rows }).curve).length < 40_000);
  });
});
