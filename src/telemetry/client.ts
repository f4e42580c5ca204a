/**
 * Client interceptors: a span per start, signal, update and query, its context passed to the workflow. They use the
 * tracer provider the process registered (the CLI's `setupTracing`, or the host application's own), a no-op without.
 */
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';

export function clientInterceptors(): { workflow: OpenTelemetryWorkflowClientInterceptor[] } {
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}
