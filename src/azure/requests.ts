/**
 * The shapes of the requests ftpipe sends to Azure, in one place (see ../shared/azure-api-facts.md for their sources).
 * Workflow-safe: pure functions over plain data.
 */
import type { JobCreateParams } from 'openai/resources/fine-tuning/jobs/jobs';
import type { DpoMethod, ReinforcementHyperparameters, SupervisedMethod } from 'openai/resources/fine-tuning/methods';
import type { DeploymentType } from '../catalog';
import type { Hyperparameters, Method, PipelineInput } from '../pipeline/input';
import { JOB_METADATA_LIMITS } from './limits';

/**
 * Which URL family each operation goes to (see README "Azure API families"). The seeds drive files, jobs, events,
 * checkpoints, pause/resume/cancel and copy through GA v1 (`{endpoint}/openai/v1`); the dated family
 * (`?api-version=2025-04-01-preview`) only where a feature needs it: the training tier (`trainingType`) and
 * `prompt_loss_weight` (the seed's only examples of both use that api-version), file import from a URL (not in v1),
 * and inference on a deployment (the `AzureOpenAI` client's route).
 */
export type ApiFamily = 'v1' | 'dated';
export const DATED_API_VERSION = '2025-04-01-preview';

/**
 * The dated api-version a reinforcement job on a Global or Developer tier is created with, whatever the profile's
 * `apiVersion`: its create takes `method.reinforcement` whole (grader, hyperparameters) beside `trainingType`, where
 * 2025-04-01-preview's `method.type` is supervised|dpo only. Recorded (Azure/azure-sdk-assets,
 * python/sdk/ai/azure-ai-projects/tests/recordings/finetuning, 2025-12 to 2026-02, East US 2): o4-mini RFT creates
 * answered 201 with trainingType `standard`, `globalStandard` and `developerTier`, and no top-level hyperparameters.
 * Those went through a Foundry project endpoint (`/api/projects/{project}/openai/...`, the resource's paths below it):
 * no recording shows this version's job create on a resource endpoint (its `api-supported-versions` header names the
 * version nowhere, yet the project endpoint took it).
 */
export const RFT_DATED_API_VERSION = '2025-11-15-preview';

/** Azure's spelling of each training type in the dated family's `trainingType` (the seed's example: `developerTier`). */
export const AZURE_TRAINING_TYPE = {
  Standard: 'Standard',
  Global: 'GlobalStandard',
  Developer: 'developerTier',
} as const;
export type AzureTrainingType = (typeof AZURE_TRAINING_TYPE)[keyof typeof AZURE_TRAINING_TYPE];

/** Metadata keys ftpipe sets on every v1 job it creates; a retried create looks for them before creating again. */
export const RUN_METADATA = {
  workflowId: 'ftpipe_workflow_id',
  firstRunId: 'ftpipe_first_run_id',
  runName: 'ftpipe_run_name',
} as const;

export interface RunIdentity {
  workflowId: string;
  /** The first run id of the workflow execution chain: stable across retries and continue-as-new, new for a reused id. */
  firstRunId: string;
  runName: string;
}

export function runMetadata(identity: RunIdentity): Record<string, string> {
  return {
    [RUN_METADATA.workflowId]: identity.workflowId.slice(0, JOB_METADATA_LIMITS.valueChars),
    [RUN_METADATA.firstRunId]: identity.firstRunId,
    [RUN_METADATA.runName]: identity.runName.slice(0, JOB_METADATA_LIMITS.valueChars),
  };
}

/** Everything a job create needs, decided by the workflow (the seed is drawn and recorded there when the input has none). */
export interface JobPlan {
  baseModel: string;
  method: Method;
  hyperparameters: Hyperparameters;
  seed: number;
  suffix?: string | undefined;
  trainingType: PipelineInput['trainingType'];
  metadata: Record<string, string>;
  files: { training: string; validation?: string | undefined };
  identity: RunIdentity;
}

