/**
 * The worker options ftpipe sets beyond the SDK's defaults, as the SDK compiled them (workers/worker.ts says why).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useTemporal } from '../helpers/temporal';

describe('ftpipe worker options', () => {
  const env = useTemporal();

  it('gives a workflow activation 30 s of wall time, not the SDK\'s 5 s, and runs the workflow threads it is given', async () => {
    // Each is run and shut down at once: a worker that never ran keeps its hold on the connection.
    const defaults = await env.createWorker({ taskQueue: env.taskQueue() });
    await defaults.runUntil(() => Promise.resolve());
    assert.equal(defaults.main.options.isolateExecutionTimeoutMs, 30_000);
    assert.equal(defaults.main.options.workflowThreadPoolSize, 1);
    const twoThreads = await env.createWorker({ taskQueue: env.taskQueue(), workflowThreads: 2 });
    await twoThreads.runUntil(() => Promise.resolve());
    assert.equal(twoThreads.main.options.workflowThreadPoolSize, 2);
  });
});
