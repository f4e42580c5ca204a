import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client';
import { usePipelineStack } from '../helpers/pipeline';
import { sdkWarningsOf } from '../helpers/temporal';
import { holdClockOnceTraining } from '../helpers/emulator-state';
import { until } from '../helpers/until';
import { pauseUpdate, resumeUpdate, statusQuery } from '../../workflows/messages';

/** Every message in an error's cause chain, so an assertion sees Azure's reason under the SDK's wrappers. */
function messages(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = (e as Error & { cause?: unknown }).cause) parts.push(e.message);
  return parts.join(' <- ');
}

/** The states waited for come in seconds; the bound only keeps a broken test from hanging, under any load. */
const WAIT_MS = 8 * 60_000;

describe('a run ends only once its accepted updates have answered', () => {
  const env = usePipelineStack({ clockScale: 200 });

  it('an update still waiting on Azure when the job ends gets its answer before the run completes, with no unfinished-handler warning', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ hyperparameters: { nEpochs: 10 } }));
      // Azure holds still once the job has trained a step (read from the emulator itself, so a loaded machine cannot let
      // the job finish first), and answers the pause with a transient error for as long as the fault stands: the
      // update's handler (its activity retrying) is still running when the job ends.
      await holdClockOnceTraining(env.emulator, handle.workflowId, WAIT_MS);
      const running = await env.waitForStatus(handle, (s) => s.job?.status === 'running' && (s.progress.step ?? 0) >= 1);
      const fault = env.emulator.control.addFault({ route: 'jobs.pause', action: 'error', status: 503 });
      const update = await handle.startUpdate(pauseUpdate, { args: [{ by: 'alice' }], waitForStage: WorkflowUpdateStage.ACCEPTED });
      await until(async () => (env.emulator.control.faults().find((f) => f.id === fault.id)!.fired > 0 ? true : undefined), 'the pause to reach Azure', WAIT_MS);

      // The job finishes; the run goes through collect and cleanup to `completed`, and waits there for the update.
      env.emulator.control.advanceClock(7 * 24 * 3600);
      const completed = await env.waitForStatus(handle, (s) => s.stage === 'completed');
      assert.equal(completed.job?.id, running.job?.id);
      assert.equal((await handle.describe()).status.name, 'RUNNING', 'the run completed under a running update handler');
      // No new pause or resume is taken once training is over.
      await assert.rejects(handle.executeUpdate(resumeUpdate, { args: [{}] }), (err: Error) => err instanceof WorkflowUpdateFailedError && /cannot resume: job ftjob-\w+ has ended \(succeeded\)/.test(messages(err)));

      // Azure answers again: the pause of a finished job is refused, and the caller gets that refusal, not "workflow completed".
      env.emulator.control.clearFaults();
      await assert.rejects(update.result(), (err: unknown) => {
        assert.ok(err instanceof WorkflowUpdateFailedError, messages(err));
        assert.match(messages(err), /cannot be paused/);
        return true;
      });
      assert.equal((await handle.result()).outcome, 'succeeded');
      const requests = (await handle.query(statusQuery)).requests.map((r) => [r.kind, r.via, r.state, r.by]);
      assert.deepEqual(requests, [['pause', 'update', 'refused', 'alice']]);
      assert.deepEqual(sdkWarningsOf(handle.workflowId).filter((m) => m.includes('TMPRL1102')), []);
    });
  });
});
