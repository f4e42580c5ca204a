/**
 * Azure's wire shapes, in one place: ids, error bodies, list envelopes and the JSON form of every emulated
 * resource. Handlers build records (state.ts) and render them only through these functions, so a shape that
 * drifts from Azure's specs is fixed here once.
 */
import { randomBytes } from 'node:crypto';
import type { CheckpointRecord, CopyRecord, DeploymentRecord, FileRecord, JobEventRecord, JobRecord } from './state';

export type Family = 'dated' | 'v1';

/** An error answered in Azure's shape: data plane `{error:{code,message,param}}`, ARM `{error:{code,message,target}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Data plane: the offending request field. ARM: the error target. */
    readonly param?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function dataPlaneErrorBody(err: ApiError): unknown {
  return { error: { code: err.code, message: err.message, param: err.param ?? null, type: null } };
}

export function armErrorBody(err: ApiError): unknown {
  return { error: err.param ? { code: err.code, message: err.message, target: err.param } : { code: err.code, message: err.message } };
}

/** Azure's data-plane 401 (its code really is the string "401"). */
export function unauthorizedDataPlane(): ApiError {
  return new ApiError(
    401,
    '401',
    'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
  );
}

export function unauthorizedArm(missing: boolean): ApiError {
  return missing
    ? new ApiError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.")
    : new ApiError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
}

export const invalidPayload = (message: string, param?: string): ApiError => new ApiError(400, 'invalidPayload', message, param);
export const notFound = (message: string): ApiError => new ApiError(404, 'notFound', message);
/** Invalid-state errors are 400, not 409: the openai SDK retries 409, and a state error is not transient. */
export const unexpectedEntityState = (message: string): ApiError => new ApiError(400, 'unexpectedEntityState', message);

const hex32 = (): string => randomBytes(16).toString('hex');
export const newFileId = (): string => `file-${hex32()}`;
export const newJobId = (): string => `ftjob-${hex32()}`;
export const newCheckpointId = (): string => `ftchkpt-${hex32()}`;
export const newEventId = (): string => `ftevent-${hex32()}`;
export const newCompletionId = (): string => `chatcmpl-${hex32()}`;
export const newOperationId = (): string => hex32();

/** Unix seconds, as every data-plane timestamp is. */
export const unixSeconds = (ms: number): number => Math.floor(ms / 1000);

export function fileJson(file: FileRecord, status: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: file.id,
    object: 'file',
    bytes: file.bytes,
    created_at: unixSeconds(file.createdAt),
    filename: file.filename,
    purpose: file.purpose,
    status,
  };
  if (file.expiresAt !== undefined) body.expires_at = unixSeconds(file.expiresAt);
  if (status === 'error') body.status_details = file.problem ?? 'The file is not valid.';
  return body;
}

export function fileDeletedJson(id: string): Record<string, unknown> {
  return { id, object: 'file', deleted: true };
}

export function jobJson(job: JobRecord): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: job.id,
    object: 'fine_tuning.job',
    created_at: unixSeconds(job.createdAt),
    status: job.status,
    model: job.model,
    fine_tuned_model: job.fineTunedModel,
    finished_at: job.finishedAt === null ? null : unixSeconds(job.finishedAt),
    training_file: job.trainingFile,
    validation_file: job.validationFile,
    result_files: job.resultFiles,
    trained_tokens: job.trainedTokens,
    seed: job.seed,
    hyperparameters: job.hyperparameters,
    method: { type: job.method, [job.method]: { ...job.methodSettings, hyperparameters: job.hyperparameters } },
    trainingType: job.trainingType,
    error: job.error,
    suffix: job.suffix,
    metadata: job.metadata,
    organization_id: null,
    integrations: null,
  };
  if (job.estimatedFinish !== null) body.estimated_finish = unixSeconds(job.estimatedFinish);
  return body;
}

export function eventJson(event: JobEventRecord): Record<string, unknown> {
  return {
    id: event.id,
    object: 'fine_tuning.job.event',
    created_at: unixSeconds(event.createdAt),
    level: event.level,
    message: event.message,
    type: event.type,
    data: event.data ?? {},
  };
}

