/**
 * The JavaScript source of `serveBenchWorker(dist, bench)`, what every bench's worker child does (bench/pipelines.ts,
 * bench/open-runs.ts), embedded in each child's script: plain JavaScript on the built code (dist/, its workflow bundle
 * included), so neither a TypeScript loader nor webpack adds to the worker's time or memory. The child waits for its
 * configuration, starts an ftpipe worker with it, says `ready`, stops on `stop` or when the parent goes away, and
 * reports a failure as `error`; each bench adds its own messages.
 */
export const SERVE_BENCH_WORKER = `const { NativeConnection } = require('@temporalio/worker');
const pino = require('pino');

/**
 * @param {string} dist the built code's directory
 * @param {{ logLevel: string, beforeConnect?: (cfg: any) => Promise<void>, onMessage?: (message: any, worker: any) => void, readyDetails?: (worker: any) => object }} bench
 */
function serveBenchWorker(dist, bench) {
  const { createLogger } = require(dist + '/src/logging');
  const { createFtpipeWorker, builtWorkflowBundlePath } = require(dist + '/workers/worker');
  const { installRuntime } = require(dist + '/workers/runtime');
  process.once('message', async (cfg) => {
    try {
      const logger = createLogger({ level: process.env.FTPIPE_BENCH_LOG || bench.logLevel, destination: pino.destination(2) });
      installRuntime({ logger });
      if (bench.beforeConnect) await bench.beforeConnect(cfg);
      const connection = await NativeConnection.connect({ address: cfg.address });
      const workflowBundlePath = builtWorkflowBundlePath();
      if (!workflowBundlePath) throw new Error('dist/ has no workflow bundle: run npm run build');
      const worker = await createFtpipeWorker({
        connection, namespace: cfg.namespace, taskQueue: cfg.taskQueue,
        deps: { config: cfg.config, logger, version: 'bench', env: { ...process.env, ...cfg.env } },
        workflowSource: { workflowBundlePath }, shutdownGraceTime: '2s', ...cfg.tuning,
      });
      process.on('message', (m) => {
        if (m && m.type === 'stop') worker.shutdown();
        else if (m && bench.onMessage) bench.onMessage(m, worker);
      });
      // The parent going away (crash, Ctrl-C) must not leave this worker behind.
      process.on('disconnect', () => worker.shutdown());
      const running = worker.run();
      process.send({ type: 'ready', ...(bench.readyDetails ? bench.readyDetails(worker) : {}) });
      await running;
      await connection.close();
      process.exit(0);
    } catch (err) {
      process.send({ type: 'error', message: String((err && err.stack) || err) });
      process.exit(1);
    }
  });
}
`;

/**
 * JavaScript for a bench's worker child that writes heap snapshots of the SDK's workflow threads (the cached
 * executions). The SDK keeps its threads to itself, so `worker_threads.Worker` is wrapped to record each workflow thread
 * as the SDK starts it: embed this before `serveBenchWorker` runs. `writeWorkflowThreadSnapshots(pathOf)` writes thread
 * i's snapshot to `pathOf(i)`, one thread after the other, and resolves with the paths.
 */
export const WORKFLOW_THREAD_SNAPSHOTS = `const workflowThreads = [];
{
  const threads = require('node:worker_threads');
  const SdkWorker = threads.Worker;
  threads.Worker = class extends SdkWorker {
    constructor(file, options) {
      super(file, options);
      if (String(file).includes('workflow-worker-thread')) workflowThreads.push(this);
    }
  };
}
/** @param {(index: number) => string} pathOf */
async function writeWorkflowThreadSnapshots(pathOf) {
  const { pipeline } = require('node:stream/promises');
  const { createWriteStream } = require('node:fs');
  const paths = [];
  for (const [i, thread] of workflowThreads.entries()) {
    await pipeline(await thread.getHeapSnapshot(), createWriteStream(pathOf(i)));
    paths.push(pathOf(i));
  }
  return paths;
}
`;

/**
 * JavaScript for a bench's worker child: each SDK workflow thread starts from an entry that counts the calls into its
 * workflow context (the SDK's `Script.runInContext`, several per activation) and prints the count every 5,000 calls;
 * with `FTPIPE_BENCH_ACTIVATION_TIMEOUT=off` in the child's environment it also drops their `timeout` option (the
 * SDK's `isolateExecutionTimeout`), for which Node starts and joins a watchdog thread on every call. An experiment
 * (`bench/pipelines.ts --no-activation-timeout`), not what `ftpipe worker` does: without the timeout a workflow
 * activation that never yields is never stopped. With workflow stack traces off, ftpipe's own entry starts the threads
 * and this one is not used (bench/pipelines.ts refuses the two flags together). Embed it after WORKFLOW_THREAD_SNAPSHOTS.
 */
export const WORKFLOW_CONTEXT_CALLS = `{
  const threads = require('node:worker_threads');
  const threadFile = require.resolve('@temporalio/worker/lib/workflow/workflow-worker-thread');
  const entry = \`const vm = require('node:vm');
const run = vm.Script.prototype.runInContext;
const dropTimeout = process.env.FTPIPE_BENCH_ACTIVATION_TIMEOUT === 'off';
let calls = 0;
vm.Script.prototype.runInContext = function (context, options) {
  if (++calls % 5000 === 0) process.stderr.write('bench: workflow thread ' + require('node:worker_threads').threadId + ': ' + calls + ' calls into the workflow context' + (dropTimeout ? ' (no timeout)' : '') + '\\\\n');
  if (dropTimeout && options && options.timeout !== undefined) {
    const { timeout, ...rest } = options;
    return run.call(this, context, rest);
  }
  return run.call(this, context, options);
};
require(\${JSON.stringify(threadFile)});\`;
  const Counted = threads.Worker;
  threads.Worker = class extends Counted {
    constructor(file, options) {
      if (file === threadFile && !(options && options.eval)) super(entry, { ...options, eval: true });
      else super(file, options);
    }
  };
}
`;
