/**
 * Azure's wire shapes, in one place: ids, error bodies, list envelopes and the JSON form of every emulated
 * resource. Handlers build records (state.ts) and render them only through these functions, so a shape that
 * drifts from Azure's specs is fixed here once.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { CheckpointRecord, CopyRecord, DeploymentRecord, FileRecord, JobEventRecord, JobRecord } from './state';
import type { StepMetrics } from './training';
import type { ApiError } from './errors';
import { textTokens } from './tokens';

export type Family = 'dated' | 'v1';

const hex32 = (): string => randomBytes(16).toString('hex');
export const newFileId = (): string => `file-${hex32()}`;
export const newJobId = (): string => `ftjob-${hex32()}`;
export const newCheckpointId = (): string => `ftchkpt-${hex32()}`;
export const newEventId = (): string => `ftevent-${hex32()}`;
export const newCompletionId = (): string => `chatcmpl-${hex32()}`;
export const newOperationId = (): string => randomUUID();
export const newRequestId = (): string => randomUUID();

/** Unix seconds, as every data-plane timestamp is. */
export const unixSeconds = (ms: number): number => Math.floor(ms / 1000);

/** A file as the recordings show it: `status_details` only (and first) when in `error`; no `expires_at` echoed. */
export function fileJson(file: FileRecord, status: string): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (status === 'error') body.status_details = file.problem ?? 'Validation of jsonl file failed.';
  Object.assign(body, { status, bytes: file.bytes, purpose: file.purpose, filename: file.filename, id: file.id, created_at: unixSeconds(file.createdAt), object: 'file' });
  return body;
}

export function fileDeletedJson(id: string, deleted: boolean): Record<string, unknown> {
  return { object: 'file', deleted, id };
}

/**
 * Hyperparameters as shown: -1 for what the request left to the service until the first step is trained. Recorded:
 * -1 on pending jobs and on a running one (2025-11-15-preview, azure-ai-projects test_finetuning_pause_job), settled on
 * the same job once paused (test_finetuning_resume_job); when between those Azure settles them is not recorded.
 */
function shownHyperparameters(job: JobRecord): Record<string, unknown> {
  const started = job.stepsDone >= 1;
  const shown = (name: 'n_epochs' | 'batch_size' | 'learning_rate_multiplier'): number =>
    !started && job.autoHyperparameters.includes(name) && name !== 'learning_rate_multiplier' ? -1 : job.hyperparameters[name];
  return { n_epochs: shown('n_epochs'), batch_size: shown('batch_size'), learning_rate_multiplier: shown('learning_rate_multiplier') };
}

/** `method.<type>.hyperparameters` as 2025-11-15-preview echoes them: the method's own as given, then the three shown. */
function methodHyperparameters(job: JobRecord, shown: Record<string, unknown>): Record<string, unknown> {
  const own = Object.fromEntries(Object.entries(job.hyperparameters).filter(([name]) => !(name in shown) && name !== 'prompt_loss_weight'));
  return { ...own, ...shown };
}

/**
 * The eval a reinforcement job's validation runs are kept in (the RFT guide: "the evals associated with the fine-tuning
 * job"). Recorded (2025-11-15-preview, azure-ai-projects test_finetuning_deploy_and_infer_oai_model_rft_job): a
 * succeeded RFT job carries `eval: "eval_<32 hex>"`; pending ones carry none (the recorded creates and cancels).
 * When in between it appears is not recorded: the emulator shows it from the start of training, when the job's
 * evaluations (every `eval_interval` steps) begin. No spec defines it, so v1 answers (checked against the v1 spec)
 * leave it out. The emulator serves no Evals API: the id is derived from the job's, stable across reads.
 */
function reinforcementEvalId(jobId: string): string {
  return `eval_${createHash('sha256').update(jobId).digest('hex').slice(0, 32)}`;
}

/** What v1's `method.<type>.hyperparameters` defines beyond the three shown for every job (the v1 spec's FineTune*Hyperparameters). */
const V1_METHOD_HYPERPARAMETERS: Readonly<Record<JobRecord['method'], readonly string[]>> = {
  supervised: [],
  dpo: ['beta'],
  reinforcement: ['reasoning_effort', 'compute_multiplier', 'eval_interval', 'eval_samples'],
};