/**
 * The RFT grader of Azure's v1 spec (`AzureFineTuneReinforcementMethod.grader`): one of these four with its required
 * fields (no Python grader, which OpenAI's own API has); other fields go to Azure as the user gave them. Own types,
 * not openai's `ReinforcementMethod`: that one types score_model's input and multi's graders more narrowly than
 * Azure's spec, and takes OpenAI's Python grader, which Azure does not.
 */
export type AzureGrader =
  | { type: 'string_check'; name: string; input: string; reference: string; operation: 'eq' | 'ne' | 'like' | 'ilike'; [field: string]: unknown }
  | {
    type: 'text_similarity'; name: string; input: string; reference: string;
    evaluation_metric: 'fuzzy_match' | 'bleu' | 'gleu' | 'meteor' | 'rouge_1' | 'rouge_2' | 'rouge_3' | 'rouge_4' | 'rouge_5' | 'rouge_l';
    [field: string]: unknown;
  }
  | { type: 'score_model'; name: string; model: string; input: unknown[]; range?: number[]; [field: string]: unknown }
  | { type: 'multi'; name: string; graders: Record<string, unknown>; calculate_output: string; [field: string]: unknown };

/** v1's `method` for reinforcement fine-tuning, as Azure's spec has it. */
export interface AzureReinforcementMethod {
  type: 'reinforcement';
  reinforcement: { grader: AzureGrader; hyperparameters?: ReinforcementHyperparameters };
}

/**
 * v1's create body: the openai package's `JobCreateParams` (hyperparameters inside `method`, `metadata`), with Azure's
 * reinforcement method. Sent as it is (activities/jobs.ts), so nothing narrows it to openai's grader types.
 */
export type V1JobCreateBody = Omit<JobCreateParams, 'method'> & {
  model: string;
  seed: number;
  method: { type: 'supervised'; supervised: SupervisedMethod } | { type: 'dpo'; dpo: DpoMethod } | AzureReinforcementMethod;
  metadata: Record<string, string>;
};

/**
 * The dated 2025-04-01-preview create body: supervised, top-level `hyperparameters` (with Azure's `prompt_loss_weight`)
 * and no `method`; DPO, `method.dpo.hyperparameters` and no top-level ones (Azure ignores those beside a method);
 * `trainingType`, and no `metadata` (its FineTuningJobCreation has none). A reinforcement job's body
 * (sent with RFT_DATED_API_VERSION): `method.reinforcement` whole, hyperparameters inside it, none at the top level.
 */
export type DatedJobCreateBody = Omit<JobCreateParams, 'metadata' | 'hyperparameters' | 'method' | 'integrations'> & {
  model: string;
  seed: number;
  hyperparameters?: JobCreateParams.Hyperparameters & { prompt_loss_weight?: number };
  method?: { type: 'dpo'; dpo: DpoMethod } | AzureReinforcementMethod;
  trainingType: AzureTrainingType;
};

/**
 * A create, its family, and for the dated family the api-version it needs when the profile's will not do (a
 * reinforcement job: RFT_DATED_API_VERSION); without one, the profile's `apiVersion`.
 */
export type JobCreateRequest = { family: 'v1'; body: V1JobCreateBody } | { family: 'dated'; apiVersion?: string; body: DatedJobCreateBody };

/** A plan no family can carry (e.g. `promptLossWeight` on a DPO or reinforcement job); names the input field. */
export class JobPlanError extends Error {
  override readonly name = 'JobPlanError';
}

/**
 * The first dated api-version whose job create defines `method`: azure-rest-api-specs' FineTuningJobCreation has none
 * in 2024-10-21 (GA) or 2024-12-01-preview and supervised|dpo from 2025-01-01-preview on. Sent to an older version, a
 * DPO create's `method` would be dropped as an undefined field, leaving a supervised job on preference data.
 */
export const FIRST_DATED_METHOD_API_VERSION = '2025-01-01-preview';

/** Whether a dated create at `apiVersion` can carry `method` (versions compare by their dates). */
export function datedApiVersionTakesMethod(apiVersion: string): boolean {
  return apiVersion.slice(0, 10) >= FIRST_DATED_METHOD_API_VERSION.slice(0, 10);
}

