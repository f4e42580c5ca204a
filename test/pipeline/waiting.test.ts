/**
 * Waiting for Azure holds no activity slot (activities/waiting.ts): while Azure processes the uploaded files, each
 * check is one short attempt and Temporal's server holds the wait between attempts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { NOT_DONE_YET } from '../../activities/waiting';
import { uniqueTrainingFile, usePipelineStack } from '../helpers/pipeline';

const { PendingActivityState } = temporal.api.enums.v1;

describe('file processing waits in Temporal, not in an activity slot', () => {
  // At clock scale 1000, Azure takes 4 s (real) to process each file.
  const env = usePipelineStack({ timings: { fileProcessingSeconds: 4000 } });

  it('waits for two slow files in one wait on a worker with one activity slot, uploading each once', async () => {
    const taskQueue = env.temporal.taskQueue();
    // One slot: a wait that held it would keep every other activity from starting.
    const worker = await env.temporal.createWorker({ taskQueue, config: env.config, env: env.workerEnv, maxConcurrentActivityTaskExecutions: 1 });
    const result = await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ training: { path: uniqueTrainingFile() } }));
      // The files' one wait between attempts, past a check that found both pending: it holds no slot.
      const deadline = Date.now() + 60_000;
      let seen: string[] = [];
      while (Date.now() < deadline) {
        const pending = ((await handle.describe()).raw.pendingActivities ?? []).filter((a) => a.activityType?.name === 'awaitFilesProcessed');
        seen = pending.map((a) => `attempt ${a.attempt} state ${a.state} ${a.lastFailure?.applicationFailureInfo?.type ?? ''}`);
        const waiting = pending.filter((a) => a.state === PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED && (a.attempt ?? 0) >= 3);
        if (waiting.length === 1) {
          assert.equal(waiting[0]!.lastFailure?.applicationFailureInfo?.type, NOT_DONE_YET);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(Date.now() < deadline, `never saw the files' wait held by Temporal; last: ${seen.join('; ')}`);
      return handle.result();
    });
    assert.equal(result.outcome, 'succeeded');
    const uploads = env.emulator.control.requests({ route: 'files.upload' });
    assert.equal(uploads.length, 2, 'the training and the validation file, each uploaded once');
  });
});
