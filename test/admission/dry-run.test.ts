import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
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
});
