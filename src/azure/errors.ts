/**
 * Turns errors from the Azure clients into Temporal activity failures: client errors (400/401/403/404/422) fail fast
 * and are not retried, except refusals over a quota, which are waited out; throttling, conflicts, 5xx and network faults are retried, after Azure's Retry-After when given.
 * Only the status, Azure's error code and message cross over: the SDKs' error objects carry the request, whose headers
 * hold the api-key or bearer token, so they are never attached as a cause or logged.
 */
import { ApplicationFailure } from '@temporalio/common';
import { APIConnectionError, APIError } from 'openai';
import { AZURE_QUOTA_CODES, DEFAULT_LIMITS } from '../admission/limits';

export interface AzureErrorInfo {
  status: number | undefined;
  code: string | undefined;
  message: string;
  retryAfterMs: number | undefined;
}

const MAX_RETRY_AFTER_MS = 10 * 60_000;

function retryAfterFrom(get: (name: string) => string | null | undefined): number | undefined {
  const ms = Number(get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return Math.min(ms, MAX_RETRY_AFTER_MS);
  const header = get('retry-after');
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.min(Math.max(date - Date.now(), 0), MAX_RETRY_AFTER_MS);
}

/** Azure's Retry-After on a response (`retry-after-ms`, then `retry-after` in seconds or as a date), in ms, capped. */
export function retryAfterMs(headers: { get(name: string): string | null | undefined } | undefined): number | undefined {
  return headers ? retryAfterFrom((name) => headers.get(name)) : undefined;
}

interface RestErrorLike {
  name: string;
  message: string;
  statusCode?: number;
  code?: string;
  response?: { headers: { get(name: string): string | undefined }; bodyAsText?: string | null };
}

function isRestError(err: unknown): err is RestErrorLike {
  return err instanceof Error && err.name === 'RestError';
}

/** Azure's own `{error: {code, message}}`, out of a response body, if it is there. */
function azureBodyError(body: string | null | undefined): { code?: string; message?: string } | undefined {
  if (!body) return undefined;
  try {
    return (JSON.parse(body) as { error?: { code?: string; message?: string } }).error;
  } catch {
    return undefined;
  }
}

export function azureErrorInfo(err: unknown): AzureErrorInfo | undefined {
  if (err instanceof APIConnectionError) {
    return { status: undefined, code: 'connectionError', message: err.message, retryAfterMs: undefined };
  }
  if (err instanceof APIError) {
    const apiError = err as APIError<number | undefined, Headers | undefined, { code?: string; message?: string } | undefined>;
    const body = apiError.error;
    const headers = apiError.headers;
    return {
      status: apiError.status,
      code: apiError.code ?? body?.code ?? undefined,
      message: body?.message ?? apiError.message,
      retryAfterMs: headers ? retryAfterFrom((name) => headers.get(name)) : undefined,
    };
  }
  if (isRestError(err)) {
    const body = azureBodyError(err.response?.bodyAsText);
    return {
      status: err.statusCode,
      code: body?.code ?? err.code,
      message: body?.message ?? err.message,
      retryAfterMs: err.response ? retryAfterFrom((name) => err.response?.headers.get(name)) : undefined,
    };
  }
  return undefined;
}

const NON_RETRYABLE_STATUSES = new Set([400, 401, 403, 404, 405, 413, 415, 422]);

/** @azure/identity's errors for "no credential here" (DefaultAzureCredential wraps them in AggregateAuthenticationError). */
const CREDENTIAL_ERRORS = new Set(['CredentialUnavailableError', 'AggregateAuthenticationError', 'AuthenticationRequiredError']);

/** The name of an Entra ID "no credential" error, else undefined: retrying cannot make a credential appear. */
export function credentialErrorName(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = (e as Error & { cause?: unknown }).cause, depth++) {
    if (CREDENTIAL_ERRORS.has(e.name)) return e.name;
  }
  return undefined;
}

/** How an Azure error is retried; `quotaRetrySeconds`: the profile's limit of that name (its default otherwise). */
export interface AzureFailureOptions {
  quotaRetrySeconds?: number;
}

/** The failure an activity throws for an Azure error during `operation` (e.g. "create the fine-tuning job"). */
export function azureFailure(err: unknown, operation: string, options: AzureFailureOptions = {}): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const unavailable = credentialErrorName(err);
  if (unavailable) {
    return ApplicationFailure.create({ message: `${operation}: ${unavailable}: no Entra ID credential is available to this worker`, type: 'CredentialUnavailable', nonRetryable: true });
  }
  const info = azureErrorInfo(err);
  if (!info) {
    const message = err instanceof Error ? err.message : String(err);
    return ApplicationFailure.create({ message: `${operation}: ${message}`, type: 'UnexpectedError' });
  }
  const status = info.status === undefined ? 'no response' : `HTTP ${info.status}`;
  const message = `${operation}: Azure answered ${status}${info.code ? ` ${info.code}` : ''}: ${info.message}`;
  const details = [{ status: info.status ?? null, code: info.code ?? null }];
  // A create over one of the resource's limits succeeds once a slot frees up: wait it out, whatever the status.
  if (info.code !== undefined && AZURE_QUOTA_CODES.includes(info.code)) {
    return ApplicationFailure.create({ message, type: 'AzureQuotaExceeded', details, nextRetryDelay: info.retryAfterMs ?? (options.quotaRetrySeconds ?? DEFAULT_LIMITS.quotaRetrySeconds) * 1000 });
  }
  if (info.status !== undefined && NON_RETRYABLE_STATUSES.has(info.status)) {
    return ApplicationFailure.create({ message, type: `Azure${info.status}`, nonRetryable: true, details });
  }
  return ApplicationFailure.create({
    message,
    type: info.status === undefined ? 'AzureUnavailable' : `Azure${info.status}`,
    details,
    ...(info.retryAfterMs !== undefined ? { nextRetryDelay: info.retryAfterMs } : {}),
  });
}

/** Runs an Azure call, translating its errors. */
export async function callAzure<T>(operation: string, fn: () => Promise<T>, options: AzureFailureOptions = {}): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw azureFailure(err, operation, options);
  }
}

export function isAzureNotFound(err: unknown): boolean {
  return azureErrorInfo(err)?.status === 404;
}