export function checkpointJson(checkpoint: CheckpointRecord): Record<string, unknown> {
  return {
    id: checkpoint.id,
    object: 'fine_tuning.job.checkpoint',
    created_at: unixSeconds(checkpoint.createdAt),
    fine_tuned_model_checkpoint: checkpoint.modelName,
    step_number: checkpoint.step,
    fine_tuning_job_id: checkpoint.jobId,
    metrics: checkpoint.metrics,
  };
}

export function copyJson(copy: CopyRecord, statuses: Map<string, string>): Record<string, unknown> {
  return {
    checkpointedModelName: copy.checkpointedModelName,
    fineTuningJobId: copy.jobId,
    copiedAccountDetails: copy.destinations.map((d) => ({
      destinationResourceId: d.destinationResourceId,
      region: d.region,
      status: statuses.get(d.destinationResourceId) ?? 'InProgress',
    })),
  };
}

/**
 * List envelopes differ per family: v1 lists carry `first_id`/`last_id`/`has_more`; dated file lists are
 * `{object, data}` only, dated job/event/checkpoint lists add `has_more`.
 */
export function listJson(family: Family, data: { id: string }[], hasMore: boolean, withHasMoreOnDated: boolean): Record<string, unknown> {
  if (family === 'v1') {
    return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null, has_more: hasMore };
  }
  return withHasMoreOnDated ? { object: 'list', data, has_more: hasMore } : { object: 'list', data };
}

export function deploymentJson(deployment: DeploymentRecord, accountArmId: string, provisioningState: string): Record<string, unknown> {
  const model: Record<string, unknown> = { format: deployment.model.format, name: deployment.model.name, version: deployment.model.version };
  if (deployment.model.source) model.source = deployment.model.source;
  const capacity = deployment.sku.capacity;
  return {
    id: `${accountArmId}/deployments/${deployment.name}`,
    type: 'Microsoft.CognitiveServices/accounts/deployments',
    name: deployment.name,
    sku: { name: deployment.sku.name, capacity },
    systemData: {
      createdAt: new Date(deployment.createdAt).toISOString(),
      createdBy: 'ftpipe-emulator',
      createdByType: 'Application',
      lastModifiedAt: new Date(deployment.modifiedAt).toISOString(),
      lastModifiedBy: 'ftpipe-emulator',
      lastModifiedByType: 'Application',
    },
    etag: `"${deployment.etag}"`,
    properties: {
      model,
      versionUpgradeOption: 'NoAutoUpgrade',
      capabilities: { chatCompletion: 'true' },
      provisioningState,
      rateLimits: [
        { key: 'request', renewalPeriod: 10, count: capacity },
        { key: 'token', renewalPeriod: 60, count: capacity * 1000 },
      ],
    },
  };
}

export function armOperationJson(id: string, status: string, startedAt: number, endedAt: number | null, error?: ApiError): Record<string, unknown> {
  const body: Record<string, unknown> = { id, name: id, status, startTime: new Date(startedAt).toISOString() };
  if (endedAt !== null) body.endTime = new Date(endedAt).toISOString();
  if (error) body.error = { code: error.code, message: error.message };
  return body;
}

export function chatCompletionJson(model: string, content: string, promptTokens: number, createdAt: number): Record<string, unknown> {
  const completionTokens = estimateTokens(content);
  const noFilter = { hate: { filtered: false, severity: 'safe' }, self_harm: { filtered: false, severity: 'safe' }, sexual: { filtered: false, severity: 'safe' }, violence: { filtered: false, severity: 'safe' } };
  return {
    id: newCompletionId(),
    object: 'chat.completion',
    created: unixSeconds(createdAt),
    model,
    system_fingerprint: 'fp_ftpipe_emulator',
    prompt_filter_results: [{ prompt_index: 0, content_filter_results: noFilter }],
    choices: [
      { index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content, refusal: null, annotations: [] }, content_filter_results: noFilter },
    ],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}

/** The SSE chunks of a streamed completion (one content chunk, a finish chunk, then `[DONE]`). */
export function chatCompletionStream(model: string, content: string, createdAt: number): string {
  const id = newCompletionId();
  const chunk = (delta: Record<string, unknown>, finish: string | null): string =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: unixSeconds(createdAt), model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })}\n\n`;
  return chunk({ role: 'assistant', content }, null) + chunk({}, 'stop') + 'data: [DONE]\n\n';
}

/** Token estimate used for usage and trained_tokens: about four characters per token, as OpenAI's rule of thumb. */
export function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}