/**
 * Whether the plan's create sends `method` at the profile's api-version: DPO on the dated family (a Global or
 * Developer tier). Reinforcement's dated create has its own version (RFT_DATED_API_VERSION); supervised sends none.
 */
export function sendsMethodAtProfileApiVersion(plan: Pick<JobPlan, 'method' | 'trainingType' | 'hyperparameters'>): boolean {
  return plan.method.type === 'dpo' && jobCreateFamily(plan) === 'dated';
}

/** The family a job create goes to: dated only for what only it documents (a non-Standard tier, prompt_loss_weight). */
export function jobCreateFamily(plan: Pick<JobPlan, 'trainingType' | 'hyperparameters'>): ApiFamily {
  return plan.trainingType !== 'Standard' || plan.hyperparameters.promptLossWeight !== undefined ? 'dated' : 'v1';
}

function common(h: Hyperparameters): JobCreateParams.Hyperparameters {
  const out: JobCreateParams.Hyperparameters = {};
  if (h.nEpochs !== undefined) out.n_epochs = h.nEpochs;
  if (h.batchSize !== undefined) out.batch_size = h.batchSize;
  if (h.learningRateMultiplier !== undefined) out.learning_rate_multiplier = h.learningRateMultiplier;
  return out;
}

function dpo(h: Hyperparameters): DpoMethod {
  return { hyperparameters: { ...common(h), ...(h.beta !== undefined ? { beta: h.beta } : {}) } };
}

/**
 * `method.reinforcement.hyperparameters`: the common three and the RFT-only four. `reasoning_effort` has no "auto" in
 * Azure's spec (its enum is default|low|medium|high), so the input's "auto" is said by leaving it out.
 */
function reinforcement(h: Hyperparameters): ReinforcementHyperparameters {
  const out: ReinforcementHyperparameters = common(h);
  if (h.reasoningEffort !== undefined && h.reasoningEffort !== 'auto') out.reasoning_effort = h.reasoningEffort;
  if (h.computeMultiplier !== undefined) out.compute_multiplier = h.computeMultiplier;
  if (h.evalInterval !== undefined) out.eval_interval = h.evalInterval;
  if (h.evalSamples !== undefined) out.eval_samples = h.evalSamples;
  return out;
}

/** The dated spec types hyperparameters as numbers only: "auto" is said by leaving the field out. */
function numbersOnly<T extends object>(h: T): T {
  return Object.fromEntries(Object.entries(h).filter(([, v]) => v !== 'auto')) as T;
}

function v1Method(plan: JobPlan): V1JobCreateBody['method'] {
  const h = plan.hyperparameters;
  switch (plan.method.type) {
    case 'reinforcement':
      // The grader is the user's JSON as Azure's spec takes it: the input schema checks its type and required fields.
      return { type: 'reinforcement', reinforcement: { grader: plan.method.grader, hyperparameters: reinforcement(h) } };
    case 'dpo':
      return { type: 'dpo', dpo: dpo(h) };
    case 'supervised':
      return { type: 'supervised', supervised: { hyperparameters: common(h) } };
  }
}

