import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { DEFAULT_LIMITS, type ResourceLimits } from '../../src/admission/limits';
import { createOpenAIClient } from '../../src/azure/clients';
import { admissionWorkflowId } from '../../src/admission/types';
import { buildRunReport } from '../../src/report/build';
import type { WorkerConfig } from '../../src/config/worker-config';
import { DEFAULT_ACCOUNTS } from '../../src/emulator/config';
import { admissionTaskQueue } from '../../src/temporal/constants';
import { QUEUE_POSITION } from '../../src/temporal/search-attributes';
import { admissionNoticeSignal, admissionQuery, type AdmissionView } from '../../workflows/admission';
import { spawnCli, type CliProcess } from '../helpers/cli';
import { jobsOfRun } from '../helpers/emulator-state';
import { SAMPLE_TRAINING, uniqueTrainingFile, usePipelineStack, type PipelineTestEnv } from '../helpers/pipeline';
import { ownServer } from '../helpers/temporal';
import { statusQuery } from '../../workflows/messages';
import { until } from '../helpers/until';

const SWC = DEFAULT_ACCOUNTS[0]!;

/** Most fine-tuning jobs of `account` unfinished at one moment, from the emulator's own job records (created_at..finished_at). */
function peakUnfinishedJobs(env: PipelineTestEnv, account: string): number {
  const jobs = (env.emulator.control.dumpState().jobs as { account: string; created_at: number; finished_at: number | null }[]).filter((j) => j.account === account);
  // At equal times a job that ends is counted before one that starts: the slot passed from one to the next.
  const edges = jobs.flatMap((j) => [{ t: j.created_at, d: 1 }, { t: j.finished_at ?? Number.POSITIVE_INFINITY, d: -1 }]).sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let peak = 0;
  for (const e of edges) peak = Math.max(peak, (now += e.d));
  return peak;
}

function withLimits(env: PipelineTestEnv, limits: Partial<ResourceLimits>): WorkerConfig {
  return { ...env.config, profiles: env.config.profiles.map((p) => ({ ...p, limits: { ...DEFAULT_LIMITS, ...limits } })) };
}

async function admission(env: PipelineTestEnv, taskQueue: string, account = SWC): Promise<AdmissionView> {
  const resource = `/subscriptions/${account.subscriptionId}/resourceGroups/${account.resourceGroup}/providers/Microsoft.CognitiveServices/accounts/${account.name}`;
  return env.temporal.client.workflow.getHandle(admissionWorkflowId(resource, taskQueue)).query(admissionQuery);
}

/** The sample training set uploaded once and processed: runs given its id start at the queue (no validation, no upload). */
async function uploadedTrainingFile(env: PipelineTestEnv): Promise<string> {
  const client = createOpenAIClient(env.config.profiles.find((p) => p.name === 'emulator')!, env.workerEnv, { maxRetries: 0 });
  const content = `\uFEFF${readFileSync(SAMPLE_TRAINING, 'utf8').replace(/^\uFEFF/, '')}`;
  const file = await client.files.create({ file: new File([content], 'admission-train.jsonl'), purpose: 'fine-tune' });
  return until(async () => ((await client.files.retrieve(file.id)).status === 'processed' ? file.id : undefined), `file ${file.id} processed`);
}

