/**
 * What one resource's admission queue (workflows/admission.ts `resourceAdmission`) costs per workflow task as the
 * number of runs that use it grows: N runs (open workflows on a task queue no worker serves, so they stay open and
 * take the queue's notices) ask it for one job slot each at once, by signal-with-start as runs do; then every holder
 * gives its slots back, round after round, until all N were granted and released. The queue's workflow tasks are read
 * from its histories (every execution of its continue-as-new chain): WorkflowTaskStarted -> WorkflowTaskCompleted is
 * the worker's time for one activation (the SDK fails an activation past 5 s, the server times a task out at 10 s).
 *
 *   npx tsx bench/admission-queue.ts [--runs 50,200,500] [--limits high|azure]
 *
 * `--limits high`: 2,000 job places, every run is granted at once (the 500-run pipelines bench with --limits high);
 * `--limits azure`: Azure's default 3 running + 20 queued jobs, so most runs wait and move up as others release.
 * The workflow code is bundled from the sources (the queue's code is what is measured, not the build). With
 * FTPIPE_BENCH_HISTORIES=<dir>, the queue's histories are written there (to replay or profile them).
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { DEFAULT_LIMITS, type ResourceLimits } from '../src/admission/limits';
import { createLogger } from '../src/logging';
import { startLocalServices } from '../src/stack/local-stack';
import { admissionNoticeSignal, admissionQuery, releaseSlotsSignal, requestSlotsSignal, type AdmissionView, type resourceAdmission, type SlotRequest } from '../workflows/admission';
import { ADMISSION_WORKFLOW_TYPE, CHECK_WORKER_WORKFLOW_TYPE } from '../workflows/messages';

const LIMITS: Record<'high' | 'azure', ResourceLimits> = {
  high: { ...DEFAULT_LIMITS, runningJobs: 1000, queuedJobs: 1000, holderCheckSeconds: 60 },
  azure: { ...DEFAULT_LIMITS },
};

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at > 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

const load = (): string => `load ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, minutes = 30): Promise<T> {
  const deadline = Date.now() + minutes * 60_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

interface TaskFigures {
  executions: number;
  events: number;
  tasks: number;
  totalMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** Tasks that failed or timed out (the SDK's 5 s activation limit, the server's 10 s task timeout). */
  failed: number;
}

/** The queue's workflow tasks over every execution of its chain (continue-as-new), from the runs the requests reached. */
async function taskFigures(client: Client, workflowId: string, signaledRunIds: Set<string>): Promise<TaskFigures> {
  const durations: number[] = [];
  const seen = new Set<string>();
  let events = 0;
  let failed = 0;
  const causes = new Map<string, number>();
  for (const first of signaledRunIds) {
    for (let runId: string | undefined = first; runId && !seen.has(runId);) {
      seen.add(runId);
      const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
      if (process.env.FTPIPE_BENCH_HISTORIES) writeFileSync(`${process.env.FTPIPE_BENCH_HISTORIES}/${workflowId}-${runId}.json`, historyToJSON(history));
      runId = undefined;
      let started: number | undefined;
      for (const event of history.events ?? []) {
        events++;
        const at = tsToMs(event.eventTime);
        if (event.workflowTaskStartedEventAttributes) started = at;
        else if (event.workflowTaskCompletedEventAttributes && started !== undefined) {
          durations.push(at - started);
          started = undefined;
        } else if (event.workflowTaskFailedEventAttributes || event.workflowTaskTimedOutEventAttributes) {
          failed++;
          const cause = event.workflowTaskFailedEventAttributes ? `failed: ${temporal.api.enums.v1.WorkflowTaskFailedCause[event.workflowTaskFailedEventAttributes.cause ?? 0]}` : 'timed out';
          causes.set(cause, (causes.get(cause) ?? 0) + 1);
          started = undefined;
        }
        runId = event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? runId;
      }
    }
  }
  durations.sort((a, b) => a - b);
  for (const [cause, count] of causes) console.log(`  ${count} failed task(s): ${cause.slice(0, 200)}`);
  const at = (q: number): number => durations[Math.min(durations.length - 1, Math.floor(q * durations.length))] ?? 0;
  return { executions: seen.size, events, tasks: durations.length, totalMs: durations.reduce((s, d) => s + d, 0), p50Ms: at(0.5), p95Ms: at(0.95), maxMs: durations.at(-1) ?? 0, failed };
}

/** How many grant notices the queue sent to this run. */
async function grantsToldTo(holder: WorkflowHandle): Promise<number> {
  const history = await holder.fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === admissionNoticeSignal.name
    && Buffer.from(e.workflowExecutionSignaledEventAttributes.input?.payloads?.[0]?.data ?? []).toString('utf8').includes('"granted"')).length;
}

