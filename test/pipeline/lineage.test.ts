import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli';
import { countRequests, jobsOfRun } from '../helpers/emulator-state';
import { SAMPLE_TRAINING, SAMPLE_VALIDATION, usePipelineStack } from '../helpers/pipeline';

describe('a lineage: continuous fine-tuning from the last good model, and skipping unchanged data', () => {
  const env = usePipelineStack();

  it('continues from the lineage\'s promoted model, skips a run whose data did not change, and reads the newest file of a folder', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'ftpipe-drop-'));
    copyFileSync(SAMPLE_TRAINING, join(folder, 'week-1.jsonl'));
    const lineage = { name: `support-${Date.now()}` };
    const input = (runName: string) => env.input({ runName, suffix: 'support', training: { path: folder }, validation: { path: SAMPLE_VALIDATION }, lineage });
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    await worker.runUntil(async () => {
      const first = await (await env.start(taskQueue, input('week-1'))).result();
      assert.equal(first.outcome, 'succeeded');
      assert.ok(first.files[0]!.filename.startsWith('week-1.'));
      const promoted = first.evaluation!.analysis.chosen.model;

      const uploadsBefore = countRequests(env.emulator, 'files.upload');
      const unchanged = await env.start(taskQueue, input('week-1-again'));
      const skipped = await unchanged.result();
      assert.equal(skipped.outcome, 'skipped_no_new_data');
      assert.equal(skipped.jobId, null);
      assert.equal(jobsOfRun(env.emulator, unchanged.workflowId).length, 0);
      assert.equal(countRequests(env.emulator, 'files.upload'), uploadsBefore, 'nothing uploaded');
      // Its status says so: stage completed alone would read as a run that trained.
      const shown = await runCli(['status', unchanged.workflowId, '--address', env.temporal.server.address]);
      assert.equal(shown.code, 0, shown.output);
      assert.match(shown.output, /^ {2}outcome: skipped_no_new_data \(skipped: no new data\)$/m);
      assert.match(shown.output, /^ {2}note: skipped: no new data since the lineage's last run \(data [0-9a-f.]+\)$/m);

      writeFileSync(join(folder, 'week-2.jsonl'), `${readFileSync(SAMPLE_TRAINING, 'utf8')}${readFileSync(SAMPLE_VALIDATION, 'utf8')}`);
      utimesSync(join(folder, 'week-2.jsonl'), new Date(), new Date(Date.now() + 1000));
      const secondHandle = await env.start(taskQueue, input('week-2'));
      const second = await secondHandle.result();
      assert.equal(second.outcome, 'succeeded');
      assert.ok(second.files[0]!.filename.startsWith('week-2.'));
      const [job] = jobsOfRun(env.emulator, secondHandle.workflowId) as { model?: string }[];
      assert.equal(job?.model, promoted, 'the second run fine-tunes the first run\'s promoted checkpoint');
      // One base model (the catalogue's, the input's) and what the job trained from: the report names both.
      assert.equal(second.report?.baseModel, 'gpt-4.1-mini');
      assert.equal(second.report?.trainedFrom, promoted);
      assert.equal(first.report?.trainedFrom, undefined, 'a first run trains from its base model');
      assert.match(second.fineTunedModel ?? '', /^gpt-4\.1-mini-2025-04-14\.ft-[0-9a-f]{32}-support$/, 'the suffix does not grow along the lineage');
    });
  });
});
