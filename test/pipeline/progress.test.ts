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
import { barLine } from '../../src/cli/progress-bar';
import { credibleFinishSeconds, ESTIMATED_FINISH_AGREEMENT, JOB_CLOCK_AHEAD_SECONDS, formatProgressLine, nextProgress, pollIntervalSeconds, progressView, trainingEta, type Progress } from '../../src/pipeline/progress';
import type { JobSnapshot, PipelineStatus, TrainingMetrics } from '../../src/pipeline/types';

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
const metrics: TrainingMetrics = { step: 0, trainLoss: 1, trainMeanTokenAccuracy: 0.5, validLoss: null, validMeanTokenAccuracy: null, fullValidLoss: null, fullValidMeanTokenAccuracy: null };

function statusOf(job: JobSnapshot): PipelineStatus {
  return {
    runName: 'r1', profile: 'p', baseModel: 'gpt-4.1-mini', stage: 'train', job, progress: empty, latestMetrics: null, recentEvents: [], files: [], validation: null,
    timeline: [], requests: [], errors: [], continuations: 0, evaluation: null, approval: null, deployments: [], copies: [], curve: [], results: null, admission: null, cost: null,
  };
}

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

  it('takes Azure\'s estimated_finish only when credible: running, after now, agreeing with the step rate or the only figure', () => {
    const running: JobSnapshot = snapshot(azureJob({ hyperparameters: { n_epochs: 3, batch_size: 4, learning_rate_multiplier: 1 } }));
    const now = CREATED + 300;
    const finishIn = (seconds: number): JobSnapshot => ({ ...running, estimatedFinish: now + seconds });
    // The rule itself.
    assert.equal(credibleFinishSeconds(finishIn(600), 10, 500, now), 600, 'agrees with the step rate within the factor');
    assert.equal(credibleFinishSeconds(finishIn(600), 10, 600 * ESTIMATED_FINISH_AGREEMENT + 1, now), null, 'the steps say much longer');
    assert.equal(credibleFinishSeconds(finishIn(600), 10, Math.floor(600 / ESTIMATED_FINISH_AGREEMENT) - 1, now), null, 'the steps say much shorter');
    assert.equal(credibleFinishSeconds(finishIn(600), 10, null, now), 600, 'the only figure once steps move');
    assert.equal(credibleFinishSeconds(finishIn(600), 0, null, now), null, 'no step trained yet: Azure\'s creation-time guess');
    assert.equal(credibleFinishSeconds(finishIn(600), null, null, now), null);
    assert.equal(credibleFinishSeconds(finishIn(-5), 10, null, now), null, 'already passed');
    assert.equal(credibleFinishSeconds({ ...finishIn(600), status: 'queued' }, 10, null, now), null, 'not running');
    assert.equal(credibleFinishSeconds({ ...running, estimatedFinish: null }, 10, null, now), null);

    // Through the poll: one sample and no total, Azure's estimate is the only figure.
    const step = (n: number) => ({ ...metrics, step: n });
    const first = nextProgress(empty, { job: finishIn(600), latestMetrics: step(10), totalSteps: null }, now);
    assert.equal(first.etaSeconds, 600);
    assert.equal(first.etaBasis, 'estimated_finish');
    assert.equal(trainingEta(first, now + 60), 'ETA 9m00s (Azure\'s estimated_finish)', 'counted down from the poll');
    assert.equal(trainingEta(first, now + 60, now + 30), 'ETA 9m00s (Azure\'s estimated_finish)', 'a job created a little "after" the poll: clock skew');
    // The emulator's scaled clock: the job's created_at lies after the poll that read it, so Azure's figure is another
    // clock's time (a 30 s job read "ETA 2h09m (Azure's estimated_finish)" under --clock-scale 100).
    assert.equal(trainingEta(first, now + 60, now + JOB_CLOCK_AHEAD_SECONDS + 1), 'ETA unknown: the step total is known once Azure settles epochs and batch size');
    assert.equal(progressView({ ...statusOf({ ...finishIn(600), createdAt: now + 3_000 }), progress: { ...first, totalSteps: 75 } }, now + 60).eta, 'ETA unknown: measuring the step rate');
    // Two samples: 10 steps per 100 s, 55 left = 550 s by the rate; Azure says 500 s from then: they agree, Azure's wins.
    const agreeing = nextProgress(nextProgress(empty, { job: finishIn(600), latestMetrics: step(10), totalSteps: 75 }, now), { job: finishIn(600), latestMetrics: step(20), totalSteps: 75 }, now + 100);
    assert.equal(agreeing.etaSeconds, 500);
    assert.equal(agreeing.etaBasis, 'estimated_finish');
    // Azure's created_at + 900 while the steps say hours: the step rate, said plainly.
    const slow = nextProgress(nextProgress(empty, { job: finishIn(600), latestMetrics: step(1), totalSteps: 1000 }, now), { job: finishIn(600), latestMetrics: step(2), totalSteps: 1000 }, now + 100);
    assert.equal(slow.etaSeconds, 99_800);
    assert.equal(slow.etaBasis, 'step_rate');
    assert.equal(trainingEta(slow, now + 100), 'ETA 27h43m');
    // Neither figure: unknown, never invented.
    const none = nextProgress(empty, { job: { ...running, estimatedFinish: CREATED + 900 }, latestMetrics: step(10), totalSteps: 75 }, CREATED + 5000);
    assert.equal(none.etaSeconds, null);
    assert.equal(none.etaBasis, null);
    assert.equal(trainingEta(none, CREATED + 5000), 'ETA unknown: measuring the step rate');
    // The CLI bar and `ftpipe status` show which figure it is.
    const view = progressView({ ...statusOf(running), progress: agreeing }, now + 100);
    assert.equal(barLine(view), "train      | training | |██████░░░░░░░░░░░░░░░░░░| 20/75 steps | ETA 8m20s (Azure's estimated_finish)");
  });

  it('deploys the final checkpoint (named fine_tuned_model by Azure) by fine_tuned_model, earlier ones by their ftchkpt- id', () => {
    const ftm = 'gpt-4.1-mini-2025-04-14.ft-0123456789abcdef0123456789abcdef';
    assert.equal(checkpointDeployName({ id: 'ftchkpt-a', fineTunedModelCheckpoint: ftm, step: 30 }, ftm, 30), ftm);
    assert.equal(checkpointDeployName({ id: 'ftchkpt-b', fineTunedModelCheckpoint: `${ftm}:ckpt-step-20`, step: 20 }, ftm, 30), 'ftchkpt-b');
  });
});

