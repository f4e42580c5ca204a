/**
 * The worker options ftpipe sets beyond the SDK's defaults, as the SDK compiled them (workers/worker.ts says why).
 */
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { globalHandlers } from '@temporalio/worker/lib/workflow/vm-shared';
import { admissionTaskQueue } from '../../src/temporal/constants';
import { useTemporal } from '../helpers/temporal';

describe('ftpipe worker options', () => {
  const env = useTemporal();

  it('gives an activation 30 s of wall time (the SDK: 5 s), runs two workflow threads on two cores, four task slots each, keeps the SDK sticky timeout (10 s) unless set, and serves the admission queues apart', async () => {
    // Each is run and shut down at once: a worker that never ran keeps its hold on the connection.
    // workflowThreads unset: the product's default, not the test helper's one thread.
    const taskQueue = env.taskQueue();
    const defaults = await env.createWorker({ taskQueue, workflowThreads: undefined });
    await defaults.runUntil(() => Promise.resolve());
    const threads = Math.min(2, availableParallelism());
    assert.equal(defaults.main.options.isolateExecutionTimeoutMs, 30_000);
    assert.equal(defaults.main.options.workflowThreadPoolSize, threads);
    assert.deepEqual(defaults.main.options.tuner.workflowTaskSlotSupplier, { type: 'fixed-size', numSlots: 4 * threads });
    assert.equal(defaults.main.options.stickyQueueScheduleToStartTimeoutMs, 10_000, "the SDK's sticky timeout, unchanged");
    assert.equal(defaults.main.options.nonStickyToStickyPollRatio, 0.2, "the SDK's ratio, unchanged");
    // The admission queues on a task queue and slots of their own (grants wait for no run's task), on the main thread.
    assert.equal(defaults.admission.options.taskQueue, admissionTaskQueue(taskQueue));
    assert.equal(defaults.admission.options.debugMode, true);
    assert.deepEqual(defaults.admission.options.tuner.workflowTaskSlotSupplier, { type: 'fixed-size', numSlots: 2 });
    // ... without the SDK's stack-trace hooks there: its promise hook ran for every promise of the activities.
    assert.equal(globalHandlers.installed, false, 'no stack-trace hooks on the main thread');
    assert.equal(globalHandlers.promiseHookInstalled, false, 'admission workflows ask for no stack traces');
    const set = await env.createWorker({ taskQueue: env.taskQueue(), workflowThreads: 3, maxConcurrentWorkflowTaskExecutions: 5, stickyQueueScheduleToStartTimeout: '15 seconds', nonStickyToStickyPollRatio: 0.5 });
    await set.runUntil(() => Promise.resolve());
    assert.equal(set.main.options.workflowThreadPoolSize, 3);
    assert.deepEqual(set.main.options.tuner.workflowTaskSlotSupplier, { type: 'fixed-size', numSlots: 5 });
    assert.equal(set.main.options.stickyQueueScheduleToStartTimeoutMs, 15_000);
    assert.equal(set.main.options.nonStickyToStickyPollRatio, 0.5);
  });
});
