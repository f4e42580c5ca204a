/**
 * The admission queue (workflows/admission.ts) when many runs ask at once: its work per workflow task stays bounded
 * (`ftpipe-admission-bounded`), read from its histories on the dev server - never from timings.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { DEFAULT_LIMITS } from '../../src/admission/limits';
import { admissionNoticeSignal, admissionQuery, NOTICES_PER_ROUND, releaseSlotsSignal, requestSlotsSignal, type AdmissionView, type resourceAdmission, type SlotRequest } from '../../workflows/admission';
import { ADMISSION_WORKFLOW_TYPE, CHECK_WORKER_WORKFLOW_TYPE } from '../../workflows/messages';
import { useTemporal } from '../helpers/temporal';
import { until } from '../helpers/until';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The histories of every execution of a continue-as-new chain, starting from the runs the requests reached. */
async function chainHistories(client: Client, workflowId: string, runIds: Iterable<string>): Promise<HistoryEvent[][]> {
  const seen = new Set<string>();
  const histories: HistoryEvent[][] = [];
  for (const first of runIds) {
    for (let runId: string | undefined = first; runId !== undefined && !seen.has(runId);) {
      seen.add(runId);
      const events: HistoryEvent[] = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
      histories.push(events);
      runId = events.find((e) => e.workflowExecutionContinuedAsNewEventAttributes)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
  }
  return histories;
}

/** The admission notices a run was sent, by state ('granted' or 'waiting'). */
async function noticesTo(holder: WorkflowHandle): Promise<string[]> {
  const events = (await holder.fetchHistory()).events ?? [];
  return events.flatMap((e) => {
    const signal = e.workflowExecutionSignaledEventAttributes;
    if (signal?.signalName !== admissionNoticeSignal.name) return [];
    const notice = JSON.parse(Buffer.from(signal.input?.payloads?.[0]?.data ?? []).toString('utf8')) as { state: string };
    return [notice.state];
  });
}

/**
 * The bound on each of the queue's two phases (150 grants, 150 releases). Generous: on a starved worker (load 25+) the
 * queue's workflow tasks pass the server's 10 s task timeout and are retried as full replays, and queries meanwhile
 * fail ("Workflow Task in failed state", "query timed out before a worker could process it") until a retry completes.
 */
const QUEUE_WORK_BOUND_MS = 300_000;

describe('admission queue: many runs at once', () => {
  const env = useTemporal();

  it('150 runs asking at once: each told its grant once, at most NOTICES_PER_ROUND notices per workflow task, continued as new on the way', async () => {
    const runs = 150;
    const taskQueue = env.taskQueue();
    const worker = await env.createWorker({ taskQueue });
    // Holders are open workflows on a task queue no worker serves: they stay open (and take the notices) until terminated.
    const idle = `${taskQueue}-idle`;
    const holders = await Promise.all(Array.from({ length: runs }, (_, i) => env.client.workflow.start(CHECK_WORKER_WORKFLOW_TYPE, { taskQueue: idle, workflowId: `scale-${i}-${taskQueue}`, args: [{}] })));
    const limits = { ...DEFAULT_LIMITS, runningJobs: 1000, queuedJobs: 1000 };
    const resource = `/subscriptions/test/resourceGroups/test/providers/Microsoft.CognitiveServices/accounts/scale-${taskQueue.slice(-8)}`;
    const workflowId = `admission-scale-${taskQueue}`;
    const amounts = { jobs: 1, files: 0, fileBytes: 0, deployments: 0 };
    await worker.runUntil(async () => {
      const signaled = await Promise.all(holders.map((h) => env.client.workflow.signalWithStart<typeof resourceAdmission, [SlotRequest]>(ADMISSION_WORKFLOW_TYPE, {
        taskQueue, workflowId, args: [{ resource, limits }], signal: requestSlotsSignal, signalArgs: [{ holder: h.workflowId, runName: h.workflowId, amounts, priority: 0, limits }],
      })));
      const queue = env.client.workflow.getHandle(workflowId);
      // Each run hears of its grant, then gives its slots back (as a run does when it is done). A probe reads only the
      // histories of runs not yet told (150 reads a probe kept the shared dev server busy).
      const toldOnce = new Set<string>();
      await until(async () => {
        await Promise.all(holders.filter((h) => !toldOnce.has(h.workflowId)).map(async (h) => {
          if ((await noticesTo(h)).includes('granted')) toldOnce.add(h.workflowId);
        }));
        return toldOnce.size === runs ? true : undefined;
      }, `all ${runs} runs told their grant`, QUEUE_WORK_BOUND_MS);
      // Read again once all were told: a second grant notice sent after a run's first would show here.
      const told = await Promise.all(holders.map(noticesTo));
      assert.deepEqual(told.map((n) => n.filter((s) => s === 'granted').length), Array(runs).fill(1), 'each run told its grant exactly once');
      await Promise.all(holders.map((h) => queue.signal(releaseSlotsSignal, { holder: h.workflowId })));
      const final = await until(async () => {
        const v: AdmissionView = await queue.query(admissionQuery);
        return v.holders.length === 0 ? v : undefined;
      }, 'every slot given back', QUEUE_WORK_BOUND_MS);
      assert.deepEqual([final.granted, final.queue.length, final.used.jobs, final.reclaimed], [runs, 0, 0, 0], 'granted once each across continuations, none reclaimed');

      const histories = await chainHistories(env.client, workflowId, new Set(signaled.map((s) => s.signaledRunId)));
      assert.ok(histories.length >= 2, `continued as new on the way (${histories.length} execution(s), ${histories.map((h) => h.length).join(' + ')} events)`);
      const perTask = new Map<string, number>();
      for (const [i, events] of histories.entries()) {
        for (const e of events) {
          const id = e.signalExternalWorkflowExecutionInitiatedEventAttributes?.workflowTaskCompletedEventId;
          if (id !== undefined && id !== null) perTask.set(`${i}:${String(id)}`, (perTask.get(`${i}:${String(id)}`) ?? 0) + 1);
        }
      }
      const most = Math.max(...perTask.values());
      assert.ok(most <= NOTICES_PER_ROUND, `at most ${NOTICES_PER_ROUND} notices per workflow task (most: ${most})`);
      assert.equal([...perTask.values()].reduce((a, b) => a + b, 0), runs, 'one notice per run: its grant');
      await Promise.all([queue.terminate('test done'), ...holders.map((h) => h.terminate('test done'))]);
    });
  });
});
