import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ControlOutcome } from '../../workflows/messages';
import { approveUpdate, copyToRegionSignal, copyToRegionUpdate, pauseSignal, pauseUpdate, rejectSignal, resumeUpdate } from '../../workflows/messages';
import { holdClockOnceTraining } from '../helpers/emulator-state';
import { uniqueTrainingFile, usePipelineStack } from '../helpers/pipeline';

/** A slow emulated clock, so that the pause test's probe sees the job's first step; the other tests act after training. */
const PAUSING_CLOCK = 200;

/** Emulated ARM waits made short, so deployments and copies finish in real milliseconds at the test clock. */
const FAST_DEPLOYMENTS = { deploymentCreateSeconds: 30, deploymentDeleteSeconds: 10, deploymentNotReadySeconds: 20, copySeconds: 60 };

// What a caller asks of a run is carried out once, or refused with the reason; nothing stays pending or queued forever.
describe('requests to a run: each carried out once or refused with the reason', () => {
  const env = usePipelineStack({ timings: FAST_DEPLOYMENTS });

  it('sends a pause update to Azure once, even when the monitor polls while the pause is in flight', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const clockScale = env.emulator.control.clockScale();
    env.emulator.control.setClockScale(PAUSING_CLOCK);
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ hyperparameters: { nEpochs: 2 } }));
      // Azure's clock stops once the job has trained a step: however loaded the machine, the job is still training
      // when the pause reaches Azure (the workflow's own view of the step lags by up to a few polls).
      // Stopped in the probe's own tick (holdClockOnceTraining); bounded like the run's other waits, not by until's
      // 60 s default: at load ~30 preparing the run (validate, upload, create, Azure's pending) took longer than that.
      await holdClockOnceTraining(env.emulator, handle.workflowId, 8 * 60_000);
      try {
        // Azure answers this pause slowly: the monitor polls (every 0.2 s) and looks at the run's requests meanwhile.
        env.emulator.control.addFault({ route: 'jobs.pause', action: 'latency', latencyMs: 3000, times: 1 });
        const paused = await handle.executeUpdate<ControlOutcome, [object]>(pauseUpdate, { args: [{ by: 'alice' }] });
        assert.ok(['pausing', 'paused'].includes(paused.jobStatus), paused.jobStatus);
      } finally {
        // A pausing job trains no further: the clock runs fast from here.
        env.emulator.control.setClockScale(clockScale);
      }
      const whilePaused = await env.waitForStatus(handle, (s) => s.job?.status === 'paused');
      assert.deepEqual(whilePaused.requests.map((r) => [r.kind, r.via, r.state]), [['pause', 'update', 'done']]);
      await handle.executeUpdate(resumeUpdate, { args: [{}] });
      assert.equal((await handle.result()).outcome, 'succeeded');
    });
    const pauses = env.emulator.control.requests().filter((r) => r.route === 'jobs.pause');
    assert.equal(pauses.length, 1, 'one pause reached Azure');
  });

  it('refuses a pause signal that arrives after training, with the reason, instead of leaving it pending', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ deployment: { name: 'late-pause', requireApproval: true, type: 'GlobalStandard' } }));
      await env.waitForStatus(handle, (s) => s.stage === 'await_approval');
      await handle.signal(pauseSignal, { by: 'ui' });
      const status = await env.waitForStatus(handle, (s) => s.requests.some((r) => r.kind === 'pause' && r.state !== 'pending'), 15_000);
      const pause = status.requests.find((r) => r.kind === 'pause');
      assert.equal(pause?.state, 'refused');
      assert.match(pause?.reason ?? '', /training is over: Azure reports job ftjob-\w+ is succeeded/);
      await handle.signal(rejectSignal, { by: 'test' });
      assert.equal((await handle.result()).outcome, 'not_promoted');
    });
  });

  it('refuses a copy asked for after the run awaited its copies, instead of queueing one that never starts', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const eus2 = env.emulator.account('ftpipe-eus2');
    await worker.runUntil(async () => {
      // Cleanup deletes the uploaded file (the run's own: unique content) slowly: the copy arrives while the run is in its cleanup stage.
      env.emulator.control.addFault({ route: 'files.delete', action: 'latency', latencyMs: 3000, times: 1 });
      const handle = await env.start(taskQueue, env.input({ training: { path: uniqueTrainingFile() }, validation: undefined, cleanup: { uploadedFiles: 'always' } }));
      await env.waitForStatus(handle, (s) => s.stage === 'cleanup');
      await assert.rejects(
        handle.executeUpdate(copyToRegionUpdate, { args: [{ destinationResourceId: eus2.armId, region: 'eastus2' }] }),
        (err: Error) => err instanceof WorkflowUpdateFailedError && /copies are closed/.test((err.cause as Error).message),
      );
      const result = await handle.result();
      assert.deepEqual(result.copies, []);
    });
  });

  it('checks the deploy of a copy asked for during the run before copying the checkpoint: an unknown or mismatched profile fails that copy, with no copy request to Azure', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const ncus = env.emulator.account('ftpipe-ncus');
    const eus2 = env.emulator.account('ftpipe-eus2');
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ deployment: { name: 'late-copy', type: 'GlobalStandard', requireApproval: true } }));
      await env.waitForStatus(handle, (s) => s.stage === 'await_approval');
      const copiesBefore = env.emulator.control.requests({ route: 'checkpoints.copy' }).length;
      await handle.executeUpdate(copyToRegionUpdate, { args: [{ destinationResourceId: ncus.armId, region: 'northcentralus', deploy: { profile: 'nowhere', name: 'late-ncus', type: 'GlobalStandard', capacity: 1 } }] });
      await handle.executeUpdate(copyToRegionUpdate, { args: [{ destinationResourceId: eus2.armId, region: 'eastus2', deploy: { profile: 'ftpipe-ncus', name: 'late-eus2', type: 'GlobalStandard', capacity: 1 } }] });
      await handle.executeUpdate(approveUpdate, { args: [{ by: 'test' }] });
      const result = await handle.result();
      assert.equal(result.outcome, 'succeeded');
      assert.deepEqual(result.copies.map((c) => c.status), ['Failed', 'Failed']);
      assert.match(result.copies[0]?.error ?? '', /^copy\.deploy\.profile: unknown profile "nowhere"; this worker has: .*ftpipe-ncus/);
      assert.match(result.copies[1]?.error ?? '', new RegExp(`^copy\\.deploy\\.profile: profile "ftpipe-ncus" is account ${ncus.armId}, not the copy's destination ${eus2.armId}`));
      assert.equal(env.emulator.control.requests({ route: 'checkpoints.copy' }).length, copiesBefore, 'no checkpoint was copied');
    });
  });

  it('keeps a refused signal in status.requests and the current details until the next stage; a refused update answers its reason', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const details = async (handle: { query: <R>(name: string) => Promise<R> }): Promise<string> =>
      (await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails ?? '';
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ deployment: { name: 'refusals', requireApproval: true, type: 'GlobalStandard' } }));
      await env.waitForStatus(handle, (s) => s.stage === 'await_approval');
      await handle.signal(copyToRegionSignal.name, { region: 'eastus2' });
      const refused = await env.waitForStatus(handle, (s) => s.requests.some((r) => r.kind === 'copyToRegion'));
      assert.deepEqual(refused.requests.map((r) => [r.kind, r.via, r.state]), [['copyToRegion', 'signal', 'refused']]);
      assert.match(refused.requests[0]?.reason ?? '', /destinationResourceId/);
      assert.match(await details(handle), /^stage: await_approval\n[\s\S]*\nrefused: copyToRegion signal: .*destinationResourceId/);
      // An update refused by its validator answers with the reason, readable (not an encoded failure).
      await assert.rejects(handle.executeUpdate(pauseUpdate, { args: [{}] }), (err: Error) => {
        const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
        return cause instanceof ApplicationFailure && cause.type === 'RequestRefused' && /^cannot pause: job ftjob-\w+ has ended \(succeeded\)$/.test(cause.message);
      });
      await handle.signal(rejectSignal, { by: 'test' });
      assert.equal((await handle.result()).outcome, 'not_promoted');
      assert.doesNotMatch(await details(handle), /refused:/, 'shown until the next stage only');
    });
  });
});
