import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import type { PipelineStatus } from '../../src/pipeline/types';
import { spawnCli, type CliProcess } from '../helpers/cli';
import { jobsOfRun } from '../helpers/emulator-state';
import { uniqueTrainingFile, usePipelineStack, type PipelineTestEnv } from '../helpers/pipeline';

/** Short timeouts so that work of a killed worker moves to the next one within seconds. */
const CRASH_TIMEOUTS = { azureCallSeconds: 3, heartbeatSeconds: 3 };

/** `ftpipe worker` in its own process, as production runs it, so that it can be killed like a crashed machine. */
async function startWorker(env: PipelineTestEnv, taskQueue: string, configPath: string): Promise<CliProcess> {
  const worker = spawnCli(['worker', '--address', env.temporal.server.address, '--task-queue', taskQueue, '--config', configPath, '--shutdown-grace', '1s'], env.workerEnv);
  await worker.waitFor(/"msg":"ftpipe worker started"/);
  return worker;
}

async function kill(worker: CliProcess): Promise<void> {
  worker.child.kill('SIGKILL');
  await worker.exited;
}

describe('worker crashes (kill -9) at every stage', () => {
  // A slow emulated clock while the kills happen (training must outlast three worker restarts), fast after them.
  const env = usePipelineStack({ clockScale: 40 });

  it('completes with exactly one job and one upload per file after kills during upload, job creation and training', async () => {
    const configPath = join(mkdtempSync(join(tmpdir(), 'ftpipe-crash-')), 'ftpipe.config.json');
    writeFileSync(configPath, JSON.stringify(env.config));
    const taskQueue = env.temporal.taskQueue();
    const workflowId = `crash-${taskQueue}`;
    // Slow the upload and the create down, so that a kill lands while they are in flight.
    env.emulator.control.addFault({ route: 'files.upload', action: 'latency', latencyMs: 1500, times: 1 });
    env.emulator.control.addFault({ route: 'jobs.create', action: 'latency', latencyMs: 1500, times: 1 });
    const successfulUploads = (): number => env.emulator.control.requests().filter((r) => r.route === 'files.upload' && r.status >= 200 && r.status < 300).length;
    const accountFiles = (): { id: string; filename: string; purpose: string; status: string }[] => env.emulator.control.dumpState().files as { id: string; filename: string; purpose: string; status: string }[];
    const uploadsBefore = successfulUploads();
    const fileIdsBefore = new Set(accountFiles().map((f) => f.id));

    const handle = await env.start(taskQueue, env.input({ training: { path: uniqueTrainingFile() }, timeouts: CRASH_TIMEOUTS }), workflowId);
    const stages: string[] = [];
    const killAt = async (predicate: (s: PipelineStatus) => boolean, label: string): Promise<void> => {
      const worker = await startWorker(env, taskQueue, configPath);
      try {
        await env.waitForStatus(handle, predicate, 60_000);
      } catch (err) {
        throw new Error(`${(err as Error).message}\nworker output:\n${worker.output()}`);
      }
      stages.push(label);
      await kill(worker);
    };
    await killAt((s) => s.stage === 'upload', 'upload');
    await killAt((s) => s.stage === 'create_job', 'create_job');
    await killAt((s) => s.job?.status === 'running' && (s.progress.step ?? 0) > 0, 'train');
    env.emulator.control.setClockScale(1000);

    const last = await startWorker(env, taskQueue, configPath);
    try {
      const result = await handle.result();
      assert.equal(result.outcome, 'succeeded');
      assert.deepEqual(stages, ['upload', 'create_job', 'train']);
      assert.equal(jobsOfRun(env.emulator, workflowId).length, 1, 'exactly one Azure job');
      // An upload whose worker was killed after sending it still lands on Azure, and the retry then finds and reuses
      // it: so count the files the run created on the account, not the result's origins.
      const files = accountFiles();
      const created = files.filter((f) => !fileIdsBefore.has(f.id) && f.purpose !== 'fine-tune-results');
      assert.equal(successfulUploads() - uploadsBefore, created.length, 'every successful upload made one new file');
      for (const file of result.files) {
        assert.equal(files.filter((f) => f.filename === file.filename).length, 1, `one ${file.filename} ever on the account`);
      }
      const trainingFile = result.files.find((f) => f.role === 'training');
      assert.ok(trainingFile && created.some((f) => f.filename === trainingFile.filename), 'the unique training file was uploaded by this run');
    } finally {
      last.child.kill('SIGTERM');
      await last.exited;
    }
  });
  it('survives five kills of the worker during one validation (a lost worker never spends the run\'s retries)', async () => {
    const configPath = join(mkdtempSync(join(tmpdir(), 'ftpipe-crash-')), 'ftpipe.config.json');
    writeFileSync(configPath, JSON.stringify(env.config));
    // Large enough that each validation attempt runs for a while: long examples, few of them (few training steps).
    const dir = mkdtempSync(join(tmpdir(), 'ftpipe-crash-data-'));
    const filler = 'The chain wants a drop of oil on every link after a wet ride. '.repeat(60);
    const lines = Array.from({ length: 6_000 }, (_, i) => JSON.stringify({ messages: [{ role: 'user', content: `Ticket ${i}: ${filler}` }, { role: 'assistant', content: `Noted ${i}.` }] }));
    writeFileSync(join(dir, 'train.jsonl'), `${lines.join('\n')}\n`);
    const taskQueue = env.temporal.taskQueue();
    const handle = await env.start(taskQueue, env.input({ training: { path: join(dir, 'train.jsonl') }, validation: undefined, timeouts: CRASH_TIMEOUTS, hyperparameters: { nEpochs: 1, batchSize: 256 } }));
    const validationAttempt = async (): Promise<number> => {
      const pending = (await handle.describe()).raw.pendingActivities ?? [];
      const started = pending.find((a) => a.activityType?.name === 'validateTrainingData' && a.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED);
      return started?.attempt ?? 0;
    };
    for (let kill = 1; kill <= 5; kill++) {
      const worker = await startWorker(env, taskQueue, configPath);
      for (let i = 0; i < 1200 && (await validationAttempt()) !== kill; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await validationAttempt(), kill, `validation attempt ${kill} runs on worker ${kill}\n${worker.output()}`);
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
    env.emulator.control.setClockScale(20_000);
    const last = await startWorker(env, taskQueue, configPath);
    try {
      const result = await handle.result();
      assert.equal(result.outcome, 'succeeded');
      assert.equal(result.validation?.examples.training, 6_000);
    } finally {
      last.child.kill('SIGTERM');
      await last.exited;
    }
  });
});

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
    const untilTrue = async (predicate: () => boolean, what: string): Promise<void> => {
      for (let i = 0; i < 1200 && !predicate(); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(predicate(), `timed out waiting for ${what}`);
    };

    const first = await startWorker(env, taskQueue, configPath);
    await env.waitForStatus(handle, (s) => ['evaluate', 'copy', 'deploy'].includes(s.stage), 60_000);
    env.emulator.control.setClockScale(40);
    await untilTrue(() => puts('crash-deploy-v1') > 0, 'the deployment PUT');
    await kill(first);
    const second = await startWorker(env, taskQueue, configPath);
    await untilTrue(() => puts('crash-copy') > 0, 'the copied checkpoint\'s deployment PUT');
    await kill(second);
    const last = await startWorker(env, taskQueue, configPath);
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
