import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { PipelineStatus } from '../../src/pipeline/types';
import { holdClockOnceTraining, jobsOfRun } from '../helpers/emulator-state';
import { uniqueTrainingFile, usePipelineStack } from '../helpers/pipeline';
import { CRASH_TIMEOUTS, killWorker, startWorkerProcess } from '../helpers/worker-process';

// The kills during one validation and during deployment and copy are in crash-validation.test.ts and
// crash-deployment.test.ts: each file has its own time budget (10 minutes) and a lane of its own.
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
      const worker = await startWorkerProcess(env, taskQueue, configPath);
      try {
        await env.waitForStatus(handle, predicate, 180_000);
      } catch (err) {
        throw new Error(`${(err as Error).message}\nworker output:\n${worker.output()}`);
      }
      stages.push(label);
      await killWorker(worker);
    };
    await killAt((s) => s.stage === 'upload', 'upload');
    await killAt((s) => s.stage === 'create_job', 'create_job');
    // The clock stops once the job has trained a step (from the emulator's own state, in the same tick), so the job
    // still trains when the restarted worker's run shows it: at load ~30 the job had finished first and the run was
    // past training. It runs on (at 1000x) once the worker is killed there.
    const held = holdClockOnceTraining(env.emulator, workflowId, 180_000);
    held.catch(() => undefined);
    await killAt((s) => s.job?.status === 'running' && (s.progress.step ?? 0) > 0, 'train');
    await held;
    env.emulator.control.setClockScale(1000);

    const last = await startWorkerProcess(env, taskQueue, configPath);
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
});
