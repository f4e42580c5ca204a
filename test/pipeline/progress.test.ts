/**
 * Progress and polling pace from what Azure really sends (recorded): `estimated_finish` from creation (about
 * created_at + 900 s) that is long past while the job still trains, no `total_steps` in metrics events, hyperparameters
 * -1 until training starts, `trainingType` spelled `globalStandard`, the final checkpoint named `fine_tuned_model`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FineTuningJob } from 'openai/resources/fine-tuning/jobs/jobs';
import { snapshot, totalSteps } from '../../activities/jobs';
import { checkpointDeployName, sameModel } from '../../src/azure/requests';
import { nextProgress, pollIntervalSeconds, type Progress } from '../../src/pipeline/progress';
import type { JobSnapshot } from '../../src/pipeline/types';

const POLLING = { queuedIntervalSeconds: 300, runningIntervalSeconds: 60, nearFinishIntervalSeconds: 15 };
const CREATED = 1_750_000_000;

/** A job as Azure's dated API answers it (fields absent rather than null), running, days after its estimated_finish. */
function azureJob(overrides: Record<string, unknown> = {}): FineTuningJob {
  return {
    id: 'ftjob-0123456789abcdef0123456789abcdef', object: 'fine_tuning.job', created_at: CREATED, status: 'running', model: 'gpt-4.1-2025-04-14',
    training_file: 'file-aaaa', seed: 7, hyperparameters: { n_epochs: -1, batch_size: -1, learning_rate_multiplier: 1 }, estimated_finish: CREATED + 900,
    trainingType: 'globalStandard', error: null, result_files: [], ...overrides,
  } as unknown as FineTuningJob;
}

const empty: Progress = { step: null, totalSteps: null, percent: null, etaSeconds: null };

describe('progress and polling from what Azure sends', () => {
  it('reads Azure\'s job: resolved model, -1 hyperparameters as unknown, trainingType as Azure spells it', () => {
    const before = snapshot(azureJob());
    assert.equal(before.epochs, null);
    assert.equal(before.batchSize, null);
    assert.equal(before.trainingType, 'Global');
    assert.equal(before.seed, 7);
    assert.equal(before.finishedAt, null);
    assert.equal(totalSteps(before, 100), null, 'no total while Azure says -1 (auto)');
    const started = snapshot(azureJob({ hyperparameters: { n_epochs: 3, batch_size: 4, learning_rate_multiplier: 1 } }));
    assert.equal(totalSteps(started, 100), 75);
    assert.equal(snapshot(azureJob({ trainingType: 'developerTier' })).trainingType, 'Developer');
    assert.equal(snapshot(azureJob({ trainingType: 'standard' })).trainingType, 'Standard');
    assert.ok(sameModel('gpt-4.1', 'gpt-4.1-2025-04-14'));
    assert.ok(!sameModel('gpt-4.1', 'gpt-4.1-mini-2025-04-14'));
  });

  it('neither the ETA nor the near-finish pace trusts an estimated_finish that passed days ago', () => {
    const job: JobSnapshot = snapshot(azureJob({ hyperparameters: { n_epochs: 3, batch_size: 4, learning_rate_multiplier: 1 } }));
    const now = CREATED + 3 * 86_400;
    const poll = (step: number) => ({ job, latestMetrics: { step, trainLoss: 1, trainMeanTokenAccuracy: 0.5, validLoss: null, validMeanTokenAccuracy: null, fullValidLoss: null, fullValidMeanTokenAccuracy: null }, totalSteps: 1000 });
    const first = nextProgress(empty, poll(100), now);
    assert.equal(first.etaSeconds, null, 'one sample gives no rate, and estimated_finish is not used');
    assert.equal(pollIntervalSeconds(job, first, POLLING), POLLING.runningIntervalSeconds, 'not the near-finish pace');
    const second = nextProgress(first, poll(200), now + 600);
    assert.equal(second.percent, 20);
    assert.equal(second.etaSeconds, 4800, '800 steps left at 100 steps per 600 s');
    assert.equal(pollIntervalSeconds(job, second, POLLING), POLLING.runningIntervalSeconds);
    const near = nextProgress(second, poll(990), now + 600 * 8.9);
    assert.ok(near.etaSeconds !== null && near.etaSeconds <= 2 * POLLING.runningIntervalSeconds);
    assert.equal(pollIntervalSeconds(job, near, POLLING), POLLING.nearFinishIntervalSeconds);
    const paused = nextProgress(near, { ...poll(990), job: { ...job, status: 'paused' } }, now + 6000);
    assert.equal(paused.rateFrom, null, 'the rate is measured afresh after a pause');
    assert.equal(pollIntervalSeconds({ ...job, status: 'paused' }, paused, POLLING), POLLING.queuedIntervalSeconds);
    assert.equal(pollIntervalSeconds({ ...job, status: 'pending' }, empty, POLLING), POLLING.queuedIntervalSeconds);
  });

  it('deploys the final checkpoint (named fine_tuned_model by Azure) by fine_tuned_model, earlier ones by their ftchkpt- id', () => {
    const ftm = 'gpt-4.1-mini-2025-04-14.ft-0123456789abcdef0123456789abcdef';
    assert.equal(checkpointDeployName({ id: 'ftchkpt-a', fineTunedModelCheckpoint: ftm, step: 30 }, ftm, 30), ftm);
    assert.equal(checkpointDeployName({ id: 'ftchkpt-b', fineTunedModelCheckpoint: `${ftm}:ckpt-step-20`, step: 20 }, ftm, 30), 'ftchkpt-b');
  });
});
