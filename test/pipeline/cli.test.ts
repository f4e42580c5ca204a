import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { TASK_QUEUE } from '../../src/temporal/constants';
import { runCli } from '../helpers/cli';
import { FAST_POLLING, SAMPLE_TRAINING, SAMPLE_VALIDATION, usePipelineStack } from '../helpers/pipeline';
import { ownServer } from '../helpers/temporal';

describe('ftpipe run / status / list / pause on the real dev server', () => {
  const env = usePipelineStack({}, ownServer('`ftpipe run` starts runs on the default task queue'));

  it('runs a pipeline file with --wait, then shows it in status and list, and refuses to pause a finished run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-cli-'));
    copyFileSync(SAMPLE_TRAINING, join(dir, 'train.jsonl'));
    copyFileSync(SAMPLE_VALIDATION, join(dir, 'valid.jsonl'));
    const runName = `cli-${Date.now()}`;
    writeFileSync(join(dir, 'pipeline.yaml'), stringify({
      runName, profile: 'emulator', baseModel: 'gpt-4.1-mini', suffix: 'cli',
      training: { path: 'train.jsonl' }, validation: { path: 'valid.jsonl' }, polling: FAST_POLLING,
    }));
    const address = ['--address', env.temporal.server.address];
    const worker = await env.createWorker(TASK_QUEUE);
    await worker.runUntil(async () => {
      const run = await runCli(['run', join(dir, 'pipeline.yaml'), '--wait', ...address]);
      assert.equal(run.code, 0, run.output);
      assert.match(run.output, new RegExp(`started ftpipe-${runName}`));
      assert.match(run.output, /^succeeded: run cli-\d+, job ftjob-\w+$/m);
      assert.match(run.output, /fine-tuned model: gpt-4\.1-mini-2025-04-14\.ft-\w+-cli/);

      const status = await runCli(['status', runName, '--json', ...address]);
      assert.equal(status.code, 0, status.output);
      const parsed = JSON.parse(status.output.slice(status.output.indexOf('{'))) as { stage: string; files: { fileId: string }[] };
      assert.equal(parsed.stage, 'completed');
      assert.equal(parsed.files.length, 2);

      const list = await runCli(['list', ...address]);
      assert.match(list.output, /^RUN +STATUS +STAGE +BASE MODEL +STARTED +CLOSED +WORKFLOW ID$/m);
      assert.match(list.output, new RegExp(`^${runName} +COMPLETED +completed +gpt-4\\.1-mini +\\d{4}-\\d\\d-\\d\\dT[\\d:]+Z +\\d{4}-[\\d:T-]+Z +ftpipe-${runName}$`, 'm'));
      const lines = list.output.trim().split('\n');
      const column = lines[0]!.indexOf('WORKFLOW ID');
      for (const line of lines.slice(1)) assert.equal(line.indexOf('ftpipe-'), column, `columns are aligned:\n${list.output}`);

      const pause = await runCli(['pause', runName, ...address]);
      assert.equal(pause.code, 1);
      assert.match(pause.output, /refused: cannot pause: Azure pauses only running jobs; job ftjob-\w+ is succeeded|workflow execution already completed/i);

      const again = await runCli(['run', join(dir, 'pipeline.yaml'), ...address]);
      assert.equal(again.code, 0, 'a finished run\'s name may be used again');
    });
  });

  it('exits 2 with the field named when the pipeline file is invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-cli-bad-'));
    writeFileSync(join(dir, 'pipeline.yaml'), stringify({ runName: 'bad', profile: 'emulator', baseModel: 'gpt-4.1-mini', training: { path: 'x.jsonl' }, trainingType: 'Regional' }));
    const run = await runCli(['run', join(dir, 'pipeline.yaml'), '--address', env.temporal.server.address]);
    assert.equal(run.code, 2, run.output);
    assert.match(run.output, /pipeline\.yaml:\d+: trainingType: /);
  });
});
