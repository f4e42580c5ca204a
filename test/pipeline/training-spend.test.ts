/** Money and automatic evaluations during the run, as pure functions of what Azure reports (src/pipeline/cost.ts, outcomes.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accrueTrainingTime, budgetPauseReason, estimateTrainingCost, trainedSeconds, trainingSpend } from '../../src/pipeline/cost';
import { billedHoursFrom, billedTokensFrom, stopEarlyReason } from '../../src/pipeline/outcomes';
import type { AutomaticEvaluation, JobSnapshot, PipelineStatus, ValidationSummary } from '../../src/pipeline/types';

const step = (n: number, at: number) => ({ createdAt: at, message: `Step ${n}: training loss=0.5` });
const note = (message: string, at: number) => ({ createdAt: at, message });

function job(overrides: Partial<JobSnapshot> = {}): JobSnapshot {
  return {
    id: 'ftjob-1', status: 'running', model: 'm', fineTunedModel: null, createdAt: 0, finishedAt: null, estimatedFinish: null, seed: 1,
    trainingType: null, epochs: 2, batchSize: 2, trainedTokens: null, resultFiles: [], error: null, ...overrides,
  };
}

const validation = { examples: { training: 10, validation: null }, epochs: { count: 2, source: 'explicit' }, billedTokensEstimate: 20_000 } as ValidationSummary;
type SpendInput = Parameters<typeof trainingSpend>[0];
const progress = (n: number): PipelineStatus['progress'] => ({ step: n, totalSteps: 10, percent: null, etaSeconds: null });

describe('training spend during the run', () => {
  it('counts the gaps between Azure\'s step events, not across a pause, and each step after a break at the mean', () => {
    let time = accrueTrainingTime(undefined, [step(1, 100), step(2, 160), step(3, 220)]);
    assert.deepEqual([time.countedSeconds, time.countedGaps, time.uncountedSteps], [120, 2, 1]);
    time = accrueTrainingTime(time, [note('Pausing job at step 3.', 230), note('Job paused at step 3; a deployable checkpoint was created.', 240), note('Resuming job.', 5000), step(4, 5060), step(5, 5120)]);
    assert.deepEqual([time.countedSeconds, time.countedGaps, time.uncountedSteps], [180, 3, 2], 'the paused hours are not training');
    assert.equal(trainedSeconds(time), 180 + 60 * 2);
    assert.equal(trainedSeconds(accrueTrainingTime(undefined, [step(1, 100)])), 0, 'one step: no step time measured yet');
  });

  it('prices reinforcement fine-tuning by the hours counted, supervised by the steps, and prefers Azure\'s billed figure', () => {
    const rftCost = estimateTrainingCost({ catalogModel: 'o4-mini', method: 'reinforcement', trainingType: 'Standard', validation: null });
    const hours = accrueTrainingTime(undefined, [step(1, 0), step(2, 3600), step(3, 7200)]);
    const rft: SpendInput = { job: job(), cost: rftCost, validation: null, progress: progress(3), trainingTime: hours };
    assert.deepEqual(trainingSpend(rft), { usd: 330, source: 'counted', basis: '3.00 training hours between Azure\'s step events x $110 per hour' });
    assert.equal(trainingSpend({ ...rft, trainingTime: undefined }).usd, null, 'no step time yet: not counted');
    // Azure's "Training hours billed" wins over the count.
    assert.deepEqual(trainingSpend({ ...rft, job: job({ status: 'succeeded', billedHours: 2.5 }) }), { usd: 275, source: 'azure', basis: 'Azure billed 2.5 training hours x $110 per hour' });

    const sftCost = estimateTrainingCost({ catalogModel: 'gpt-4.1-mini', method: 'supervised', trainingType: 'Global', validation });
    const sft: SpendInput = { job: job(), cost: sftCost, validation, progress: progress(5), trainingTime: undefined };
    // 20,000 billed tokens over 2 epochs of 10 examples: 1,000 an example; 5 steps of batch 2 = 10,000 tokens at $5 per 1M.
    assert.deepEqual(trainingSpend(sft), { usd: 0.05, source: 'counted', basis: '5 steps x batch 2 x 1000.0 billed tokens per example = 10000 tokens x $5 per 1M' });
    assert.equal(trainingSpend({ ...sft, job: job({ status: 'succeeded', billedTokens: 30_000 }) }).source, 'azure');
    assert.equal(trainingSpend({ ...sft, job: job({ status: 'succeeded', billedTokens: 30_000 }) }).usd, 0.15);
    assert.equal(trainingSpend({ ...sft, validation: null }).usd, null, 'a URL or file id: no billed tokens per example');
  });

  it('reads Azure\'s billed events in both wordings (the recordings\' 2025 tokens and 2024 hours)', () => {
    assert.equal(billedTokensFrom('Training tokens billed: 13000'), 13_000);
    assert.equal(billedTokensFrom('Training hours billed: 0.500'), null);
    assert.equal(billedHoursFrom('Training hours billed: 0.500'), 0.5);
    assert.equal(billedHoursFrom('Training hours billed: 1,204.250'), 1204.25);
    assert.equal(billedHoursFrom('Training tokens billed: 13000'), null);
    assert.equal(billedHoursFrom('Step 3: training loss=0.5'), null);
  });

  it('pauses only past the budget, with the figure and its basis', () => {
    assert.equal(budgetPauseReason(undefined, { usd: 10, source: 'counted', basis: 'b' }), undefined);
    assert.equal(budgetPauseReason(10, { usd: 10, source: 'counted', basis: 'b' }), undefined, 'at the budget is within it');
    assert.equal(budgetPauseReason(10, { usd: null, source: null, basis: 'b' }), undefined);
    assert.match(budgetPauseReason(10, { usd: 10.5, source: 'counted', basis: 'why' }) ?? '', /^the training spend \$10\.50 passed budget\.maxTrainingUsd \$10\.00 \(why\): ftpipe paused the job/);
  });
});

describe('evaluation.stopEarly on the automatic evaluations', () => {
  const at = (...losses: (number | null)[]): AutomaticEvaluation[] => losses.map((l, i) => ({ checkpointId: `ftchkpt-${i}`, step: (i + 1) * 10, fullValidLoss: l, fullValidMeanTokenAccuracy: null }));

  it('stops after `patience` evaluations that do not beat the best by more than minDelta', () => {
    assert.equal(stopEarlyReason(at(1, 0.8, 0.7), { patience: 1, minDelta: 0 }), undefined, 'still improving');
    assert.equal(stopEarlyReason(at(1, 0.8, 0.85), { patience: 2, minDelta: 0 }), undefined, 'one flat evaluation is not two');
    assert.match(stopEarlyReason(at(1, 0.8, 0.85, 0.8), { patience: 2, minDelta: 0 }) ?? '', /full validation loss 0\.8 at step 40, no better than 0\.8 at step 20 by more than 0 for 2 evaluations/);
    assert.ok(stopEarlyReason(at(1, 0.8, 0.79, 0.785), { patience: 2, minDelta: 0.05 }), 'improvements below minDelta are flat');
    assert.equal(stopEarlyReason(at(null, null, null), { patience: 1, minDelta: 0 }), undefined, 'no validation figures: nothing to judge');
    assert.equal(stopEarlyReason([...at(1, 0.8, 0.9, 0.95)].reverse(), { patience: 2, minDelta: 0 }) !== undefined, true, 'ordered by step, whatever the order read');
  });
});
