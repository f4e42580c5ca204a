import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ActiveFault } from '../../src/emulator';
import { holdClockOnceTraining, jobsOfRun } from '../helpers/emulator-state';
import { uniqueTrainingFile, usePipelineStack } from '../helpers/pipeline';
import { until } from '../helpers/until';
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
    const slowUpload = env.emulator.control.addFault({ route: 'files.upload', action: 'latency', latencyMs: 1500, times: 1 });
    const slowCreate = env.emulator.control.addFault({ route: 'jobs.create', action: 'latency', latencyMs: 1500, times: 1 });
    // A one-shot fault is gone once its request has arrived. The emulator runs in this process, so the probe's timer,
    // set before the request came, fires before the delayed answer is sent: the kill always lands while the request is
    // in flight. (Waiting for the run's status to show the stage missed the 1.5 s window at load 15-24 and the run
    // completed under the first worker.)
    const arrived = (fault: ActiveFault) => (): Promise<true> =>
      until(async () => (env.emulator.control.faults().some((f) => f.id === fault.id) ? undefined : true), `a ${fault.route} request`, 180_000);
    const successfulUploads = (): number => env.emulator.control.requests().filter((r) => r.route === 'files.upload' && r.status >= 200 && r.status < 300).length;
    const accountFiles = (): { id: string; filename: string; purpose: string; status: string }[] => env.emulator.control.dumpState().files as { id: string; filename: string; purpose: string; status: string }[];
    const uploadsBefore = successfulUploads();
    const fileIdsBefore = new Set(accountFiles().map((f) => f.id));

    const handle = await env.start(taskQueue, env.input({ training: { path: uniqueTrainingFile() }, timeouts: CRASH_TIMEOUTS }), workflowId);
    const stages: string[] = [];
    const killAt = async (reached: () => Promise<unknown>, label: string): Promise<void> => {
      const worker = await startWorkerProcess(env, taskQueue, configPath);
      try {
        await reached();
      } catch (err) {
        // What Azure holds for the run, and when its job calls came (a kill lands between them).
        const jobs = jobsOfRun(env.emulator, workflowId).map((j) => `${j.id} ${j.status} step ${j.steps_done ?? 0}`);
        const calls = env.emulator.control.requests().filter((r) => r.route.startsWith('jobs.') && r.route !== 'jobs.get' && r.route !== 'jobs.events').map((r) => `${r.time} ${r.route} ${r.status}`);
        throw new Error(`${(err as Error).message}\nAzure's jobs: ${jobs.join('; ')}\njob calls: ${calls.join('; ')}\nworker output:\n${worker.output()}`);
      }
      stages.push(label);
      await killWorker(worker);
    };
    await killAt(arrived(slowUpload), 'upload');
    await killAt(arrived(slowCreate), 'create_job');
    // The clock stops once the job has trained a step (from the emulator's own state, in the same tick), so the job
    // still trains when the restarted worker's run shows it: at load ~30 the job had finished first and the run was
    // past training. It runs on (at 1000x) once the worker is killed there.
    const held = holdClockOnceTraining(env.emulator, workflowId, 180_000);
    held.catch(() => undefined);
    await killAt(() => env.waitForStatus(handle, (s) => s.job?.status === 'running' && (s.progress.step ?? 0) > 0, 180_000), 'train');
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
