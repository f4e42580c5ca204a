/**
 * The admission queue (workflows/admission.ts) on the dev server, driven by its own signals: it grants by priority and
 * then first come, first served, and it counts files and their bytes as it counts job places.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { DEFAULT_LIMITS, type SlotAmounts } from '../../src/admission/limits';
import { admissionQuery, releaseSlotsSignal, requestSlotsSignal, type AdmissionView, type resourceAdmission, type SlotRequest } from '../../workflows/admission';
import { ADMISSION_WORKFLOW_TYPE, CHECK_WORKER_WORKFLOW_TYPE } from '../../workflows/messages';
import { useTemporal } from '../helpers/temporal';
import { until } from '../helpers/until';

const NONE: SlotAmounts = { jobs: 0, files: 0, fileBytes: 0, deployments: 0 };

describe('admission queue: order and slot kinds', () => {
  const env = useTemporal();

  it('grants by priority, then first come first served, and never beyond the files and bytes the resource holds', async () => {
    const taskQueue = env.taskQueue();
    const worker = await env.createWorker({ taskQueue });
    // Holders are open workflows on a task queue no worker serves: they stay open (and so keep their slots) until terminated.
    const idle = `${taskQueue}-idle`;
    const names = ['files-a', 'files-b', 'job-c', 'job-d', 'job-e'] as const;
    const holders = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await env.client.workflow.start(CHECK_WORKER_WORKFLOW_TYPE, { taskQueue: idle, workflowId: `${n}-${taskQueue}`, args: [{}] })] as const)));
    const limits = { ...DEFAULT_LIMITS, runningJobs: 1, queuedJobs: 0, files: 3, fileBytes: 1000 };
    const resource = `/subscriptions/test/resourceGroups/test/providers/Microsoft.CognitiveServices/accounts/order-${taskQueue.slice(-8)}`;
    const request = (name: (typeof names)[number], amounts: Partial<SlotAmounts>, priority = 0): SlotRequest => ({ holder: holders[name]!.workflowId, runName: name, amounts: { ...NONE, ...amounts }, priority, limits });
    await worker.runUntil(async () => {
      const queue: WorkflowHandle<typeof resourceAdmission> = await env.client.workflow.signalWithStart(ADMISSION_WORKFLOW_TYPE, {
        taskQueue, workflowId: `admission-order-${taskQueue}`, args: [{ resource, limits }], signal: requestSlotsSignal, signalArgs: [request('files-a', { files: 2, fileBytes: 600 })],
      });
      const view = (): Promise<AdmissionView> => queue.query(admissionQuery);
      const once = (what: string, ok: (v: AdmissionView) => boolean): Promise<AdmissionView> => until(async () => {
        const v = await view();
        return ok(v) ? v : undefined;
      }, what);
      const held = (v: AdmissionView): string[] => v.holders.map((h) => h.runName).sort();
      const waiting = (v: AdmissionView): string[] => v.queue.map((q) => q.runName);

      // Files and bytes: one more file would fit (3), its 500 bytes would not (600 + 500 > 1000).
      await once('files-a granted', (v) => held(v).includes('files-a'));
      await queue.signal(requestSlotsSignal, request('files-b', { files: 1, fileBytes: 500 }));
      let v = await once('files-b waiting', (x) => waiting(x).includes('files-b'));
      assert.deepEqual([v.used.files, v.used.fileBytes, v.free.fileBytes], [2, 600, 400]);
      await queue.signal(releaseSlotsSignal, { holder: holders['files-a']!.workflowId });
      v = await once('files-b granted once files-a gave its files back', (x) => held(x).includes('files-b') && !held(x).includes('files-a'));
      assert.deepEqual([v.used.files, v.used.fileBytes], [1, 500]);

      // One job place: c holds it; d asks first, e later with a higher priority, and e goes first.
      await queue.signal(requestSlotsSignal, request('job-c', { jobs: 1 }));
      await once('job-c granted', (x) => held(x).includes('job-c'));
      await queue.signal(requestSlotsSignal, request('job-d', { jobs: 1 }));
      await once('job-d waiting', (x) => waiting(x).includes('job-d'));
      await queue.signal(requestSlotsSignal, request('job-e', { jobs: 1 }, 5));
      v = await once('job-e waiting', (x) => waiting(x).includes('job-e'));
      assert.deepEqual(v.queue.map((q) => [q.runName, q.position, q.priority]), [['job-e', 1, 5], ['job-d', 2, 0]], 'the higher priority is ahead though it asked later');
      await queue.signal(releaseSlotsSignal, { holder: holders['job-c']!.workflowId });
      v = await once('job-e granted', (x) => held(x).includes('job-e'));
      assert.deepEqual(waiting(v), ['job-d']);
      assert.equal(v.used.jobs, 1, 'never two jobs in one place');
      await queue.signal(releaseSlotsSignal, { holder: holders['job-e']!.workflowId });
      v = await once('job-d granted last', (x) => held(x).includes('job-d'));
      assert.deepEqual([waiting(v), v.granted, v.reclaimed], [[], 5, 0]);
      await Promise.all([queue.terminate('test done'), ...Object.values(holders).map((h) => h.terminate('test done'))]);
    });
  });
});
