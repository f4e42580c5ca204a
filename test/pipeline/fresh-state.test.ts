/**
 * Refusals are fresh: a pause or resume is decided on the job's state as Azure reports it now, not on the state of the
 * last poll (which, while a job waits, may be many minutes old).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOpenAIClient } from '../../src/azure/clients';
import { EMULATOR_PROFILE } from '../../src/stack/emulator-profiles';
import { usePipelineStack } from '../helpers/pipeline';
import { pauseUpdate, resumeSignal, statusQuery } from '../../workflows/messages';

describe('pause and resume decide on the state Azure reports now', () => {
  // A slow clock with short waits: the job is queued for about a second, then trains a step about every second.
  const env = usePipelineStack({ clockScale: 20, timings: { jobValidationSeconds: 10, jobQueueSeconds: 20, pauseSeconds: 10, resumeSeconds: 10 } });

  it('pauses a job that started running after the last poll saw it waiting, and resumes it once Azure reports it paused', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      // The run polls a waiting job once an hour: its own view stays "waiting" while Azure starts training.
      const polling = { queuedIntervalSeconds: 3600, runningIntervalSeconds: 3600, nearFinishIntervalSeconds: 3600, fileIntervalSeconds: 0.1, deploymentIntervalSeconds: 0.1 };
      const handle = await env.start(taskQueue, env.input({ polling, hyperparameters: { nEpochs: 3 } }));
      const seen = await env.waitForStatus(handle, (s) => s.job !== null, 60_000);
      assert.ok(['pending', 'validating_files', 'queued'].includes(seen.job!.status), seen.job!.status);

      const profile = env.config.profiles.find((p) => p.name === EMULATOR_PROFILE)!;
      const azure = createOpenAIClient(profile, env.workerEnv);
      for (let i = 0; i < 600; i++) {
        const events = await azure.fineTuning.jobs.listEvents(seen.job!.id, { limit: 50 });
        if (events.data.some((e) => e.type === 'metrics')) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const stale = await handle.query(statusQuery);
      assert.notEqual(stale.job?.status, 'running', 'the run has not polled since the job started');

      const paused = await handle.executeUpdate(pauseUpdate, { args: [{ by: 'alice' }] });
      assert.ok(['pausing', 'paused'].includes(paused.jobStatus), paused.jobStatus);

      // Once Azure reports the job paused, a resume signal is decided on that (the run last saw "pausing").
      for (let i = 0; i < 600 && (await azure.fineTuning.jobs.retrieve(seen.job!.id)).status !== ('paused' as string); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      await handle.signal(resumeSignal, { by: 'bob' });
      const resumed = await env.waitForStatus(handle, (s) => s.requests.some((r) => r.kind === 'resume' && r.state !== 'pending'), 60_000);
      assert.deepEqual(resumed.requests.map((r) => [r.kind, r.via, r.state, r.by]), [['pause', 'update', 'done', 'alice'], ['resume', 'signal', 'done', 'bob']], JSON.stringify(resumed.requests));
      await handle.cancel();
    });
  });
});