async function measure(client: Client, taskQueue: string, runs: number, limits: ResourceLimits): Promise<{ figures: TaskFigures; wallS: number }> {
  const idle = `${taskQueue}-idle-${runs}`;
  const holders: WorkflowHandle[] = [];
  for (let i = 0; i < runs; i += 50) {
    holders.push(...await Promise.all(Array.from({ length: Math.min(50, runs - i) }, (_, j) =>
      client.workflow.start(CHECK_WORKER_WORKFLOW_TYPE, { taskQueue: idle, workflowId: `bench-holder-${runs}-${i + j}-${randomUUID().slice(0, 8)}`, args: [{}] }))));
  }
  const resource = `/subscriptions/bench/resourceGroups/bench/providers/Microsoft.CognitiveServices/accounts/bench-${randomUUID().slice(0, 8)}`;
  const workflowId = `bench-admission-${runs}-${randomUUID().slice(0, 8)}`;
  const amounts = { jobs: 1, files: 0, fileBytes: 0, deployments: 0 };
  const started = Date.now();
  const signaled = await Promise.all(holders.map((h) => client.workflow.signalWithStart<typeof resourceAdmission, [SlotRequest]>(ADMISSION_WORKFLOW_TYPE, {
    taskQueue, workflowId, args: [{ resource, limits }], signal: requestSlotsSignal,
    signalArgs: [{ holder: h.workflowId, runName: h.workflowId, amounts, priority: 0, limits }],
  })));
  const queue = client.workflow.getHandle(workflowId);
  const view = (): Promise<AdmissionView> => queue.query(admissionQuery);
  await waitFor('every request queued or granted', async () => {
    const v = await view();
    return v.holders.length + v.queue.length === runs ? v : undefined;
  });
  // Round after round, every holder told its grant gives its slots back (as a run does once done); the queue grants
  // the next ones meanwhile.
  const released = new Set<string>();
  for (;;) {
    const v = await view();
    if (v.granted === runs && v.holders.length === 0) break;
    const candidates = v.holders.filter((h) => !released.has(h.holder));
    const told = await Promise.all(candidates.map(async (h) => (await grantsToldTo(client.workflow.getHandle(h.holder))) > 0));
    const fresh = candidates.filter((_, i) => told[i]);
    if (fresh.length === 0) {
      await sleep(250);
      continue;
    }
    for (const h of fresh) released.add(h.holder);
    await Promise.all(fresh.map((h) => queue.signal(releaseSlotsSignal, { holder: h.holder })));
  }
  // Until the queue has no workflow task left (its last notices acknowledged).
  await waitFor('the queue idle', async () => {
    const d = await client.workflow.getHandle(workflowId).describe();
    return d.raw.pendingWorkflowTask || (d.raw.pendingActivities?.length ?? 0) > 0 ? undefined : true;
  });
  const wallS = (Date.now() - started) / 1000;
  // Every run was told its grant exactly once (and a waiting run its position before).
  const grantsTold = await Promise.all(holders.map(grantsToldTo));
  const wrong = grantsTold.filter((n) => n !== 1).length;
  if (wrong > 0) throw new Error(`${wrong} of ${runs} runs were not told their grant exactly once`);
  await queue.terminate('bench: done');
  await Promise.all(holders.map((h) => h.terminate('bench: done')));
  return { figures: await taskFigures(client, workflowId, new Set(signaled.map((h) => h.signaledRunId))), wallS };
}

async function main(): Promise<void> {
  const runsList = argument('--runs', '50,200,500').split(',').map(Number);
  const limitsName = argument('--limits', 'high');
  if (limitsName !== 'high' && limitsName !== 'azure') throw new Error('--limits is high or azure');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const stack = await startLocalServices({ emulator: false });
  const taskQueue = `bench-admission-${randomUUID().slice(0, 8)}`;
  try {
    const worker = await stack.createWorker({
      taskQueue,
      deps: { config: { profiles: [] }, logger: createLogger({ level: 'silent' }), version: 'bench', env: process.env },
      workflowSource: { workflowsPath: require.resolve('../workflows') },
      shutdownGraceTime: '1s',
    });
    await worker.runUntil(async () => {
      console.log(`limits: ${limitsName} (${JSON.stringify(LIMITS[limitsName])})`);
      console.log('runs | wall s | executions | events | tasks | task ms total | p50 | p95 | max | failed/timed out | load');
      for (const runs of runsList) {
        const { figures: f, wallS } = await measure(stack.client, taskQueue, runs, LIMITS[limitsName]);
        console.log(`${runs} | ${wallS.toFixed(1)} | ${f.executions} | ${f.events} | ${f.tasks} | ${f.totalMs} | ${f.p50Ms} | ${f.p95Ms} | ${f.maxMs} | ${f.failed} | ${load()}`);
      }
    });
  } finally {
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
