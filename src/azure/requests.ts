/**
 * The shapes of the requests ftpipe sends to Azure, in one place (see ../shared/azure-api-facts.md for their sources).
 * Workflow-safe: pure functions over plain data.
 */
import type { DeploymentType } from '../catalog';
import type { Hyperparameters, Method, PipelineInput } from '../pipeline/input';

/** Azure's spelling of each training type in the `trainingType` field of a job create. */
export const AZURE_TRAINING_TYPE = {
  Standard: 'Standard',
  Global: 'GlobalStandard',
  Developer: 'developerTier',
} as const;

/** Metadata keys ftpipe sets on every job it creates; a retried create looks for them before creating again. */
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
    [RUN_METADATA.workflowId]: identity.workflowId.slice(0, 512),
    [RUN_METADATA.firstRunId]: identity.firstRunId,
    [RUN_METADATA.runName]: identity.runName,
  };
}

export function jobBelongsToRun(metadata: Record<string, string> | null | undefined, identity: RunIdentity): boolean {
  return metadata?.[RUN_METADATA.workflowId] === identity.workflowId.slice(0, 512) && metadata?.[RUN_METADATA.firstRunId] === identity.firstRunId;
}

type AutoOr<T> = 'auto' | T;

interface AzureHyperparameters {
  n_epochs?: AutoOr<number>;
  batch_size?: AutoOr<number>;
  learning_rate_multiplier?: AutoOr<number>;
  prompt_loss_weight?: number;
  beta?: AutoOr<number>;
}

export interface FineTuningJobCreateBody {
  model: string;
  training_file: string;
  validation_file?: string;
  seed?: number;
  suffix?: string;
  hyperparameters?: AzureHyperparameters;
  method: { type: Method['type']; supervised?: { hyperparameters: AzureHyperparameters }; dpo?: { hyperparameters: AzureHyperparameters }; reinforcement?: { grader: Record<string, unknown>; hyperparameters: AzureHyperparameters } };
  metadata: Record<string, string>;
  trainingType: (typeof AZURE_TRAINING_TYPE)[keyof typeof AZURE_TRAINING_TYPE];
}

function azureHyperparameters(h: Hyperparameters): AzureHyperparameters {
  const out: AzureHyperparameters = {};
  if (h.nEpochs !== undefined) out.n_epochs = h.nEpochs;
  if (h.batchSize !== undefined) out.batch_size = h.batchSize;
  if (h.learningRateMultiplier !== undefined) out.learning_rate_multiplier = h.learningRateMultiplier;
  if (h.promptLossWeight !== undefined) out.prompt_loss_weight = h.promptLossWeight;
  if (h.beta !== undefined) out.beta = h.beta;
  return out;
}

/**
 * The body of `POST /openai/fine_tuning/jobs`. Hyperparameters go inside `method` (the current form); Azure's
 * `prompt_loss_weight` stays in the top-level `hyperparameters`, where Azure's docs put it.
 */
export function fineTuningJobCreateBody(
  input: Pick<PipelineInput, 'baseModel' | 'method' | 'hyperparameters' | 'seed' | 'suffix' | 'trainingType' | 'metadata'>,
  files: { training: string; validation?: string | undefined },
  identity: RunIdentity,
): FineTuningJobCreateBody {
  const hyperparameters = azureHyperparameters(input.hyperparameters);
  const { prompt_loss_weight: promptLossWeight, ...methodHyperparameters } = hyperparameters;
  const method: FineTuningJobCreateBody['method'] =
    input.method.type === 'reinforcement'
      ? { type: 'reinforcement', reinforcement: { grader: input.method.grader, hyperparameters: methodHyperparameters } }
      : input.method.type === 'dpo'
        ? { type: 'dpo', dpo: { hyperparameters: methodHyperparameters } }
        : { type: 'supervised', supervised: { hyperparameters: methodHyperparameters } };
  return {
    model: input.baseModel,
    training_file: files.training,
    ...(files.validation ? { validation_file: files.validation } : {}),
    ...(input.seed !== undefined ? { seed: input.seed } : {}),
    ...(input.suffix ? { suffix: input.suffix } : {}),
    ...(promptLossWeight !== undefined ? { hyperparameters: { prompt_loss_weight: promptLossWeight } } : {}),
    method,
    metadata: { ...input.metadata, ...runMetadata(identity) },
    trainingType: AZURE_TRAINING_TYPE[input.trainingType],
  };
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
  properties: { model: { format: 'OpenAI'; name: string; version: string; source?: string } };
}

/**
 * The body of an ARM deployment PUT. `model` is a fine-tuned model id, a checkpoint id or a copied checkpoint;
 * `sourceResourceId` (another account's ARM id) deploys a model that lives in that account (cross-region).
 */
export function deploymentCreateBody(input: { model: string; type: DeploymentType; capacity: number; sourceResourceId?: string | undefined }): DeploymentCreateBody {
  return {
    sku: { name: AZURE_DEPLOYMENT_SKU[input.type], capacity: input.capacity },
    properties: { model: { format: 'OpenAI', name: input.model, version: '1', ...(input.sourceResourceId ? { source: input.sourceResourceId } : {}) } },
  };
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
