/**
 * `--workflow-stack-traces on|off` (workers/stack-traces.ts): parsed and refused like the worker's other settings; off,
 * a workflow runs, answers its queries and signals, and the Stack Trace query answers the SDK's "not enabled"; on, it
 * answers a stack as before. One long-lived admission queue per worker on the shared server, no pipeline run.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { DEFAULT_LIMITS } from '../../src/admission/limits';
import { WORKFLOW_STACK_TRACES_ENV, WorkflowStackTracesError, sdkThreadInternals, workflowStackTracesFrom } from '../../workers/stack-traces';
import type { FtpipeWorker } from '../../workers/worker';
import { admissionQuery } from '../../workflows/admission';
import { ADMISSION_WORKFLOW_TYPE } from '../../workflows/messages';
import { useTemporal } from '../helpers/temporal';

describe('workflow stack traces setting', () => {
  const env = useTemporal();

  it('is on by default, read from the flag before the environment, and refuses anything but on/off', () => {
    assert.equal(workflowStackTracesFrom(undefined, {}), true);
    assert.equal(workflowStackTracesFrom(undefined, { [WORKFLOW_STACK_TRACES_ENV]: 'off' }), false);
    assert.equal(workflowStackTracesFrom('on', { [WORKFLOW_STACK_TRACES_ENV]: 'off' }), true);
    assert.equal(workflowStackTracesFrom('off', {}), false);
    assert.throws(() => workflowStackTracesFrom('false', {}), (err: unknown) => err instanceof WorkflowStackTracesError && /--workflow-stack-traces: "false" is not on or off/.test(err.message));
    assert.throws(() => workflowStackTracesFrom(undefined, { [WORKFLOW_STACK_TRACES_ENV]: 'no' }), /FTPIPE_WORKFLOW_STACK_TRACES: "no" is not on or off/);
    // The pinned SDK's internals it needs are there (a new SDK version fails the worker's start instead).
    assert.doesNotThrow(() => sdkThreadInternals());
  });

  async function stackTraceAnswer(workflowStackTraces: boolean): Promise<{ view: unknown; stack: unknown }> {
    const taskQueue = env.taskQueue();
    const worker: FtpipeWorker = await env.createWorker({ taskQueue, workflowStackTraces });
    return worker.runUntil(async () => {
      // An admission queue started on the main queue (as queues started before they had their own): it stays open.
      const handle = await env.client.workflow.start(ADMISSION_WORKFLOW_TYPE, { taskQueue, workflowId: `stack-${randomUUID()}`, args: [{ resource: `/subscriptions/s/resourceGroups/g/providers/Microsoft.CognitiveServices/accounts/stack-${randomUUID().slice(0, 8)}`, limits: DEFAULT_LIMITS }] });
      try {
        const view = await handle.query(admissionQuery);
        // The SDK's built-in query behind the Web UI's Stack Trace tab.
        const stack = await handle.query<string>('__stack_trace').then((s) => s, (err: unknown) => err);
        return { view, stack };
      } finally {
        await handle.terminate('test done');
      }
    });
  }

  it('off: the workflow runs and answers its queries; the Stack Trace query answers "not enabled"; on: a stack as before', async () => {
    const off = await stackTraceAnswer(false);
    assert.ok(off.view && typeof off.view === 'object', 'the admission query answers');
    assert.ok(off.stack instanceof Error, `the stack-trace query fails off, got ${String(off.stack)}`);
    assert.match(off.stack.message, /Workflow stack traces are not enabled on this worker/);
    const on = await stackTraceAnswer(true);
    assert.ok(on.view && typeof on.view === 'object');
    assert.equal(typeof on.stack, 'string', `a stack on, got ${String(on.stack)}`);
    assert.match(on.stack as string, /at /, 'a stack with frames');
  });
});