describe('what the run is doing now: the CLI bar, status and watch', () => {
  const job = snapshot(azureJob({ hyperparameters: { n_epochs: 3, batch_size: 4, learning_rate_multiplier: 1 } }));
  const status = (overrides: Partial<PipelineStatus>): PipelineStatus => ({
    runName: 'r1', profile: 'p', baseModel: 'gpt-4.1-mini', stage: 'train', job, progress: empty, latestMetrics: null, recentEvents: [], files: [], validation: null,
    timeline: [], requests: [], errors: [], continuations: 0, evaluation: null, approval: null, deployments: [], copies: [], curve: [], results: null, admission: null, cost: null,
    ...overrides,
  });
  const now = CREATED + 10_000;

  it('names a waiting job as waiting, never as 0/1 steps', () => {
    for (const [jobStatus, words] of [['pending', /Azure job pending/], ['validating_files', /validating the files/], ['queued', /Azure job queued/], ['paused', /Azure job paused/]] as const) {
      const view = progressView(status({ job: { ...job, status: jobStatus } }), now);
      assert.match(view.doing, words);
      assert.equal(view.unit, null);
      assert.equal(view.eta, null, `${jobStatus}: no ETA`);
      assert.doesNotMatch(barLine(view), /\d+\/\d+ steps/);
    }
    const preempted = progressView(status({ job: { ...job, status: 'paused' }, azureHold: { cause: 'preemption', action: 'wait_for_azure', explanation: 'Developer-tier preemption; Azure resumes it' } }), now);
    assert.equal(preempted.doing, 'Azure paused the job: Developer-tier preemption; Azure resumes it');
    const slot = progressView(status({ stage: 'await_slot', job: null, admission: { queue: 'q', resource: 'res', state: 'waiting', position: 2, reason: 'position 2: the resource has 0 of 3 job slots free', amounts: {} as never, requestedAt: '', grantedAt: null, waitedSeconds: null } }), now);
    assert.equal(barLine(slot), 'await_slot | queued for a slot on the Azure resource: position 2: the resource has 0 of 3 job slots free');
  });

  it('shows the training ETA only when measured, counted down from the poll that measured it', () => {
    const running = { ...job, status: 'running' as const };
    const noTotal = progressView(status({ job: running, progress: { ...empty, step: 5 } }), now);
    assert.equal(barLine(noTotal), 'train      | training | 5/? steps | ETA unknown: the step total is known once Azure settles epochs and batch size');
    const noRate = progressView(status({ job: running, progress: { ...empty, step: 5, totalSteps: 75, percent: 6.7 } }), now);
    assert.equal(noRate.eta, 'ETA unknown: measuring the step rate');
    const measured = nextProgress(nextProgress(empty, { job: running, latestMetrics: { ...metrics, step: 10 }, totalSteps: 75 }, now), { job: running, latestMetrics: { ...metrics, step: 20 }, totalSteps: 75 }, now + 100);
    assert.equal(measured.etaSeconds, 550);
    assert.equal(progressView(status({ job: running, progress: measured }), now + 100).eta, 'ETA 9m10s');
    assert.equal(progressView(status({ job: running, progress: measured }), now + 400).eta, 'ETA 4m10s', 'counts down between polls');
    assert.equal(progressView(status({ job: running, progress: measured }), now + 700).eta, 'ETA due now (the next poll measures again)', 'never a negative or stale figure');
    assert.match(barLine(progressView(status({ job: running, progress: measured }), now + 100)), /^train +\| training \| \|█+░+\| 20\/75 steps \| ETA 9m10s$/);
  });

  it('after training, shows the stage\'s own task from its activity\'s heartbeat: eval items n/N, a deployment\'s state', () => {
    const done = { ...job, status: 'succeeded' as const };
    const evaluating = progressView(status({ stage: 'evaluate', job: done, progress: { ...empty, step: 75, totalSteps: 75, etaSeconds: 0 } }), now, [{ type: 'runEvalSet', attempt: 1, details: { done: 12, total: 40, prefix: 10, prefixSums: {} } }]);
    assert.equal(barLine(evaluating), 'evaluate   | scoring the eval set | |███████░░░░░░░░░░░░░░░░░| 12/40 items');
    const beforeHeartbeat = progressView(status({ stage: 'evaluate', job: done }), now, [{ type: 'runEvalSet', attempt: 2, details: null }]);
    assert.equal(barLine(beforeHeartbeat), 'evaluate   | scoring the eval set (attempt 2) | 0/? items');
    const deploying = progressView(status({ stage: 'deploy', job: done }), now, [{ type: 'createDeployment', attempt: 1, details: { deployment: 'support-v3', state: 'Creating' } }]);
    assert.equal(barLine(deploying), 'deploy     | creating deployment support-v3: Creating');
    // The first attempt, before any heartbeat or wait: no name to give, and no gap where one would be.
    const firstAttempt = progressView(status({ stage: 'deploy', job: done }), now, [{ type: 'createDeployment', attempt: 1, details: null }]);
    assert.equal(barLine(firstAttempt), 'deploy     | creating the deployment: requested');
    const deleting = progressView(status({ stage: 'evaluate', job: done }), now, [{ type: 'deleteDeployment', attempt: 1, details: null }]);
    assert.equal(barLine(deleting), 'evaluate   | deleting the deployment: requested');
    const waiting = progressView(status({ stage: 'deploy', job: done }), now, [{ type: 'createDeployment', attempt: 4, details: null, waiting: 'create deployment support-v3 on acct: provisioning state Creating; checking again in 0.4 s' }]);
    assert.equal(barLine(waiting), 'deploy     | create deployment support-v3 on acct: provisioning state Creating', 'a wait for Azure: what it waits for, no attempt count');
    assert.equal(barLine(progressView(status({ stage: 'collect', job: done }), now)), 'collect    | collecting the job\'s results');
    assert.equal(barLine(progressView(status({ stage: 'failed', job: done }), now)), 'failed', 'an ended run\'s stage is said once, not "failed | failed"');
    assert.equal(formatProgressLine(progressView(status({ stage: 'failed', job: done }), now)), 'failed');
    const smoke = progressView(status({ stage: 'deploy', job: done }), now, [{ type: 'smokeTestDeployment', attempt: 1, details: { deployment: 'support-v3', attempts: 2, last: '404 DeploymentNotReady' } }]);
    assert.equal(barLine(smoke), 'deploy     | smoke test of support-v3: 2 call(s), last 404 DeploymentNotReady');
    const copying = progressView(status({ stage: 'copy', job: done }), now, [{ type: 'awaitCheckpointCopy', attempt: 1, details: { status: 'Running' } }]);
    assert.equal(barLine(copying), 'copy       | copying the checkpoint: Running');
    // Without heartbeats (a caller that only queries status): the workflow's own step, with the items the eval signalled.
    const task = { subject: 'checkpoint 1 of 3 (step 10)', doing: 'scoring the eval set', done: 0, total: 4, unit: 'models evaluated' as const, items: { deployment: 'ftpipe-eval-x', done: 4, total: 10 } };
    assert.equal(barLine(progressView(status({ stage: 'evaluate', job: done, task }), now)), 'evaluate   | checkpoint 1 of 3 (step 10): scoring the eval set | |██████████░░░░░░░░░░░░░░| 4/10 items');
    assert.equal(barLine(progressView(status({ stage: 'deploy', job: done, task: { subject: null, doing: 'support-v3: smoke test (one chat completion)', done: null, total: null, unit: null } }), now)), 'deploy     | support-v3: smoke test (one chat completion)');
    assert.match(barLine(progressView(status({ stage: 'await_approval', job: done }), now)), /^await_approval \| awaiting approval \(ftpipe approve r1 --by NAME/);
  });
});
