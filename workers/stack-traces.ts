/**
 * `--workflow-stack-traces on|off` (`FTPIPE_WORKFLOW_STACK_TRACES`; on by default): whether the runs' workflow threads
 * keep the SDK's stack-trace promise hook. `@temporalio/worker` 1.24 installs it in every workflow thread
 * (vm-shared.js `GlobalHandlers.setPromiseHook`): for every promise of workflow code an `Error().stack` mapped through
 * the bundle's source map, ~30% of a workflow thread's busy CPU; it serves only the Web UI's Stack Trace query
 * (`__stack_trace`). Off, the SDK takes its own path for a V8 without promise hooks: workflows are created with
 * `stackTracesEnabled: false` and the query fails with "Workflow stack traces are not enabled on this worker";
 * everything else (replay, other queries, signals, updates) is unchanged (docs/operations.md).
 *
 * The SDK has no option for it and starts its threads from its own file, so while the main Worker is created the
 * threads it starts for `workflow-worker-thread.js` start instead from a two-line entry that replaces
 * `setPromiseHook` and then loads that same file. The SDK version is pinned; the internals this needs are checked at
 * start and their absence fails the worker's start rather than leaving the hook on silently.
 */
import { createRequire } from 'node:module';
import type { WorkerOptions as ThreadOptions } from 'node:worker_threads';

export const WORKFLOW_STACK_TRACES_ENV = 'FTPIPE_WORKFLOW_STACK_TRACES';

export class WorkflowStackTracesError extends Error {}

/** The setting from the flag, else the environment variable, else on. Refuses anything but on/off. */
export function workflowStackTracesFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  const given = flag !== undefined ? { value: flag, from: '--workflow-stack-traces' } : env[WORKFLOW_STACK_TRACES_ENV] ? { value: env[WORKFLOW_STACK_TRACES_ENV], from: WORKFLOW_STACK_TRACES_ENV } : undefined;
  if (!given) return true;
  if (given.value === 'on') return true;
  if (given.value === 'off') return false;
  throw new WorkflowStackTracesError(`${given.from}: "${given.value}" is not on or off`);
}

const SDK_VERSION = '1.24.0';
const sdkRequire = createRequire(require.resolve('@temporalio/worker'));
/** The module object the SDK's threaded-vm.js reads `Worker` from at each thread's start. */
const threads = sdkRequire('node:worker_threads') as { Worker: typeof import('node:worker_threads').Worker };

interface SdkThreadInternals {
  threadFile: string;
  vmShared: string;
}

/** The SDK internals the setting relies on; throws when they are not what this code was written against. */
export function sdkThreadInternals(): SdkThreadInternals {
  const version = (sdkRequire('@temporalio/worker/package.json') as { version: string }).version;
  const fail = (what: string): never => {
    throw new WorkflowStackTracesError(`--workflow-stack-traces off needs @temporalio/worker ${SDK_VERSION}'s internals (${what}); found ${version}`);
  };
  if (version !== SDK_VERSION) fail(`version ${SDK_VERSION}`);
  const vmShared = sdkRequire.resolve('@temporalio/worker/lib/workflow/vm-shared');
  const threadFile = sdkRequire.resolve('@temporalio/worker/lib/workflow/workflow-worker-thread');
  const { GlobalHandlers } = sdkRequire(vmShared) as { GlobalHandlers?: { prototype: { setPromiseHook?: unknown } } };
  if (typeof GlobalHandlers?.prototype.setPromiseHook !== 'function') fail('vm-shared GlobalHandlers.setPromiseHook');
  return { threadFile, vmShared };
}

/** The entry a workflow thread starts from when the setting is off. */
function threadEntry({ threadFile, vmShared }: SdkThreadInternals): string {
  return `require(${JSON.stringify(vmShared)}).GlobalHandlers.prototype.setPromiseHook = function () {};\nrequire(${JSON.stringify(threadFile)});\n`;
}

/**
 * Runs `create` (the main Worker's creation) with the SDK's workflow threads started without the stack-trace promise
 * hook; threads of any other file start as usual. Throws when `create` started no workflow thread (the SDK starts
 * them elsewhere than this code expects).
 */
export async function withoutWorkflowStackTraces<T>(create: () => Promise<T>): Promise<T> {
  const internals = sdkThreadInternals();
  const entry = threadEntry(internals);
  const Original = threads.Worker;
  let redirected = 0;
  class WorkflowThread extends Original {
    constructor(filename: string | URL, options?: ThreadOptions) {
      if (filename === internals.threadFile) {
        redirected++;
        super(entry, { ...options, eval: true });
      } else super(filename, options);
    }
  }
  threads.Worker = WorkflowThread;
  let result: T;
  try {
    result = await create();
  } finally {
    threads.Worker = Original;
  }
  if (redirected === 0) throw new WorkflowStackTracesError(`--workflow-stack-traces off: @temporalio/worker ${SDK_VERSION} started no workflow thread from ${internals.threadFile}`);
  return result;
}
