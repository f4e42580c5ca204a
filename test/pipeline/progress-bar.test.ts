/**
 * `ftpipe run --wait`, piped, on the emulator: the line it prints names each state the run is held in (the emulator's
 * clock frozen or its answers slowed until the line is seen), so the states are asserted, never timings.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { FtpipeClient } from '../../src/client';
import { TASK_QUEUE } from '../../src/temporal/constants';
import { ROOT, spawnCli } from '../helpers/cli';
import { SAMPLE_TRAINING, SAMPLE_VALIDATION, usePipelineStack } from '../helpers/pipeline';
import { ownServer } from '../helpers/temporal';
import { until } from '../helpers/until';

const EVAL_SET = join(ROOT, 'examples', 'data', 'bike-shop-eval.jsonl');
const POLLING = { queuedIntervalSeconds: 0.2, runningIntervalSeconds: 0.2, nearFinishIntervalSeconds: 0.2, fileIntervalSeconds: 0.2, deploymentIntervalSeconds: 0.2 };

describe('the run --wait progress line on the emulator', () => {
  const env = usePipelineStack({}, ownServer('`ftpipe run` starts the run on the default task queue'));

  it('says queued, measuring, the ETA, eval items n/N, awaiting approval and the deployment\'s state, never 0/1 steps', async () => {
    const control = env.emulator.control;
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-bar-'));
    copyFileSync(SAMPLE_TRAINING, join(dir, 'train.jsonl'));
    copyFileSync(SAMPLE_VALIDATION, join(dir, 'valid.jsonl'));
    const runName = `bar-${Date.now()}`;
    writeFileSync(join(dir, 'pipeline.yaml'), stringify({
      runName, profile: 'emulator', baseModel: 'gpt-4.1-mini', training: { path: 'train.jsonl' }, validation: { path: 'valid.jsonl' }, polling: POLLING,
      hyperparameters: { nEpochs: 2 },
      // Heartbeats reach Temporal at most every ~0.8 heartbeat timeouts: a short one lets the CLI see eval progress
      // (and stays above one slowed eval answer, which the activity waits for before it heartbeats).
      timeouts: { heartbeatSeconds: 3 },
      evaluation: { evalSet: { path: EVAL_SET }, concurrency: 1 },
      deployment: { name: `bar${Date.now() % 100000}`, type: 'GlobalStandard', requireApproval: true },
    }));
    const client = await FtpipeClient.connect({ address: env.temporal.server.address });
    const details = async (): Promise<string> => {
      const { handle } = await client.findPipeline(runName);
      return (await handle.workflow.query<{ currentDetails?: string }, []>('__temporal_workflow_metadata')).currentDetails ?? '';
    };
    control.setClockScale(0);
    const worker = await env.createWorker(TASK_QUEUE);
    try {
      await worker.runUntil(async () => {
        const cli = spawnCli(['run', join(dir, 'pipeline.yaml'), '--wait', '--address', env.temporal.server.address]);
        // Both files wait in one check (ftpipe-files-processed-together), their common state said once.
        await cli.waitFor(/^upload +\| training file file-\w+ and validation file file-\w+: status pending$/m);
        control.advanceClock(60);
        await cli.waitFor(/^train +\| Azure job pending \(not started by Azure yet\)$/m);
        control.advanceClock(420 + 100);
        // Steps came, then the clock stands still: no rate yet, so Azure's estimated_finish is the only figure when it
        // lies ahead (the emulator's clock is its own, so it may not), else the ETA is unknown.
        await cli.waitFor(/^train +\| training \| \|[█░]+\| \d+\/\d+ steps \| (ETA unknown: measuring the step rate|ETA \S+ \(Azure's estimated_finish\))$/m);
        control.advanceClock(100);
        await cli.waitFor(/^train +\| training \| \|[█░]+\| \d+\/\d+ steps \| ETA \d+(h\d\dm|m\d\ds|s)( \(Azure's estimated_finish\))?$/m);
        // The Web UI's current details give it as a time of day, and say where it comes from.
        assert.match(await details(), /^job: ftjob-\w+ \(running\), step \d+\/\d+ \([\d.]+%\), ETA \d{4}-\d\d-\d\d \d\d:\d\d UTC \((step rate|Azure's estimated_finish)\)$/m);

        // Each eval answer takes 0.7 s until the line shows items scored.
        const slow = control.addFault({ route: 'chat.completions', action: 'latency', latencyMs: 700 });
        control.setClockScale(1000);
        await cli.waitFor(/^evaluate +\| checkpoint \d of \d \(step \d+\): scoring the eval set( \(attempt \d+\))? \| \|[█░]+\| [1-9]\d*\/10 items$/m);
        // The Web UI's current details and status.task show the items n/N too (the activity signals them to its run).
        await until(async () => (/^now: checkpoint \d of \d \(step \d+\): scoring the eval set: [1-9]\d*\/10 items \(\d\/\d models evaluated\)$/m.test(await details()) ? true : undefined), 'eval items n/N in the current details');
        const { handle: evaluating } = await client.findPipeline(runName);
        const task = await until(async () => {
          const t = (await evaluating.status()).task;
          return t?.items && t.items.done >= 1 && t.items.total === 10 ? t : undefined;
        }, 'eval items n/N in status.task');
        assert.match(task.items!.deployment, /^ftpipe-eval-/);
        control.removeFault(slow.id);
        await cli.waitFor(/^await_approval \| awaiting approval \(ftpipe approve /m);
        // The approver's evidence in the current details: the chosen checkpoint, its score, what approving deploys at what cost.
        const waiting = await details();
        assert.match(waiting, /^awaiting approval: send the approveRun or rejectRun update/m);
        assert.match(waiting, /^chosen checkpoint: \S+ \(step \d+\): highest eval score \d\.\d{3} of \d checkpoints/m);
        assert.match(waiting, /^eval: the chosen checkpoint scores \d\.\d{3}; no baseline, so no lift$/m);
        assert.match(waiting, /^approving deploys a new version of bar\d+ \(GlobalStandard x1\): \$1\.70\/hour while it exists/m);

        control.setClockScale(0);
        const { handle } = await client.findPipeline(runName);
        await handle.approve({ by: 'tester' });
        await cli.waitFor(/^deploy +\| create deployment bar\d+-v1 on \S+: (provisioning state Creating|requested; ARM is creating it)$/m);
        assert.match(await details(), /^now: bar\d+-v1: provisioning \(GlobalStandard x1; /m);
        control.setClockScale(1000);
        const { code } = await cli.exited;
        const output = cli.output();
        assert.equal(code, 0, output);
        assert.match(output, /^succeeded: run bar-\d+, job ftjob-\w+$/m);
        assert.doesNotMatch(output, /\b0\/1 steps\b/, 'a waiting run never shows 0/1 steps');
        assert.doesNotMatch(output, /^evaluate .*steps/m, 'evaluation is not shown as training steps');
        const status = await handle.status();
        assert.equal(status.stage, 'completed');
      });
    } finally {
      control.setClockScale(1000);
      await client.close();
    }
  });
});
