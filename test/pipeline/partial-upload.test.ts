/**
 * A run whose uploads go side by side and one of them fails: the file that did land is the run's, and the cleanup
 * policy (uploadedFiles: onFailure, the default) deletes it with the failure instead of leaving it on the account.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { statusQuery } from '../../workflows/messages';
import { countRequests } from '../helpers/emulator-state';
import { SAMPLE_VALIDATION, uniqueTrainingFile, usePipelineStack } from '../helpers/pipeline';

describe('a failed upload beside one that landed', () => {
  const env = usePipelineStack();

  it('deletes the landed training file when Azure refuses the validation import', async () => {
    const liveFileIds = (): string[] =>
      (env.emulator.control.dumpState().files as { id: string; purpose: string; status: string }[]).filter((f) => f.purpose === 'fine-tune' && f.status !== 'deleted').map((f) => f.id);
    const before = new Set(liveFileIds());
    const uploadsBefore = countRequests(env.emulator, 'files.upload');
    env.emulator.control.addFault({ route: 'files.import', action: 'error', status: 400, times: 1 });
    const validationUrl = env.emulator.control.putBlob(`refused-validation-${Date.now()}.jsonl`, readFileSync(SAMPLE_VALIDATION));

    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const { err, status } = await worker.runUntil(async () => {
      const handle = await env.start(taskQueue, env.input({ training: { path: uniqueTrainingFile() }, validation: { url: validationUrl } }));
      const outcome = await handle.result().then(() => undefined, (e: unknown) => e);
      return { err: outcome, status: await handle.query(statusQuery) };
    });

    assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
    assert.equal(err.cause.type, 'Azure400', err.cause.message);
    assert.match(err.cause.message, /^import validation file from URL: Azure answered HTTP 400/);
    assert.equal(countRequests(env.emulator, 'files.upload') - uploadsBefore, 1, 'the training file was uploaded');
    const training = status.files.find((f) => f.role === 'training');
    assert.equal(training?.origin, 'uploaded', 'the landed upload is the run\'s');
    assert.deepEqual(liveFileIds().filter((id) => !before.has(id)), [], 'no file of the run is left on the account');
    assert.deepEqual(status.errors.map((e) => e.message).filter((m) => /could not delete/.test(m)), [], 'the cleanup deleted it without an error');
  });
});
