/**
 * ftpipe's own figures, served beside the SDK's on the worker's Prometheus endpoint (`ftpipe worker --metrics`): they
 * go through the Temporal runtime's metric meter, so there is one endpoint and one exporter. Until a worker installs
 * its runtime (`useMetricMeter`), the meter is a no-op: the CLI and client make Azure calls without a runtime.
 */
import { noopMetricMeter, type MetricCounter, type MetricHistogram, type MetricMeter } from '@temporalio/common';

interface AzureInstruments {
  calls: MetricCounter;
  errors: MetricCounter;
  duration: MetricHistogram;
}

let instruments: AzureInstruments = makeInstruments(noopMetricMeter);

function makeInstruments(meter: MetricMeter): AzureInstruments {
  return {
    calls: meter.createCounter('ftpipe_azure_calls', undefined, 'HTTP requests to Azure (each attempt), by API and operation'),
    errors: meter.createCounter('ftpipe_azure_call_errors', undefined, 'Azure requests answered with a status >= 400 or failed without an answer (status "network")'),
    duration: meter.createHistogram('ftpipe_azure_call_duration', 'int', 'ms', 'Milliseconds to the response headers of Azure requests'),
  };
}

/** Called once by the process that installed the Temporal runtime (the worker). */
export function useMetricMeter(meter: MetricMeter): void {
  instruments = makeInstruments(meter);
}

export type AzureApi = 'openai' | 'arm';

/** One Azure request: `status` is the HTTP status, or undefined when no answer came (connection error, timeout). */
export function recordAzureCall(api: AzureApi, operation: string, status: number | undefined, milliseconds: number): void {
  const tags = { api, operation };
  instruments.calls.add(1, tags);
  instruments.duration.record(Math.round(milliseconds), tags);
  if (status === undefined || status >= 400) instruments.errors.add(1, { ...tags, status: status === undefined ? 'network' : String(status) });
}
