/**
 * OpenTelemetry tracing for workers, the client and the CLI, through `@temporalio/interceptors-opentelemetry`:
 * client spans (start, signal, update, query), workflow spans (exported by the worker through a sink, never on
 * replay), activity spans, and one client span per Azure request (src/telemetry/azure-calls.ts). Spans carry the run's
 * name and Azure ids (src/telemetry/attributes.ts), never payloads.
 *
 * Export is OTLP over HTTP, on when the standard variables ask for it: `OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` set and `OTEL_TRACES_EXPORTER` not `none`; `OTEL_EXPORTER_OTLP_HEADERS`,
 * `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` are read as the OpenTelemetry SDK reads them.
 */
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource, detectResourcesSync, envDetectorSync } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor, makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import { trace } from '@opentelemetry/api';
import { otlpTracesConfigured, type Env } from './otlp-env';
import { RUN_NAME_HEADER, activityArgumentAttributes, activityResultAttributes } from './attributes';

export interface Tracing {
  /** Whether spans are exported (OTLP configured). */
  enabled: boolean;
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Flushes and stops the exporter. */
  shutdown(): Promise<void>;
}

let installed: Tracing | undefined;

/**
 * Registers the process's tracer provider once (with an async-hooks context, so Azure spans nest under activity
 * spans). `spanProcessor` replaces the OTLP exporter (tests, or a host that exports its own way).
 */
export function setupTracing(options: { serviceName: string; env?: Env; spanProcessor?: SpanProcessor }): Tracing {
  if (installed) return installed;
  const env = options.env ?? process.env;
  const enabled = Boolean(options.spanProcessor) || otlpTracesConfigured(env);
  const resource = new Resource({ 'service.name': env.OTEL_SERVICE_NAME ?? options.serviceName }).merge(detectResourcesSync({ detectors: [envDetectorSync] }));
  if (!enabled) {
    installed = { enabled, spanProcessor: new NoopSpanProcessor(), resource, shutdown: () => Promise.resolve() };
    return installed;
  }
  const spanProcessor = options.spanProcessor ?? new BatchSpanProcessor(new OTLPTraceExporter(tracesUrl(env) ? { url: tracesUrl(env)! } : {}));
  const provider = new BasicTracerProvider({ resource });
  provider.addSpanProcessor(spanProcessor);
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
  installed = { enabled, spanProcessor, resource, shutdown: () => provider.shutdown() };
  return installed;
}

/** The signal-specific endpoint as given; the generic one with `/v1/traces` appended (the OTLP rule). */
function tracesUrl(env: Env): string | undefined {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  return env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces` : undefined;
}

/** The workflow interceptor module: bundled with the workflows (scripts/bundle-workflows.ts) or given to the worker. */
export const WORKFLOW_INTERCEPTORS_MODULE = require.resolve('./workflow-interceptors');

/**
 * The sink workflow spans leave the sandbox through (a no-op when tracing is off). The SDK's exporter copies the whole
 * WorkflowInfo onto each span (memo, search attributes, last result: payloads); only these identifying fields pass.
 */
const WORKFLOW_INFO_ATTRIBUTES = ['workflowId', 'runId', 'workflowType', 'taskQueue', 'namespace', 'attempt', 'firstExecutionRunId'] as const;

export function workflowSpanSinks(tracing: Tracing): InjectedSinks<Record<string, never>> {
  const sink = makeWorkflowExporter(tracing.spanProcessor, tracing.resource);
  const exporter = {
    export: {
      ...sink.export,
      fn: (info: WorkflowInfo, spans: Parameters<typeof sink.export.fn>[1]) =>
        sink.export.fn(Object.fromEntries(WORKFLOW_INFO_ATTRIBUTES.map((key) => [key, info[key]])) as unknown as WorkflowInfo, spans),
    },
  };
  return { exporter } as unknown as InjectedSinks<Record<string, never>>;
}

/** The header as the workflow interceptor wrote it (plain JSON; headers bypass the payload codec); a label, so never a failure. */
function runNameOf(header: Payload): string {
  try {
    return String(defaultPayloadConverter.fromPayload<string>(header));
  } catch {
    return '(unreadable)';
  }
}

/** Activity spans, with the run's name (from the workflow's header) and the Azure ids of the arguments and result. */
export const activityInterceptors: ActivityInterceptorsFactory = (ctx) => {
  const otel = new OpenTelemetryActivityInboundInterceptor(ctx);
  return {
    inbound: {
      execute: (input, next) =>
        otel.execute(input, async (inner) => {
          const span = trace.getActiveSpan();
          const header = inner.headers[RUN_NAME_HEADER];
          if (header) span?.setAttribute('ftpipe.run_name', runNameOf(header));
          span?.setAttributes(activityArgumentAttributes(inner.args[0]));
          const result = await next(inner);
          span?.setAttributes(activityResultAttributes(result));
          return result;
        }),
    },
    outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
  };
};
