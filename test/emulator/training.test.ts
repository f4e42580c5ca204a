import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimingsSchema } from '../../src/emulator/config';
import { isEpochEnd, lossCurve, metricsAt, planTraining, resultsCsv, skillAt, validationLoss } from '../../src/emulator/training';

const timings = TimingsSchema.parse({});
const plan = (seed: number, epochs = 6, learningRateMultiplier = 1) =>
  planTraining({ examples: 40, tokensPerEpoch: 4000, batchSize: 4, epochs, learningRateMultiplier, seed, headStartEpochs: 0, hasValidation: true, timings });

describe('emulator training simulation', () => {
  it('derives steps and step duration from examples, batch size, epochs and tokens', () => {
    const p = plan(1);
    assert.equal(p.stepsPerEpoch, 10);
    assert.equal(p.totalSteps, 60);
    // 20 s per step plus 5 s per 1000 tokens in a batch of 4 examples of 100 tokens.
    assert.equal(p.stepMs, 22_000);
    assert.ok(isEpochEnd(p, 10) && !isEpochEnd(p, 11));
  });

  it('overfits for every seed: validation loss is lowest at epoch 2 or 3 and higher at the last epoch', () => {
    for (let seed = 0; seed < 200; seed++) {
      const p = plan(seed);
      const byEpoch = [1, 2, 3, 4, 5, 6].map((e) => metricsAt(p, e * p.stepsPerEpoch, true).full_valid_loss!);
      const best = byEpoch.indexOf(Math.min(...byEpoch)) + 1;
      assert.ok(best === 2 || best === 3, `seed ${seed}: best epoch ${best} (${byEpoch.join(', ')})`);
      assert.ok(byEpoch[5]! > byEpoch[best - 1]!, `seed ${seed}`);
      assert.equal(best, lossCurve(seed).idealEpochs, `seed ${seed}`);
    }
  });

  it('ranks skill exactly against validation loss, within [0, 0.95]', () => {
    const p = plan(9);
    const points = Array.from({ length: p.totalSteps }, (_, i) => ({ skill: skillAt(p, i + 1), loss: validationLoss(p.curve, (i + 1) / p.stepsPerEpoch) }));
    for (const a of points) {
      assert.ok(a.skill >= 0 && a.skill <= 0.95);
      for (const b of points) if (a.loss < b.loss - 1e-3) assert.ok(a.skill >= b.skill, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
  });

  it('writes results.csv with the real header, one row per step, full validation at epoch ends only', () => {
    const p = plan(4, 2);
    const rows = resultsCsv(p, p.totalSteps).trim().split('\n');
    assert.equal(rows[0], 'step,train_loss,train_mean_token_accuracy,valid_loss,valid_mean_token_accuracy,full_valid_loss,full_valid_mean_token_accuracy');
    assert.equal(rows.length, p.totalSteps + 1);
    assert.equal(rows[1]!.split(',')[5], '');
    assert.notEqual(rows[10]!.split(',')[5], '');
    const noValidation = planTraining({ ...p, seed: 4, headStartEpochs: 0, hasValidation: false, timings });
    assert.match(resultsCsv(noValidation, 1).split('\n')[1]!, /^1,[\d.]+,[\d.]+,,,,$/);
  });

  it('scales progress with the learning rate and is identical for the same seed', () => {
    assert.deepEqual(metricsAt(plan(5), 17, true), metricsAt(plan(5), 17, true));
    assert.notDeepEqual(metricsAt(plan(5), 17, true), metricsAt(plan(6), 17, true));
    const slow = plan(5, 6, 0.25);
    const bestSlow = [1, 2, 3, 4, 5, 6].map((e) => metricsAt(slow, e * slow.stepsPerEpoch, true).full_valid_loss!);
    assert.equal(bestSlow.indexOf(Math.min(...bestSlow)), 5, 'a quarter learning rate reaches the ideal point twice as late');
  });
});
