import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { usePipelineStack } from '../helpers/pipeline';
import { CRASH_TIMEOUTS, killWorker, startWorkerProcess } from '../helpers/worker-process';
import { until } from '../helpers/until';

describe('worker crashes (kill -9) during deployment and copy', () => {
  // Training runs on a fast clock; after it, deployments and copies take seconds of real time, so the kills land while they are in flight.
  const env = usePipelineStack({ clockScale: 1000, timings: { deploymentCreateSeconds: 200, deploymentNotReadySeconds: 20, copySeconds: 200 } });

  it('ends with exactly one deployment per intended name and one copy request', async () => {
    const configPath = join(mkdtempSync(join(tmpdir(), 'ftpipe-crash-')), 'ftpipe.config.json');
    writeFileSync(configPath, JSON.stringify(env.config));
    const ncus = env.emulator.account('ftpipe-ncus');
    // The copy needs a fine-tuning job in the destination account: one quick run there first.
    const setupQueue = env.temporal.taskQueue();
    const setupWorker = await env.createWorker(setupQueue);
    await setupWorker.runUntil(async () => (await env.start(setupQueue, env.input({ profile: 'ftpipe-ncus' }))).result());

    const taskQueue = env.temporal.taskQueue();
    const polling = { queuedIntervalSeconds: 0.2, runningIntervalSeconds: 0.2, nearFinishIntervalSeconds: 0.1, fileIntervalSeconds: 0.1, deploymentIntervalSeconds: 0.2 };
    const handle = await env.start(taskQueue, env.input({
      timeouts: CRASH_TIMEOUTS,
      polling,
      deployment: { name: 'crash-deploy', type: 'GlobalStandard' },
      copies: [{ destinationResourceId: ncus.armId, region: 'northcentralus', deploy: { profile: 'ftpipe-ncus', name: 'crash-copy', type: 'GlobalStandard' } }],
    }));
    const puts = (name: string): number => env.emulator.control.requests({ route: 'arm.deployments.put' }).filter((r) => r.path.endsWith(`/deployments/${name}`) || r.path.includes(`/deployments/${name}?`)).length;
    // A generous bound: a killed worker's tasks move to the next worker only after their timeouts, slower under load.
    const untilTrue = (predicate: () => boolean, what: string): Promise<true> => until(() => Promise.resolve(predicate() || undefined), what, 180_000);

    const first = await startWorkerProcess(env, taskQueue, configPath);
    await env.waitForStatus(handle, (s) => ['evaluate', 'copy', 'deploy'].includes(s.stage), 180_000);
    env.emulator.control.setClockScale(40);
    await untilTrue(() => puts('crash-deploy-v1') > 0, 'the deployment PUT');
    await killWorker(first);
    const second = await startWorkerProcess(env, taskQueue, configPath);
    await untilTrue(() => puts('crash-copy') > 0, 'the copied checkpoint\'s deployment PUT');
    await killWorker(second);
    const last = await startWorkerProcess(env, taskQueue, configPath);
    env.emulator.control.setClockScale(1000);
    try {
      const result = await handle.result();
      assert.equal(result.outcome, 'succeeded');
      assert.equal(puts('crash-deploy-v1'), 1, 'one PUT of the deployment');
      assert.equal(puts('crash-copy'), 1, 'one PUT of the copy\'s deployment');
      assert.equal(env.emulator.control.requests({ route: 'checkpoints.copy', method: 'POST' }).filter((r) => r.status >= 200 && r.status < 300).length, 1, 'one copy request');
      const deployments = env.emulator.control.dumpState().deployments as { name: string; account: string }[];
      assert.deepEqual(deployments.filter((d) => d.name.startsWith('crash-')).map((d) => `${d.account}/${d.name}`).sort(), ['ftpipe-ncus/crash-copy', 'ftpipe-swc/crash-deploy-v1']);
      assert.equal(result.copies[0]?.status, 'Completed');
    } finally {
      last.child.kill('SIGTERM');
      await last.exited;
    }
  });
});