/** The create request for a plan, in the family `jobCreateFamily` picks, shaped by that family's spec. */
export function jobCreateRequest(plan: JobPlan): JobCreateRequest {
  const shared = {
    model: plan.baseModel,
    training_file: plan.files.training,
    ...(plan.files.validation ? { validation_file: plan.files.validation } : {}),
    seed: plan.seed,
    ...(plan.suffix ? { suffix: plan.suffix } : {}),
  };
  if (jobCreateFamily(plan) === 'v1') {
    return { family: 'v1', body: { ...shared, method: v1Method(plan), metadata: { ...plan.metadata, ...runMetadata(plan.identity) } } };
  }
  const h = plan.hyperparameters;
  if (plan.method.type === 'reinforcement') {
    if (h.promptLossWeight !== undefined) {
      throw new JobPlanError('hyperparameters.promptLossWeight: not for reinforcement fine-tuning (Azure\'s reinforcement hyperparameters have no prompt_loss_weight: a graded job has no prompt loss); leave it out');
    }
    const hyperparameters = numbersOnly(reinforcement(h));
    const settings = { grader: plan.method.grader, ...(Object.keys(hyperparameters).length > 0 ? { hyperparameters } : {}) };
    return {
      family: 'dated',
      apiVersion: RFT_DATED_API_VERSION,
      body: { ...shared, method: { type: 'reinforcement', reinforcement: settings }, trainingType: AZURE_TRAINING_TYPE[plan.trainingType] },
    };
  }
  if (plan.method.type === 'dpo' && h.promptLossWeight !== undefined) {
    // Only the top level takes it, and Azure ignores top-level hyperparameters beside a method (its RFT guide).
    throw new JobPlanError('hyperparameters.promptLossWeight: not for dpo (Azure\'s DPO hyperparameters have no prompt_loss_weight, and top-level hyperparameters beside a method are ignored); leave it out');
  }
  const plw = h.promptLossWeight !== undefined ? { prompt_loss_weight: h.promptLossWeight } : {};
  const top = plan.method.type === 'dpo' ? {} : { ...numbersOnly(common(h)), ...plw };
  return {
    family: 'dated',
    body: {
      ...shared,
      ...(Object.keys(top).length > 0 ? { hyperparameters: top } : {}),
      ...(plan.method.type === 'dpo' ? { method: { type: 'dpo' as const, dpo: { hyperparameters: numbersOnly(dpo(h).hyperparameters ?? {}) } } } : {}),
      trainingType: AZURE_TRAINING_TYPE[plan.trainingType],
    },
  };
}

/** What a listed job shows of itself: the documented fields a retried create compares. */
export interface ListedJob {
  created_at: number;
  model: string;
  training_file: string;
  validation_file?: string | null;
  seed?: number | null;
  metadata?: Record<string, string> | null;
  /** The dated job object's `suffix`; v1's spelling is `user_provided_suffix`. Either may be absent. */
  suffix?: string | null;
  user_provided_suffix?: string | null;
}

/** Clock skew tolerated between the worker's clock and Azure's `created_at`. */
export const CREATE_CLOCK_SKEW_SECONDS = 300;

/** Azure answers with the model resolved (`gpt-4.1` comes back `gpt-4.1-2025-04-14`). */
export function sameModel(requested: string, returned: string): boolean {
  return returned === requested || (returned.startsWith(`${requested}-`) && /^\d{4}-\d{2}-\d{2}$/.test(returned.slice(requested.length + 1)));
}

function suffixMatches(job: ListedJob, sent: string | null | undefined): boolean {
  const echoed = job.user_provided_suffix !== undefined ? job.user_provided_suffix : job.suffix;
  return echoed === undefined || (echoed ?? null) === (sent ?? null);
}

/**
 * Is `job` the one this run's create made? v1: the run's metadata (documented there). Dated (no metadata): the seed
 * the workflow drew or was given, model, training and validation files, suffix, all as sent, and a creation time
 * no earlier than the first create attempt (less clock skew).
 */
export function isRunsJob(job: ListedJob, request: JobCreateRequest, identity: RunIdentity, firstAttemptSeconds: number): boolean {
  if (job.created_at < firstAttemptSeconds - CREATE_CLOCK_SKEW_SECONDS) return false;
  if (request.family === 'v1') {
    return job.metadata?.[RUN_METADATA.workflowId] === identity.workflowId.slice(0, JOB_METADATA_LIMITS.valueChars) && job.metadata?.[RUN_METADATA.firstRunId] === identity.firstRunId;
  }
  const body = request.body;
  return (
    job.seed === body.seed &&
    sameModel(body.model, job.model) &&
    job.training_file === body.training_file &&
    (job.validation_file ?? null) === (body.validation_file ?? null) &&
    suffixMatches(job, body.suffix)
  );
}

