/**
 * Workflow interceptors (bundled with the workflows, so workflow-safe): OpenTelemetry's workflow, signal, update,
 * query and activity-start spans, plus the run's name, profile and base model as attributes of the workflow span and
 * passed to its activities in a header (activities put it on their spans). Only names from the input are recorded,
 * never the input itself.
 */
import { trace } from '@opentelemetry/api';
import { defaultPayloadConverter } from '@temporalio/common';
import { interceptors as openTelemetryInterceptors } from '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors';
import type { WorkflowInterceptors } from '@temporalio/workflow';
import { RUN_NAME_HEADER, runAttributes } from './attributes';
import { useSharedTraceContext } from './trace-context';

export const interceptors = (): WorkflowInterceptors => {
  const otel = openTelemetryInterceptors();
  // One storage per workflow thread, not per execution (trace-context-storage.ts).
  useSharedTraceContext();
  let runName: string | undefined;
  return {
    ...otel,
    inbound: [
      ...(otel.inbound ?? []),
      {
        async execute(input, next) {
          const attributes = runAttributes(input.args[0]);
          runName = attributes['ftpipe.run_name'] as string | undefined;
          trace.getActiveSpan()?.setAttributes(attributes);
          return next(input);
        },
      },
    ],
    outbound: [
      ...(otel.outbound ?? []),
      {
        async scheduleActivity(input, next) {
          return next(runName ? { ...input, headers: { ...input.headers, [RUN_NAME_HEADER]: defaultPayloadConverter.toPayload(runName) } } : input);
        },
      },
    ],
  };
};