/**
 * A job per family. Dated: the recordings' shape (2025-04-01-preview): fields without a value are absent, `method`
 * is `{type}` only, no `metadata`, `trainingType` echoed only when the request set it. With `fullMethod`
 * (2025-11-15-preview, recorded): `method` whole as the create sent it (hyperparameters as shown, the RFT grader), no
 * `method` for a job created without one, and top-level `hyperparameters` only on a supervised job. v1: the v1 spec's
 * `OpenAI.FineTuningJob` (required fields present, `null` when unset), with `metadata` and the full `method`.
 */
export function jobJson(job: JobRecord, family: Family, fullMethod = false): Record<string, unknown> {
  const hyperparameters = shownHyperparameters(job);
  if (family === 'v1') {
    const own = Object.entries(job.hyperparameters).filter(([name]) => V1_METHOD_HYPERPARAMETERS[job.method].includes(name));
    const methodHyper = { ...hyperparameters, ...Object.fromEntries(own) };
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
      hyperparameters,
      method: { type: job.method, [job.method]: { ...job.methodSettings, hyperparameters: methodHyper } },
      error: job.error,
      estimated_finish: job.estimatedFinish === null ? null : unixSeconds(job.estimatedFinish),
      metadata: job.metadata,
      user_provided_suffix: job.suffix,
    };
    return body;
  }
  const body: Record<string, unknown> = {};
  if (!(fullMethod && job.method !== 'supervised')) body.hyperparameters = hyperparameters;
  if (job.suffix) body.suffix = job.suffix;
  body.seed = job.seed;
  if (!fullMethod) body.method = { type: job.method };
  else if (job.methodSent !== false) body.method = { type: job.method, [job.method]: { hyperparameters: methodHyperparameters(job, hyperparameters), ...job.methodSettings } };
  Object.assign(body, { status: job.status, model: job.model });
  if (job.fineTunedModel) body.fine_tuned_model = job.fineTunedModel;
  body.training_file = job.trainingFile;
  if (job.validationFile) body.validation_file = job.validationFile;
  if (job.resultFiles.length > 0) body.result_files = job.resultFiles;
  if (job.finishedAt !== null) body.finished_at = unixSeconds(job.finishedAt);
  if (job.trainedTokens !== null) body.trained_tokens = job.trainedTokens;
  if (job.error) body.error = job.error.param ? job.error : { code: job.error.code, message: job.error.message };
  if (job.trainingType) body.trainingType = job.trainingType;
  if (fullMethod && job.method === 'reinforcement' && job.trainingStartedAt !== null) body.eval = reinforcementEvalId(job.id);
  if (job.estimatedFinish !== null) body.estimated_finish = unixSeconds(job.estimatedFinish);
  Object.assign(body, { id: job.id, created_at: unixSeconds(job.createdAt), object: 'fine_tuning.job' });
  return body;
}

/** An event as recorded: message events carry no `data`; metrics events carry the step's metrics (no total). */
/** An event per family: a warning's level is `warn` in the v1 spec's enum and `warning` in the dated spec's `LogLevel`. */
export function eventJson(event: JobEventRecord, family: Family): Record<string, unknown> {
  const level = event.level === 'warn' && family === 'dated' ? 'warning' : event.level;
  const body: Record<string, unknown> = { id: event.id, created_at: unixSeconds(event.createdAt), level, message: event.message, type: event.type };
  if (event.data) body.data = event.data;
  body.object = 'fine_tuning.job.event';
  return body;
}

/** Metrics without the ones the job does not have (no validation file: step, train_loss, train_mean_token_accuracy). */
export function presentMetrics(metrics: StepMetrics): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).filter(([, v]) => v !== null));
}

