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