describe('admission: runs queue for their resource\'s job slots', () => {
  // The emulated account refuses a fourth unfinished job, as Azure refuses a create beyond its running + queued places.
  const env = usePipelineStack({ accounts: [{ ...SWC, quotas: { runningJobs: 3, queuedJobs: 0 } }, ...DEFAULT_ACCOUNTS.slice(1)] });

  it('10 runs on a resource with 3 job slots all complete, never more than 3 jobs at once and none refused by Azure', async () => {
    const taskQueue = env.temporal.taskQueue();
    const worker = await env.temporal.createWorker({ taskQueue, config: withLimits(env, { runningJobs: 3, queuedJobs: 0 }), env: env.workerEnv });
    const refusalsBefore = env.emulator.control.requests({ route: 'jobs.create' }).filter((r) => r.status >= 400).length;
    await worker.runUntil(async () => {
      const training = { fileId: await uploadedTrainingFile(env) };
      const handles = await Promise.all(Array.from({ length: 10 }, () => env.start(taskQueue, env.input({ training, validation: undefined, hyperparameters: { nEpochs: 3 } }))));

      // While runs wait, they say why and where they stand: status, search attribute, and the queue agree.
      const waiting = await until(async () => {
        for (const handle of handles) {
          const status = await handle.query(statusQuery);
          if (status.admission?.state === 'waiting' && status.admission.position !== null) return { handle, status };
        }
        return undefined;
      }, 'a waiting run');
      assert.equal(waiting.status.stage, 'await_slot');
      assert.match(waiting.status.admission!.reason, /job slots \(3 of 3 in use: 3 running \+ 0 queued\)/);
      const described = await waiting.handle.describe();
      const position = described.typedSearchAttributes.get(QUEUE_POSITION);
      assert.ok(position !== undefined && position >= 1, `FtpipeQueuePosition: ${String(position)}`);
      const view = await admission(env, taskQueue);
      assert.ok(view.used.jobs <= 3 && view.capacity.jobs === 3, JSON.stringify(view.used));
      // The Web UI's current details of a waiting run say why it waits and where it stands.
      const details = await until(async () => {
        for (const handle of handles) {
          const shown = (await handle.query<{ currentDetails?: string }, []>('__temporal_workflow_metadata')).currentDetails ?? '';
          if (/^stage: await_slot$/m.test(shown) && /position \d+ of \d+/.test(shown)) return shown;
        }
        return undefined;
      }, 'a waiting run\'s current details');
      assert.match(details, /^waiting for job slots \(3 of 3 in use: 3 running \+ 0 queued\) on \/subscriptions\/.*; position \d+ of \d+$/m);
      // The report of a waiting run (ftpipe report) says where it stands and how long it has waited.
      const queued = buildRunReport({ status: waiting.status, execution: 'RUNNING', generatedAt: new Date().toISOString() }).queue;
      assert.deepEqual([queued?.state, queued?.position, queued?.reason], ['waiting', waiting.status.admission!.position, waiting.status.admission!.reason]);
      assert.ok((queued?.waitedSeconds ?? -1) >= 0);

      const results = await Promise.all(handles.map((h) => h.result()));
      assert.deepEqual(results.map((r) => r.outcome), Array(10).fill('succeeded'));
      // Each result's report gives the run's queue wait; 10 runs on 3 slots: some waited.
      for (const r of results) assert.ok(r.report?.queue?.grantedAt && r.report.queue.waitedSeconds !== null, JSON.stringify(r.report?.queue));
      assert.ok(results.some((r) => (r.report?.queue?.waitedSeconds ?? 0) > 0), 'some runs waited for their slot');
      for (const handle of handles) assert.equal(jobsOfRun(env.emulator, handle.workflowId).length, 1, 'one Azure job per run');
      const final = await admission(env, taskQueue);
      assert.equal(final.granted, 10, 'each run granted exactly once');
      assert.deepEqual([final.holders.length, final.queue.length, final.used.jobs], [0, 0, 0], 'every slot given back');
      // A run that found a free slot had its grant in its join's reply, with no notice; the others learned it by one.
      const grantNotices = await Promise.all(handles.map(async (h) => ((await h.fetchHistory()).events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === admissionNoticeSignal.name).length));
      assert.ok(grantNotices.filter((n) => n === 0).length >= 3, `runs granted in the reply, without a notice: notices per run ${grantNotices.join(' ')}`);
      assert.ok(grantNotices.some((n) => n > 0), `runs that waited learned their grant by notice: ${grantNotices.join(' ')}`);
      const queue = await env.temporal.client.workflow.getHandle(admissionWorkflowId(final.resource, taskQueue)).describe();
      assert.equal(queue.taskQueue, admissionTaskQueue(taskQueue), 'the queue runs on the admission task queue');
    });
    assert.equal(peakUnfinishedJobs(env, SWC.name), 3, 'at most 3 jobs at any moment, and the 3 slots were used together');
    const refusals = env.emulator.control.requests({ route: 'jobs.create' }).filter((r) => r.status >= 400).length - refusalsBefore;
    assert.equal(refusals, 0, 'Azure refused no create');
  });

  it('waits out Azure\'s own quota refusal (jobs ftpipe did not start hold the places) and creates its job once a place frees', async () => {
    const taskQueue = env.temporal.taskQueue();
    // The emulator's refusal carries no Retry-After, so the create is retried after the profile's quotaRetrySeconds:
    // 1 s here instead of the default minute.
    const worker = await env.temporal.createWorker({ taskQueue, config: withLimits(env, { quotaRetrySeconds: 1 }), env: env.workerEnv });
    const client = createOpenAIClient(env.config.profiles.find((p) => p.name === 'emulator')!, env.workerEnv, { maxRetries: 0 });
    const refused = () => env.emulator.control.requests({ route: 'jobs.create' }).filter((r) => r.status === 400).length;
    await worker.runUntil(async () => {
      const fileId = await uploadedTrainingFile(env);
      // Three jobs started outside ftpipe fill the account's places (3 running + 0 queued); the emulator's clock stands
      // still, so they stay unfinished until the test cancels them. The admission queue knows nothing of them.
      env.emulator.control.setClockScale(0);
      const foreign = await Promise.all([1, 2, 3].map(() => client.fineTuning.jobs.create({ model: 'gpt-4.1-mini', training_file: fileId })));
      const before = refused();
      const handle = await env.start(taskQueue, env.input({ training: { fileId }, validation: undefined }));
      await until(async () => (refused() > before ? true : undefined), 'Azure to refuse the run\'s create over its quota');
      const waiting = await handle.query(statusQuery);
      assert.equal(waiting.stage, 'create_job', 'the refusal did not fail the run');
      assert.equal(jobsOfRun(env.emulator, handle.workflowId).length, 0);
      for (const job of foreign) await client.fineTuning.jobs.cancel(job.id);
      env.emulator.control.setClockScale(1000);
      const result = await handle.result();
      assert.equal(result.outcome, 'succeeded');
      assert.equal(jobsOfRun(env.emulator, handle.workflowId).length, 1, 'one job, created on a retry after the refusal');
    });
  });

  /** On ftpipe-ncus with one job slot: a long run that holds it, and a short one waiting first in line. */
  async function holderAndNextInLine(taskQueue: string) {
    const ncus = { profile: 'ftpipe-ncus' };
    const first = await env.start(taskQueue, env.input({ ...ncus, training: { path: uniqueTrainingFile() }, hyperparameters: { nEpochs: 20 } }));
    await env.waitForStatus(first, (s) => s.admission?.state === 'granted');
    const second = await env.start(taskQueue, env.input({ ...ncus, training: { path: uniqueTrainingFile() }, hyperparameters: { nEpochs: 1 } }));
    await env.waitForStatus(second, (s) => s.admission?.state === 'waiting' && s.admission.position === 1);
    return { first, second };
  }

  it('gives a terminated run\'s slot to the next run (the queue checks its holders)', async () => {
    const taskQueue = env.temporal.taskQueue();
    const config = withLimits(env, { runningJobs: 1, queuedJobs: 0, holderCheckSeconds: 0.5 });
    const worker = await env.temporal.createWorker({ taskQueue, config, env: env.workerEnv });
    await worker.runUntil(async () => {
      const { first, second } = await holderAndNextInLine(taskQueue);
      // Terminated: no cleanup runs, so no release is sent.
      await first.terminate('test: a run that never gives its slot back');
      const result = await second.result();
      assert.equal(result.outcome, 'succeeded');
      const view = await admission(env, taskQueue, DEFAULT_ACCOUNTS[1]);
      assert.equal(view.reclaimed, 1);
      assert.equal(view.holders.length, 0);
    });
  });

  it('a cancelled run gives its slot back in its cleanup, and the next run gets it', async () => {
    const taskQueue = env.temporal.taskQueue();
    // Holders are checked rarely here: the slot must come back by the cancelled run's release, not by the check.
    const config = withLimits(env, { runningJobs: 1, queuedJobs: 0, holderCheckSeconds: 3600 });
    const worker = await env.temporal.createWorker({ taskQueue, config, env: env.workerEnv });
    await worker.runUntil(async () => {
      const { first, second } = await holderAndNextInLine(taskQueue);
      await first.cancel();
      await assert.rejects(first.result());
      assert.equal((await first.query(statusQuery)).admission?.state, 'released');
      assert.equal((await second.result()).outcome, 'succeeded');
      const view = await admission(env, taskQueue, DEFAULT_ACCOUNTS[1]);
      assert.deepEqual([view.reclaimed, view.holders.length, view.granted], [0, 0, 2], 'given back by the release, not reclaimed');
    });
  });
});