export function checkpointJson(checkpoint: CheckpointRecord): Record<string, unknown> {
  return {
    id: checkpoint.id,
    created_at: unixSeconds(checkpoint.createdAt),
    fine_tuned_model_checkpoint: checkpoint.modelName,
    step_number: checkpoint.step,
    metrics: presentMetrics(checkpoint.metrics),
    fine_tuning_job_id: checkpoint.jobId,
    object: 'fine_tuning.job.checkpoint',
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

export type ListKind = 'files' | 'jobs' | 'events' | 'checkpoints';

/**
 * List envelopes per family and list: dated file lists are `{object, data}` (recorded), dated job, event and
 * checkpoint lists add `has_more`; v1 follows its spec (`first_id`/`last_id` on files and checkpoints only).
 */
export function listJson(family: Family, kind: ListKind, data: { id: string }[], hasMore: boolean): Record<string, unknown> {
  if (family === 'dated') return kind === 'files' ? { object: 'list', data } : { has_more: hasMore, data, object: 'list' };
  const body: Record<string, unknown> = { object: 'list', data };
  if (kind === 'files' || kind === 'checkpoints') {
    body.first_id = data[0]?.id ?? null;
    body.last_id = data[data.length - 1]?.id ?? null;
  }
  body.has_more = hasMore;
  return body;
}

/** A deployment's etag as ARM sends it, in the body and the `ETag` header: a quoted GUID (recorded). */
export const quotedEtag = (deployment: DeploymentRecord): string => `"${deployment.etag}"`;

export function deploymentJson(deployment: DeploymentRecord, accountArmId: string, provisioningState: string): Record<string, unknown> {
  const model: Record<string, unknown> = { format: deployment.model.format, name: deployment.model.name, version: deployment.model.version };
  if (deployment.model.source) model.source = deployment.model.source;
  const capacity = deployment.sku.capacity;
  return {
    id: `${accountArmId}/deployments/${deployment.name}`,
    type: 'Microsoft.CognitiveServices/accounts/deployments',
    name: deployment.name,
    sku: { name: deployment.sku.name, capacity },
    properties: {
      model,
      versionUpgradeOption: deployment.versionUpgradeOption ?? (deployment.served ? 'NoAutoUpgrade' : 'OnceNewDefaultVersionAvailable'),
      ...(deployment.raiPolicyName !== undefined ? { raiPolicyName: deployment.raiPolicyName } : {}),
      currentCapacity: capacity,
      // Recorded for a fine-tuned deployment (maxTotalToken there was that model's context).
      capabilities: deployment.served ? { completion: 'true', maxTotalToken: '128000', chatCompletion: 'true', assistants: 'true' } : { chatCompletion: 'true' },
      provisioningState,
      rateLimits: [
        { key: 'request', renewalPeriod: 10, count: capacity },
        { key: 'token', renewalPeriod: 60, count: capacity * 1000 },
      ],
    },
    systemData: {
      createdBy: 'ftpipe-emulator',
      createdByType: 'Application',
      createdAt: new Date(deployment.createdAt).toISOString(),
      lastModifiedBy: 'ftpipe-emulator',
      lastModifiedByType: 'Application',
      lastModifiedAt: new Date(deployment.modifiedAt).toISOString(),
    },
    etag: quotedEtag(deployment),
  };
}

/**
 * An ARM operation status (`Azure-AsyncOperation` body): `id` is the operation's path, as recorded. The 2025-09-01
 * recording of a fine-tuned deployment's create (azure-sdk-assets, python azure-ai-projects test_deploy_and_infer_job)
 * sends `percentComplete: 0.0` on every poll, `Succeeded` included: so does the emulator.
 */
export function armOperationJson(path: string, id: string, status: string, startedAt: number, endedAt: number | null, error?: ApiError): Record<string, unknown> {
  const body: Record<string, unknown> = { id: path, name: id, status, startTime: new Date(startedAt).toISOString() };
  if (endedAt !== null) body.endTime = new Date(endedAt).toISOString();
  body.percentComplete = 0;
  if (error) body.error = { code: error.code, message: error.message };
  return body;
}

export function chatCompletionJson(model: string, content: string, promptTokens: number, createdAt: number): Record<string, unknown> {
  const completionTokens = textTokens(content);
  const noFilter = { hate: { filtered: false, severity: 'safe' }, self_harm: { filtered: false, severity: 'safe' }, sexual: { filtered: false, severity: 'safe' }, violence: { filtered: false, severity: 'safe' } };
  // The fields of the inference spec's createChatCompletionResponse (2025-04-01-preview) and the live recording
  // (DeployAndChatWithModel): no `annotations`, which neither has.
  return {
    id: newCompletionId(),
    object: 'chat.completion',
    created: unixSeconds(createdAt),
    model,
    system_fingerprint: null,
    prompt_filter_results: [{ prompt_index: 0, content_filter_results: noFilter }],
    choices: [
      { index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content, refusal: null }, content_filter_results: noFilter },
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

