import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { liveFiles } from '../helpers/emulator-state';
import { uniqueTrainingFile, usePipelineStack } from '../helpers/pipeline';
import { ownServer } from '../helpers/temporal';

describe('Azure job failure and bounded history', () => {
  const env = usePipelineStack({ clockScale: 100 });

  it('fails the run with Azure\'s error code and message, and cleans up the files it uploaded', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const err = await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ training: { path: uniqueTrainingFile() } }));
      const running = await env.waitForStatus(handle, (s) => s.job?.status === 'running');
      env.emulator.control.failJob(running.job!.id, { code: 'invalid_training_file', message: 'The training file contains examples the service could not parse.' });
      const error = await handle.result().then(() => undefined, (e: unknown) => e);
      const uploaded = running.files.filter((f) => f.origin === 'uploaded').map((f) => f.fileId);
      assert.ok(uploaded.length > 0);
      assert.deepEqual(liveFiles(env.emulator, uploaded), []);
      return error;
    });
    assert.ok(err instanceof WorkflowFailedError);
    const failure = err.cause as ApplicationFailure;
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, 'AzureJobFailed');
    assert.match(failure.message, /^Azure fine-tuning job ftjob-\w+ failed: invalid_training_file: The training file contains examples the service could not parse\.$/);
  });

  it('keeps every execution\'s history near its event budget by continuing as new, however many polls training takes', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const workflowId = `history-${taskQueue}`;
    // A budget of 100 events (the default is 10,000, or Temporal's suggestion), so that this short job continues as new.
    const polling = { queuedIntervalSeconds: 0.1, runningIntervalSeconds: 0.1, nearFinishIntervalSeconds: 0.1, fileIntervalSeconds: 0.1, continueAsNewAfterEvents: 100 };
    const result = await worker.runUntil(async () => (await env.start(taskQueue, env.input({ polling }), workflowId)).result());
    assert.equal(result.outcome, 'succeeded');

    const lengths: number[] = [];
    for await (const execution of env.temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      const history = await env.temporal.client.workflow.getHandle(workflowId, execution.runId).fetchHistory();
      lengths.push(history.events?.length ?? 0);
    }
    assert.ok(lengths.length >= 2, `expected at least one continue-as-new, got ${lengths.length} execution(s)`);
    assert.ok(Math.max(...lengths) <= 200, `history lengths: ${lengths.join(', ')}`);
  });
});

describe('a Temporal server restart mid-training', () => {
  const dbFile = join(mkdtempSync(join(tmpdir(), 'ftpipe-restart-')), 'temporal.sqlite');
  const env = usePipelineStack({ clockScale: 60 }, ownServer('restarts the server', { dbFile }));

  it('does not stop the run: it completes on the same database', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const result = await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ hyperparameters: { nEpochs: 1 } }));
      await env.waitForStatus(handle, (s) => s.job?.status === 'running');
      await env.temporal.ownServer().restart();
      return handle.result();
    });
    assert.equal(result.outcome, 'succeeded');
    assert.ok(result.timeline.some((t) => t.stage === 'train'));
  });
});
