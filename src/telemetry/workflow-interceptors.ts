/**
 * Workflow interceptors (bundled with the workflows, so workflow-safe): OpenTelemetry's workflow, signal, update,
 * query and activity-start spans, plus the run's name, profile and base model as attributes of the workflow span and
 * passed to its activities in a header (activities put it on their spans). Only names from the input are recorded,
 * never the input itself.
 *
 * Executions from `ftpipe-lean-spans` on make no span for a local activity (the training monitor's poll, preflight's
 * reads, the admission join) nor for a query (a run's status, an admission queue's view): those are per poll and per
 * look, and each span cost the workflow thread a chain of promises (each one a stack capture by the SDK's promise
 * hook) and an export through the sink, whether or not tracing is on. A local activity still carries the trace
 * context, so its `RunActivity` span stays in the run's trace, a child of the workflow span. The decision is taken
 * once, when the execution starts, before its first local activity (the training monitor's loop takes the same patch,
 * workflows/training.ts): fewer spans change when promises settle, so runs and histories from before keep the SDK's.
 */
import { trace } from '@opentelemetry/api';
import { defaultPayloadConverter } from '@temporalio/common';
import { headersWithContext } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import {
  OpenTelemetryInboundInterceptor, OpenTelemetryInternalsInterceptor, OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow';
import type { WorkflowInterceptors } from '@temporalio/workflow';
import { patched } from '../../workflows/patches';
import { RUN_NAME_HEADER, runAttributes } from './attributes';
import { useSharedTraceContext } from './trace-context';

export const interceptors = (): WorkflowInterceptors => {
  let runName: string | undefined;
  let lean = false;
  class Inbound extends OpenTelemetryInboundInterceptor {
    override handleQuery(...args: Parameters<OpenTelemetryInboundInterceptor['handleQuery']>): Promise<unknown> {
      return lean ? args[1](args[0]) : super.handleQuery(...args);
    }
  }
  class Outbound extends OpenTelemetryOutboundInterceptor {
    override scheduleLocalActivity(...args: Parameters<OpenTelemetryOutboundInterceptor['scheduleLocalActivity']>): Promise<unknown> {
      const [input, next] = args;
      return lean ? next({ ...input, headers: headersWithContext(input.headers) }) : super.scheduleLocalActivity(...args);
    }
  }
  const otel = { inbound: new Inbound(), outbound: new Outbound(), internals: new OpenTelemetryInternalsInterceptor() };
  // One storage per workflow thread, not per execution (trace-context-storage.ts); after OpenTelemetry's interceptors.
  useSharedTraceContext();
  return {
    inbound: [
      otel.inbound,
      {
        async execute(input, next) {
          lean = patched('ftpipe-lean-spans');
          const attributes = runAttributes(input.args[0]);
          runName = attributes['ftpipe.run_name'] as string | undefined;
          trace.getActiveSpan()?.setAttributes(attributes);
          return next(input);
        },
      },
    ],
    outbound: [
      otel.outbound,
      {
        async scheduleActivity(input, next) {
          return next(runName ? { ...input, headers: { ...input.headers, [RUN_NAME_HEADER]: defaultPayloadConverter.toPayload(runName) } } : input);
        },
      },
    ],
    internals: [otel.internals],
  };
};
