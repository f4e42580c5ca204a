import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, RetryState } from '@temporalio/common';
import { dryRunRefusal } from '../../src/cli/commands/runs';
import { parsePipelineInput, PipelineInputError } from '../../src/pipeline/input';
import { runCli } from '../helpers/cli';
import { SAMPLE_TRAINING, SAMPLE_VALIDATION, usePipelineStack } from '../helpers/pipeline';

describe('ftpipe run --dry-run', () => {
  const env = usePipelineStack();

  it('prints validation, cost estimate, free slots and the deployments with their hourly cost, and writes nothing to Azure', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-dry-run-'));
    const file = join(dir, 'pipeline.json');
    writeFileSync(file, JSON.stringify({
      runName: 'dry-run', profile: 'emulator', baseModel: 'gpt-4.1-mini', training: { path: SAMPLE_TRAINING }, validation: { path: SAMPLE_VALIDATION },
      hyperparameters: { nEpochs: 2 }, trainingType: 'Global', budget: { maxTrainingUsd: 0.000001 },
      deployment: { name: 'dry', type: 'GlobalStandard' },
    }));
    env.emulator.control.clearRequests();
    const run = await worker.runUntil(runCli(['run', file, '--dry-run', '--address', env.temporal.server.address, '--task-queue', taskQueue], env.workerEnv));
    assert.equal(run.code, 0, run.output);
    const out = run.output;
    assert.match(out, /nothing was written to Azure/);
    assert.match(out, /validation: valid: \d+ training examples, \d+ validation, 0 errors/);
    assert.match(out, /training cost estimate: \$\d+\.\d\d \(\d+ billed tokens \(2 epochs\) x \$5 per 1M \(Global\)\)/);
    assert.match(out, /budget: REFUSED: the estimated training cost/);
    assert.match(out, /free now: 23\/23 job places, 100\/100 files, 10\/10 deployments; 0 run\(s\) waiting/);
    assert.match(out, /deployment \(promotion\): dry-v<next> on profile emulator in swedencentral, GlobalStandard x1, \$1\.70\/hour/);
    assert.match(out, /hourly cost of what the run would leave live: \$1\.70\/hour/);
    const writes = env.emulator.control.requests().filter((r) => r.method !== 'GET');
    assert.deepEqual(writes.map((r) => `${r.method} ${r.route}`), [], 'no write reached the emulator');
  });

  it('takes fromJob without training data, and refuses an input with neither, naming training', () => {
    const base = { runName: 'r', profile: 'emulator', baseModel: 'gpt-4.1-mini' };
    assert.equal(parsePipelineInput({ ...base, fromJob: 'ftjob-abc123' }).training, undefined);
    assert.throws(() => parsePipelineInput(base), (err: unknown) => err instanceof PipelineInputError
      && err.issues.length === 1 && /^training: required: the data to train on .* unless fromJob names an Azure job to carry on from$/.test(err.issues[0]!));
  });

  it('words a refusal by the plan workflow as the preflight\'s, naming each field, and any other failure as a failed dry run', () => {
    const refused = new WorkflowFailedError('Workflow execution failed', ApplicationFailure.create({ message: 'the pipeline input is invalid', type: 'InvalidPipelineInput', nonRetryable: true, details: [{ issues: ['baseModel: required', 'training.path: not a file'] }] }), RetryState.NON_RETRYABLE_FAILURE);
    assert.equal(dryRunRefusal(refused), 'dry run: the preflight refused the input (nothing ran, nothing was written to Azure): baseModel: required; training.path: not a file');
    const failed = new WorkflowFailedError('Workflow execution failed', ApplicationFailure.create({ message: 'disk on fire', type: 'Internal' }), RetryState.RETRY_POLICY_NOT_SET);
    assert.match(dryRunRefusal(failed), /^dry run failed \(nothing was written to Azure\): .*disk on fire/);
    assert.doesNotMatch(dryRunRefusal(failed), /run failed:/);
  });

  it('with --from-job plans no training: shows the adopted job and what follows, validates nothing, estimates no training cost', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-dry-run-'));
    const file = join(dir, 'pipeline.json');
    // No training data at all: the job is carried on from.
    writeFileSync(file, JSON.stringify({ runName: 'dry-from-job', profile: 'emulator', baseModel: 'gpt-4.1-mini', deployment: { name: 'dryjob', type: 'GlobalStandard' } }));
    const dryRun = (...flags: string[]) => runCli(['run', file, '--dry-run', ...flags, '--address', env.temporal.server.address, '--task-queue', taskQueue], env.workerEnv);
    await worker.runUntil(async () => {
      const neither = await dryRun();
      assert.equal(neither.code, 2, neither.output);
      assert.match(neither.output, /pipeline\.json: training: required: .* unless fromJob \(or --from-job\) names an Azure job to carry on from/);

      const trained = await (await env.start(taskQueue, env.input())).result();
      assert.equal(trained.outcome, 'succeeded');
      env.emulator.control.clearRequests();
      const run = await dryRun('--from-job', trained.jobId!);
      assert.equal(run.code, 0, run.output);
      const out = run.output;
      assert.match(out, new RegExp(`^from job ${trained.jobId}: Azure reports it succeeded \\(gpt-4\\.1-mini\\S*, model ${trained.fineTunedModel!.replace(/[.]/g, '\\.')}\\); the run goes on from collect`, 'm'));
      assert.match(out, /^training: none planned \(fromJob\): nothing is validated, uploaded or trained, so no training cost$/m);
      assert.doesNotMatch(out, /^validation:/m);
      assert.doesNotMatch(out, /training cost estimate/);
      assert.match(out, /needs 0 job, 0 files \(0 bytes\)/, 'a succeeded job takes no job place');
      assert.match(out, /deployment \(promotion\): dryjob-v<next> on profile emulator/);
      assert.deepEqual(env.emulator.control.requests().filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.route}`), [], 'no write reached the emulator');

      const unknown = await dryRun('--from-job', 'ftjob-0123456789abcdef0123456789abcdef');
      assert.equal(unknown.code, 0, unknown.output);
      assert.match(unknown.output, /^from job ftjob-0123456789abcdef0123456789abcdef: REFUSED: fromJob: Azure has no fine-tuning job/m);
    });
  });

  it('prints the preflight warnings a run\'s status would list (training plan, catalogue, capacity), and a preflight refusal', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.createWorker(taskQueue);
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-dry-run-'));
    // DPO on gpt-4o-mini (not in the catalogue's table) deployed on Standard in Sweden Central (not listed there either).
    const dpo = readFileSync(SAMPLE_TRAINING, 'utf8').trim().split('\n').map((l, i) => {
      const { messages } = JSON.parse(l) as { messages: { role: string; content: string }[] };
      return JSON.stringify({ input: { messages: messages.slice(0, -1) }, preferred_output: [messages.at(-1)], non_preferred_output: [{ role: 'assistant', content: `No idea (${i}).` }] });
    });
    writeFileSync(join(dir, 'dpo.jsonl'), `${dpo.join('\n')}\n`);
    const input = { runName: 'dry-warnings', profile: 'emulator', baseModel: 'gpt-4o-mini', method: { type: 'dpo' }, training: { path: join(dir, 'dpo.jsonl') }, deployment: { name: 'dry', type: 'Standard', capacity: 2 } };
    const file = join(dir, 'pipeline.json');
    writeFileSync(file, JSON.stringify(input));
    const dryRun = () => runCli(['run', file, '--dry-run', '--address', env.temporal.server.address, '--task-queue', taskQueue], env.workerEnv);

    const swc = env.emulator.account('ftpipe-swc');
    await worker.runUntil(async () => {
      const run = await dryRun();
      // The same input as a run: its status lists the warnings the plan should have printed.
      const handle = await env.start(taskQueue, { ...env.input(), ...input, validation: undefined } as never);
      const status = await env.waitForStatus(handle, (s) => s.stage !== 'preflight');
      await handle.cancel();
      await handle.result().catch(() => undefined);
      assert.equal(run.code, 0, run.output);
      const printed = run.output.split('\n').filter((l) => l.startsWith('preflight warning: ')).map((l) => l.slice('preflight warning: '.length));
      assert.ok((status.warnings?.length ?? 0) >= 3, JSON.stringify(status.warnings));
      assert.deepEqual(printed, status.warnings, 'the plan prints what the run\'s status lists');
      assert.ok(printed.some((w) => /^method "dpo" is not listed for gpt-4o-mini in the model catalogue of \d{4}-\d{2}-\d{2}/.test(w)), printed.join('\n'));
      assert.ok(printed.some((w) => /^deployment\.type \(profile "emulator"\): deployment type "Standard" is not listed for fine-tuned gpt-4o-mini in swedencentral in the model catalogue of /.test(w)), printed.join('\n'));
      assert.ok(printed.some((w) => /^deployment\.capacity: Azure's model list for swedencentral has no Standard SKU for gpt-4o-mini/.test(w)), printed.join('\n'));
      assert.doesNotMatch(run.output, /preflight: REFUSED/);

      // Over the free quota, the run's preflight would refuse it: the plan says why, and shows the rest.
      writeFileSync(file, JSON.stringify({ ...input, baseModel: 'gpt-4.1-mini', method: { type: 'supervised' }, training: { path: SAMPLE_TRAINING }, deployment: { name: 'dry', type: 'GlobalStandard', capacity: 9 } }));
      env.emulator.capacity.setUsage(swc.subscriptionId, swc.region, 'OpenAI.GlobalStandard.gpt-4.1-mini', { limit: 10, extraUsed: 5 });
      try {
        env.emulator.control.clearRequests();
        const refused = await dryRun();
        assert.equal(refused.code, 0, refused.output);
        assert.match(refused.output, /^preflight: REFUSED: deployment\.capacity: capacity 9 is above the free quota of OpenAI\.GlobalStandard\.gpt-4\.1-mini in swedencentral .*accepted: at most 5, or ask Azure for more quota$/m);
        assert.match(refused.output, /validation: valid: /);
        assert.match(refused.output, /deployment \(promotion\): dry-v<next> on profile emulator in swedencentral, GlobalStandard x9/);
        assert.deepEqual(env.emulator.control.requests().filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.route}`), [], 'no write reached the emulator');
      } finally {
        env.emulator.capacity.reset();
      }
    });
  });
});