/** Body of Azure's `POST /openai/files/import` (not in the OpenAI API, so not in the openai SDK). */
export function fileImportBody(url: string, filename: string): { purpose: 'fine-tune'; filename: string; content_url: string } {
  return { purpose: 'fine-tune', filename, content_url: url };
}

/**
 * The filename ftpipe uploads a dataset under: the original name plus the content hash, which is how a later run (or a
 * retried upload) recognises the same content on the account and reuses it instead of uploading it again.
 */
export function contentAddressedFilename(originalName: string, sha256: string): string {
  const stem = originalName.replace(/\.jsonl$/i, '').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80) || 'data';
  return `${stem}.sha256-${sha256.slice(0, 32)}.jsonl`;
}

/** Azure's spelling of each deployment type in an ARM deployment's `sku.name`. */
export const AZURE_DEPLOYMENT_SKU: Record<DeploymentType, string> = {
  Standard: 'Standard',
  GlobalStandard: 'GlobalStandard',
  DeveloperTier: 'DeveloperTier',
  ProvisionedManaged: 'ProvisionedManaged',
};

export interface DeploymentCreateBody {
  sku: { name: string; capacity: number };
  properties: { model: { format: 'OpenAI'; name: string; version: string } };
}

/** A fine-tuned model, or a checkpoint, deploys with version "1" (deployment guide); a base model with its own version. */
export const FINE_TUNED_MODEL_VERSION = '1';

/**
 * The body of an ARM deployment PUT. `model` is a fine-tuned model (`fine_tuned_model`), a checkpoint id
 * (`ftchkpt-...`, also the name a copied checkpoint keeps in the destination account, deployed there without
 * `source`) or a base model with its own `version`.
 */
export function deploymentCreateBody(input: { model: string; version?: string | undefined; type: DeploymentType; capacity: number }): DeploymentCreateBody {
  return {
    sku: { name: AZURE_DEPLOYMENT_SKU[input.type], capacity: input.capacity },
    properties: { model: { format: 'OpenAI', name: input.model, version: input.version ?? FINE_TUNED_MODEL_VERSION } },
  };
}

/** ARM path of one deployment of an account (`accountResourceId` of the profile + `/deployments/{name}`). */
export function deploymentResourcePath(accountId: string, name: string): string {
  return `${accountId}/deployments/${encodeURIComponent(name)}`;
}

/**
 * The name a checkpoint deploys by: the final one by the job's `fine_tuned_model` (Azure's final checkpoint carries
 * that name), earlier ones by their checkpoint id (deployment guide: "deploy a checkpoint by passing the checkpoint ID").
 */
export function checkpointDeployName(checkpoint: { id: string; fineTunedModelCheckpoint: string; step: number }, fineTunedModel: string, finalStep: number): string {
  return checkpoint.fineTunedModelCheckpoint === fineTunedModel || checkpoint.step === finalStep ? fineTunedModel : checkpoint.id;
}

/** The preview header every checkpoint-copy request (POST and status GET) must carry. */
export const CHECKPOINT_COPY_HEADERS = { 'aoai-copy-ft-checkpoints': 'preview' } as const;

/** Path of a checkpoint copy (POST starts it, GET reads its status), relative to the v1 base `{endpoint}/openai/v1`. */
export function checkpointCopyPath(jobId: string, checkpoint: string): string {
  return `/fine_tuning/jobs/${encodeURIComponent(jobId)}/checkpoints/${encodeURIComponent(checkpoint)}/copy`;
}

export function checkpointCopyBody(destinationResourceId: string, region: string): { destinationResourceId: string; region: string } {
  return { destinationResourceId, region };
}

/** Azure's answer to a copy POST or status GET. */
export interface CheckpointCopyAnswer {
  checkpointedModelName: string;
  fineTuningJobId: string;
  copiedAccountDetails: { destinationResourceId: string; region: string; status: 'InProgress' | 'Completed' | 'Failed' | (string & {}) }[];
}
