/**
 * The process-wide Temporal runtime: structured logs through pino, and the SDK's Prometheus metrics endpoint when
 * asked for; ftpipe's own figures (src/telemetry/metrics.ts) go through the runtime's meter to the same endpoint.
 * `Runtime.install` may run once per process, before the first connection. The SDK's shutdown on signals is off: on
 * its signals it shuts every worker down at once, and ftpipe's three stop in order (workers/shutdown.ts,
 * FtpipeWorker.shutdown).
 */
import { DefaultLogger, makeTelemetryFilterString, Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';
import type { Logger } from '../src/logging';
import { useMetricMeter } from '../src/telemetry/metrics';

export interface RuntimeOptions {
  logger: Logger;
  /** `host:port` for the Prometheus scrape endpoint, e.g. `0.0.0.0:9464`; no metrics endpoint when omitted. */
  metricsAddress?: string;
}

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error',
};

export function installRuntime({ logger, metricsAddress }: RuntimeOptions): Runtime {
  const sdkLogger = new DefaultLogger('INFO', (entry) => {
    const meta: LogMetadata = entry.meta ?? {};
    logger[LEVELS[entry.level]]({ ...meta, sdk: true }, entry.message);
  });
  const runtime = Runtime.install({
    logger: sdkLogger,
    shutdownSignals: [],
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN' }) },
      ...(metricsAddress ? { metrics: { prometheus: { bindAddress: metricsAddress } } } : {}),
    },
  });
  useMetricMeter(runtime.metricMeter);
  return runtime;
}
