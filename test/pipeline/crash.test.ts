import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { PipelineStatus } from '../../src/pipeline/types';
import { spawnCli, type CliProcess } from '../helpers/cli';
import { jobsOfRun } from '../helpers/emulator-state';
import { uniqueTrainingFile, usePipelineStack } from '../helpers/pipeline';

/** Short timeouts so that work of a killed worker moves to the next one within seconds. */
const CRASH_TIMEOUTS = { azureCallSeconds: 3, heartbeatSeconds: 3 };

describe('worker crashes (kill -9) at every stage', () => {
  // A slow emulated clock while the kills happen (training must outlast three worker restarts), fast after them.
  const env = usePipelineStack({ clockScale: 40 });

  async function startWorker(taskQueue: string, configPath: string): Promise<CliProcess> {
    const worker = spawnCli(['worker', '--address', env.temporal.server.address, '--task-queue', taskQueue, '--config', configPath, '--shutdown-grace', '1s'], env.workerEnv);
    await worker.waitFor(/"msg":"ftpipe worker started"/);
    return worker;
  }

  async function kill(worker: CliProcess): Promise<void> {
    worker.child.kill('SIGKILL');
    await worker.exited;
  }

  it('completes with exactly one job and one upload per file after kills during upload, job creation and training', async () => {
    const configPath = join(mkdtempSync(join(tmpdir(), 'ftpipe-crash-')), 'ftpipe.config.json');
    writeFileSync(configPath, JSON.stringify(env.config));
    const taskQueue = env.temporal.taskQueue();
    const workflowId = `crash-${taskQueue}`;
    // Slow the upload and the create down, so that a kill lands while they are in flight.
    env.emulator.control.addFault({ route: 'files.upload', action: 'latency', latencyMs: 1500, times: 1 });
    env.emulator.control.addFault({ route: 'jobs.create', action: 'latency', latencyMs: 1500, times: 1 });
    const uploadsBefore = env.emulator.control.requests().filter((r) => r.route === 'files.upload' && r.status >= 200 && r.status < 300).length;

    const handle = await env.start(taskQueue, env.input({ training: { path: uniqueTrainingFile() }, timeouts: CRASH_TIMEOUTS }), workflowId);
    const stages: string[] = [];
    const killAt = async (predicate: (s: PipelineStatus) => boolean, label: string): Promise<void> => {
      const worker = await startWorker(taskQueue, configPath);
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

    const last = await startWorker(taskQueue, configPath);
    try {
      const result = await handle.result();
      assert.equal(result.outcome, 'succeeded');
      assert.deepEqual(stages, ['upload', 'create_job', 'train']);
      assert.equal(jobsOfRun(env.emulator, workflowId).length, 1, 'exactly one Azure job');
      const uploads = env.emulator.control.requests().filter((r) => r.route === 'files.upload' && r.status >= 200 && r.status < 300).length - uploadsBefore;
      const distinct = result.files.filter((f) => f.origin !== 'reused').length;
      assert.equal(uploads, distinct, 'one successful upload per distinct file');
      const files = env.emulator.control.dumpState().files as { filename: string; status: string }[];
      for (const file of result.files) {
        assert.equal(files.filter((f) => f.filename === file.filename && f.status !== 'deleted').length, 1, `one ${file.filename} on the account`);
      }
    } finally {
      last.child.kill('SIGTERM');
      await last.exited;
    }
  });
});