describe('admission survives a worker kill and a server restart while runs wait', () => {
  const dbFile = join(mkdtempSync(join(tmpdir(), 'ftpipe-admission-')), 'temporal.sqlite');
  const env = usePipelineStack({ clockScale: 200, accounts: [{ ...SWC, quotas: { runningJobs: 2, queuedJobs: 0 } }, ...DEFAULT_ACCOUNTS.slice(1)] }, ownServer('restarts the server', { dbFile }));

  async function startWorker(taskQueue: string, configPath: string): Promise<CliProcess> {
    const worker = spawnCli(['worker', '--address', env.temporal.server.address, '--task-queue', taskQueue, '--config', configPath, '--shutdown-grace', '1s'], env.workerEnv);
    await worker.waitFor(/"msg":"ftpipe worker started"/);
    return worker;
  }

  it('loses no slot and grants none twice: 5 runs on 2 slots all complete', async () => {
    const configPath = join(mkdtempSync(join(tmpdir(), 'ftpipe-admission-')), 'ftpipe.config.json');
    writeFileSync(configPath, JSON.stringify(withLimits(env, { runningJobs: 2, queuedJobs: 0 })));
    const taskQueue = env.temporal.taskQueue();
    const timeouts = { azureCallSeconds: 3, heartbeatSeconds: 3 };
    let worker = await startWorker(taskQueue, configPath);
    let handles: WorkflowHandle[] = [];
    try {
      handles = await Promise.all(Array.from({ length: 5 }, () => env.start(taskQueue, env.input({ training: { path: uniqueTrainingFile() }, hyperparameters: { nEpochs: 2 }, timeouts }))));
      await until(async () => {
        const view = await admission(env, taskQueue);
        return view.holders.length === 2 && view.queue.length === 3 ? view : undefined;
      }, '2 holders and 3 waiting runs');
      worker.child.kill('SIGKILL');
      await worker.exited;
      await env.temporal.ownServer().restart();
      worker = await startWorker(taskQueue, configPath);
      // The kill and the restart happened while runs held and waited: the rest may run on the fast clock.
      env.emulator.control.setClockScale(1000);
      const results = await Promise.all(handles.map((h) => h.result() as Promise<{ outcome: string }>));
      assert.deepEqual(results.map((r) => r.outcome), Array(5).fill('succeeded'));
      const final = await admission(env, taskQueue);
      assert.equal(final.granted, 5, 'each run granted exactly once');
      assert.deepEqual([final.holders.length, final.queue.length], [0, 0]);
      for (const handle of handles) assert.equal(jobsOfRun(env.emulator, handle.workflowId).length, 1, 'one Azure job per run');
      assert.ok(peakUnfinishedJobs(env, SWC.name) <= 2, 'never more than 2 jobs at once');
    } catch (err) {
      throw new Error(`${(err as Error).message}\nworker output:\n${worker.output().slice(-4000)}`);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  });
});
