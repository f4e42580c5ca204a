/** The CLI while runs go on: list, watch, cancel (twice), Ctrl-C on run --wait, and errors that name CLI flags. */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { defaultWorkflowId } from '../../src/client';
import { TASK_QUEUE } from '../../src/temporal/constants';
import { runCli, spawnCli } from '../helpers/cli';
import { SAMPLE_TRAINING, usePipelineStack } from '../helpers/pipeline';
import { ownServer } from '../helpers/temporal';
import { statusQuery } from '../../workflows/messages';

/** Polls once a minute: a run stays in training for the length of a test. */
const SLOW = { queuedIntervalSeconds: 60, runningIntervalSeconds: 60, nearFinishIntervalSeconds: 60, fileIntervalSeconds: 0.1 };

describe('ftpipe list, watch, cancel and run --wait while runs go on', () => {
  const env = usePipelineStack({}, ownServer('`ftpipe run` starts runs on the default task queue'));
  const address = (): string[] => ['--address', env.temporal.server.address];

  function pipelineFile(runName: string, polling: Record<string, number>): string {
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-steer-'));
    copyFileSync(SAMPLE_TRAINING, join(dir, 'train.jsonl'));
    writeFileSync(join(dir, 'pipeline.yaml'), stringify({ runName, profile: 'emulator', baseModel: 'gpt-4.1-mini', training: { path: 'train.jsonl' }, polling }));
    return join(dir, 'pipeline.yaml');
  }

  it('lists a run that continued as new as one row, and watch draws its curves until it closes', async () => {
    env.emulator.control.setClockScale(100);
    try {
      // continueAsNewAfterEvents: the input's knob that makes a short run continue as new (see the README).
      const input = env.input({ polling: { queuedIntervalSeconds: 0.1, runningIntervalSeconds: 0.1, nearFinishIntervalSeconds: 0.1, fileIntervalSeconds: 0.1, continueAsNewAfterEvents: 100 }, hyperparameters: { nEpochs: 1 } });
      const worker = await env.createWorker(TASK_QUEUE);
      await worker.runUntil(async () => {
        const handle = await env.start(TASK_QUEUE, input, defaultWorkflowId(input.runName));
        const watch = runCli(['watch', input.runName, '--interval', '0.2', ...address()]);
        await handle.result();
        const watched = await watch;
        assert.equal(watched.code, 0, watched.output);
        assert.match(watched.output, /^loss: train loss \(steps \d+\.\.\d+\)$/m);
        assert.match(watched.output, /^token accuracy: train token accuracy \(steps \d+\.\.\d+\)$/m);
        assert.match(watched.output, /^ +\d+\.\d{3} [┤┼]/m, 'asciichart axis labels');
        assert.match(watched.output, new RegExp(`run ${handle.workflowId} closed: completed; its report: ftpipe report ${input.runName}$`, 'm'));

        const status = await handle.query(statusQuery);
        assert.ok(status.continuations > 0, 'the run continued as new');
        assert.ok(status.curve.length > 1, 'status carries the curve');
        const list = await runCli(['list', '--query', `FtpipeRunName = '${input.runName}'`, ...address()]);
        assert.equal(list.code, 0, list.output);
        const rows = list.output.trim().split('\n');
        assert.match(rows[0]!, /^RUN +STATUS +STAGE +BASE MODEL +STARTED +CLOSED +WORKFLOW ID$/);
        assert.equal(rows.length, 2, `one row for ${status.continuations + 1} executions:\n${list.output}`);
        assert.match(rows[1]!, new RegExp(`^${input.runName} +COMPLETED +completed `));
      });
    } finally {
      env.emulator.control.setClockScale(1000);
    }
  });

  it('cancel says so when the run is already being cancelled, and when it has closed', async () => {
    const input = env.input({ polling: SLOW });
    const handle = await env.start(TASK_QUEUE, input, defaultWorkflowId(input.runName));
    const worker = await env.createWorker(TASK_QUEUE);
    await worker.runUntil(env.waitForStatus(handle, (s) => s.stage === 'train'));
    // No worker runs now: the first request is recorded, and the run cannot act on it yet.
    const first = await runCli(['cancel', input.runName, ...address()]);
    assert.equal(first.code, 0, first.output);
    assert.match(first.output, new RegExp(`cancellation requested for ${handle.workflowId}: its Azure job is cancelled and its uploads cleaned up`));
    const second = await runCli(['cancel', input.runName, ...address()]);
    assert.equal(second.code, 0, second.output);
    assert.match(second.output, new RegExp(`run ${handle.workflowId} is already being cancelled \\(an earlier request\\)`));
    const again = await env.createWorker(TASK_QUEUE);
    await again.runUntil(assert.rejects(handle.result()));
    const third = await runCli(['cancel', input.runName, ...address()]);
    assert.match(third.output, new RegExp(`run ${handle.workflowId} has already closed \\(cancelled\\): nothing to cancel`));
  });

  it('Ctrl-C on run --wait detaches, saying the run goes on and how to follow it; starting it again names --join', async () => {
    const runName = `detach-${Date.now()}`;
    const file = pipelineFile(runName, SLOW);
    const worker = await env.createWorker(TASK_QUEUE);
    await worker.runUntil(async () => {
      const run = spawnCli(['run', file, '--wait', ...address()]);
      await run.waitFor(/^train \| /m);
      run.child.kill('SIGINT');
      const { code } = await run.exited;
      assert.equal(code, 130, run.output());
      const id = defaultWorkflowId(runName);
      assert.match(run.output(), new RegExp(`stopped following ${id}; the run goes on in Temporal \\(Ctrl-C does not cancel it\\)\\.\\n  follow it again: ftpipe watch ${id}\\n  its status: +ftpipe status ${id}\\n  stop it: +ftpipe cancel ${id}`));
      const handle = env.temporal.client.workflow.getHandle(id);
      assert.equal((await handle.describe()).status.name, 'RUNNING', 'Ctrl-C did not cancel the run');

      const twice = await runCli(['run', file, ...address()]);
      assert.equal(twice.code, 1, twice.output);
      assert.match(twice.output, new RegExp(`a run with workflow id "${id}" is already open: follow it with --join \\(ftpipe run \\S+ --join --wait\\)`));
      assert.doesNotMatch(twice.output, /ifRunning/);
      await handle.cancel();
      await assert.rejects(handle.result());
    });
  });
});
