/**
 * `--workflow-stack-traces on|off` (workers/stack-traces.ts): parsed and refused like the worker's other settings; off,
 * a workflow runs, answers its queries and signals, and the Stack Trace query answers the SDK's "not enabled"; on, it
 * answers a stack as before. One long-lived admission queue per worker on the shared server, no pipeline run: first
 * in a worker of the test's process, then in `ftpipe worker` itself (bin/ftpipe.js, the built code), where a bad
 * value exits 2 naming the flag or the variable it came from.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { DEFAULT_LIMITS } from '../../src/admission/limits';
import { WORKFLOW_STACK_TRACES_ENV, WorkflowStackTracesError, sdkThreadInternals, workflowStackTracesFrom } from '../../workers/stack-traces';
import type { FtpipeWorker } from '../../workers/worker';
import { admissionQuery } from '../../workflows/admission';
import { ADMISSION_WORKFLOW_TYPE } from '../../workflows/messages';
import { spawnBuiltWorker, workerStarted } from '../helpers/cli';
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

  /** Starts an admission queue on `taskQueue` (served by a worker on it) and asks it its view and its stack trace. */
  async function askQueue(taskQueue: string): Promise<{ view: unknown; stack: unknown }> {
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
  }

  async function stackTraceAnswer(workflowStackTraces: boolean): Promise<{ view: unknown; stack: unknown }> {
    const taskQueue = env.taskQueue();
    const worker: FtpipeWorker = await env.createWorker({ taskQueue, workflowStackTraces });
    return worker.runUntil(() => askQueue(taskQueue));
  }

  function assertAnswers(setting: 'on' | 'off', answer: { view: unknown; stack: unknown }): void {
    assert.ok(answer.view && typeof answer.view === 'object', `${setting}: the admission query answers`);
    if (setting === 'off') {
      assert.ok(answer.stack instanceof Error, `the stack-trace query fails off, got ${String(answer.stack)}`);
      assert.match(answer.stack.message, /Workflow stack traces are not enabled on this worker/);
    } else {
      assert.equal(typeof answer.stack, 'string', `a stack on, got ${String(answer.stack)}`);
      assert.match(answer.stack as string, /at /, 'a stack with frames');
    }
  }

  /**
   * The built worker's environment: MALLOC_ARENA_MAX set, so `ftpipe worker` runs the worker itself (no launcher child,
   * workers/launcher.ts), the test run's workflow bundle when there is one, no stack-trace setting but `extra`'s.
   */
  function builtWorkerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, MALLOC_ARENA_MAX: '2' };
    delete childEnv[WORKFLOW_STACK_TRACES_ENV];
    if (process.env.FTPIPE_TEST_WORKFLOW_BUNDLE) childEnv.FTPIPE_WORKFLOW_BUNDLE = process.env.FTPIPE_TEST_WORKFLOW_BUNDLE;
    return { ...childEnv, ...extra };
  }

  /** `ftpipe worker --workflow-stack-traces <setting>` on a task queue of its own: what its queue answers, then a clean stop. */
  async function cliStackTraceAnswer(setting: 'on' | 'off'): Promise<{ view: unknown; stack: unknown }> {
    const taskQueue = env.taskQueue();
    const worker = spawnBuiltWorker(['--address', env.server.address, '--task-queue', taskQueue, '--shutdown-grace', '1s', '--workflow-stack-traces', setting], builtWorkerEnv());
    try {
      const started = (await workerStarted(worker)) as { workflowStackTraces?: unknown };
      assert.equal(started.workflowStackTraces, setting === 'on', `the started line says the setting: ${worker.output()}`);
      return await askQueue(taskQueue);
    } finally {
      worker.child.kill('SIGTERM');
      assert.deepEqual(await worker.exited, { code: 0, signal: null }, worker.output());
    }
  }

  it('off: the workflow runs and answers its queries; the Stack Trace query answers "not enabled"; on: a stack as before', async () => {
    assertAnswers('off', await stackTraceAnswer(false));
    assertAnswers('on', await stackTraceAnswer(true));
  });

  it('ftpipe worker --workflow-stack-traces off / on (bin/ftpipe.js): the same answers from the CLI\'s worker', async () => {
    // Both workers at once (each on a task queue of its own): one cold start's wait instead of two.
    const [off, on] = await Promise.all([cliStackTraceAnswer('off'), cliStackTraceAnswer('on')]);
    assertAnswers('off', off);
    assertAnswers('on', on);
  });

  /** `ftpipe worker` with a setting it must refuse: how it exited, or that it started (then it is stopped: a failure, not a hang). */
  async function refusedStart(args: string[], extra: NodeJS.ProcessEnv = {}): Promise<{ exit: unknown; output: string }> {
    const worker = spawnBuiltWorker(['--address', env.server.address, '--task-queue', env.taskQueue(), '--shutdown-grace', '1s', ...args], builtWorkerEnv(extra));
    const started = await workerStarted(worker).then(() => true, () => false);
    if (started) worker.child.kill('SIGKILL');
    return { exit: started ? 'started' : await worker.exited, output: worker.output() };
  }

  it('ftpipe worker: a bad value exits 2 naming the flag, or the variable it came from', async () => {
    const [flag, variable] = await Promise.all([refusedStart(['--workflow-stack-traces', 'false']), refusedStart([], { [WORKFLOW_STACK_TRACES_ENV]: 'no' })]);
    assert.deepEqual(flag.exit, { code: 2, signal: null }, flag.output);
    assert.match(flag.output, /ftpipe worker: --workflow-stack-traces: "false" is not on or off/);
    assert.deepEqual(variable.exit, { code: 2, signal: null }, variable.output);
    assert.match(variable.output, /ftpipe worker: FTPIPE_WORKFLOW_STACK_TRACES: "no" is not on or off/);
  });
});
