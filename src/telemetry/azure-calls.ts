/**
 * The one hook every Azure request passes through: a `fetch` wrapper for the openai clients and a pipeline policy for
 * the ARM client. Each request is counted by operation (`GET fine_tuning/jobs/{id}`: ids and names replaced, so the
 * label set stays small) and traced as a client span under the activity's span. Neither records a body, a header
 * value or a query string (credentials and training data never reach a metric or a span).
 */
// Types only: the ARM client's pipeline package, which @azure/arm-cognitiveservices brings.
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { recordAzureCall, type AzureApi } from './metrics';

/** Data-plane collections whose next path segment is an id or a name (`files/{id}`), except the literal actions. */
const DATA_PLANE_COLLECTIONS = new Set(['files', 'jobs', 'checkpoints', 'deployments', 'models', 'batches', 'evals', 'runs']);
const DATA_PLANE_ACTIONS = new Set(['import', 'content', 'events', 'cancel', 'pause', 'resume', 'copy', 'checkpoints', 'chat', 'completions']);

/** `GET fine_tuning/jobs/{id}/events` for the data plane; `PUT accounts/{name}/deployments/{name}` for ARM. */
export function azureOperation(api: AzureApi, method: string, url: URL): string {
  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let template: string[];
  if (api === 'arm') {
    // ARM paths alternate type/name after the provider namespace: .../providers/Microsoft.CognitiveServices/accounts/a/deployments/d
    const provider = segments.findIndex((s) => s.toLowerCase() === 'providers');
    const rest = provider >= 0 ? segments.slice(provider + 2) : segments.slice(segments.findIndex((s) => s.toLowerCase() === 'subscriptions') + 2);
    template = rest.map((segment, i) => (i % 2 === 1 ? '{name}' : segment));
  } else {
    const openai = segments.indexOf('openai');
    const rest = segments.slice(openai + 1);
    if (rest[0] === 'v1') rest.shift();
    template = rest.map((segment, i) => (i > 0 && DATA_PLANE_COLLECTIONS.has(rest[i - 1]!) && !DATA_PLANE_ACTIONS.has(segment) ? '{id}' : segment));
  }
  return `${method.toUpperCase()} ${template.join('/')}`;
}

const tracer = () => trace.getTracer('ftpipe.azure');

async function observed<T extends { status: number }>(api: AzureApi, method: string, url: URL, send: () => Promise<T>, requestId: (res: T) => string | undefined): Promise<T> {
  const operation = azureOperation(api, method, url);
  return tracer().startActiveSpan(`azure ${operation}`, { kind: SpanKind.CLIENT, attributes: { 'azure.api': api, 'azure.operation': operation, 'http.request.method': method, 'server.address': url.hostname } }, async (span) => {
    const started = performance.now();
    try {
      const res = await send();
      recordAzureCall(api, operation, res.status, performance.now() - started);
      span.setAttribute('http.response.status_code', res.status);
      const id = requestId(res);
      if (id) span.setAttribute('azure.request_id', id);
      if (res.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${res.status}` });
      return res;
    } catch (err) {
      recordAzureCall(api, operation, undefined, performance.now() - started);
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Wraps the `fetch` an openai client uses. */
export function observedFetch(inner: typeof fetch = fetch): typeof fetch {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    return observed('openai', method, url, () => inner(input, init), (res) => res.headers.get('apim-request-id') ?? undefined);
  };
}

/** A per-retry policy for the ARM client: every attempt is one request to Azure. */
export function observedArmPolicy(): { policy: PipelinePolicy; position: 'perRetry' } {
  return {
    position: 'perRetry',
    policy: {
      name: 'ftpipeObservedArm',
      sendRequest: (request, next) => observed('arm', request.method, new URL(request.url), () => next(request), (res) => res.headers.get('x-ms-request-id')),
    },
  };
}
