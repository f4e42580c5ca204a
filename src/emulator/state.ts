/**
 * The emulator's records and their persistence. Records hold emulated timestamps (ms); statuses that move with
 * time are advanced lazily when a record is read (see jobs.ts, files.ts, deployments.ts), so no timers run.
 * The optional state file is written debounced after changes, never on the request path.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AccountConfig } from './config';
import type { ServiceSku } from './service';
import type { TrainingPlan, StepMetrics } from './training';

export interface Account extends AccountConfig {
  /** `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.CognitiveServices/accounts/{name}` */
  armId: string;
}

export type ExampleFormat = 'chat' | 'preference' | 'reinforcement';

export interface FileValidation {
  ok: boolean;
  /** What is wrong, naming the line, when `ok` is false. */
  problem?: string;
  format: ExampleFormat | null;
  examples: number;
  tokens: number;
  /** Last user message -> reference (last assistant) answer, for the inference model of checkpoint quality. */
  references: Record<string, string>;
}

export interface FileRecord {
  id: string;
  account: string;
  filename: string;
  purpose: string;
  bytes: number;
  createdAt: number;
  /** When processing (validation) finishes. */
  readyAt: number;
  /** Null while an import is still downloading. */
  content: Buffer | null;
  /** Why the file is in `error` (failed import or validation). */
  problem?: string;
  /** From `expires_after`: the file is deleted then (FileService.expire). */
  expiresAt?: number;
}

/** A deleted file: Azure answers a second DELETE with 200 `deleted: false`, not 404. */
export interface DeletedFileRecord {
  id: string;
  account: string;
}

export interface JobEventRecord {
  id: string;
  createdAt: number;
  /** Rendered per family (shapes.ts eventJson): `warn` is the dated family's `warning`. */
  level: 'info' | 'warn' | 'error';
  message: string;
  type: 'message' | 'metrics';
  data?: Record<string, unknown>;
}

export interface CheckpointRecord {
  id: string;
  jobId: string;
  account: string;
  createdAt: number;
  step: number;
  /** `<fine-tuned model>:ckpt-step-<n>`; the final checkpoint's is the fine-tuned model itself. */
  modelName: string;
  metrics: StepMetrics;
  /** Made when the job paused (kept besides the newest three epoch checkpoints). */
  fromPause?: boolean;
}

/** Per-job state of Azure's own outcomes (outcomes.ts), kept on the job record (and so in the state file). */
export interface JobOutcomeState {
  /** The safety evaluation's finding, set through the control API: the harm categories above threshold. */
  safetyFailure?: string[];
  /** Why the system, not the user, paused the job, and when it resumes by itself (null: it waits for a resume). */
  systemPause?: { reason: 'billingCap' | 'preemption'; at: number; resumeAt: number | null };
}

/** The dated spec's and the recordings' statuses (never `queued` or `validating_files`). */
export type JobStatus = 'pending' | 'running' | 'pausing' | 'paused' | 'resuming' | 'succeeded' | 'failed' | 'cancelled';

export interface JobRecord {
  id: string;
  account: string;
  createdAt: number;
  status: JobStatus;
  /** As the service echoes it: the versioned base (`gpt-4.1` -> `gpt-4.1-2025-04-14`) or the earlier fine-tuned model. */
  model: string;
  /** Catalogue id of the base model, e.g. `gpt-4.1-mini`. */
  baseModel: string;
  /** The name the model gets on success: `<versioned base>.ft-<job hex>[-suffix]`. */
  plannedModelName: string;
  fineTunedModel: string | null;
  finishedAt: number | null;
  estimatedFinish: number | null;
  trainingFile: string;
  validationFile: string | null;
  resultFiles: string[];
  trainedTokens: number | null;
  seed: number;
  /** Resolved `batch_size`, `learning_rate_multiplier`, `n_epochs`, plus method-specific ones (e.g. DPO `beta`) as given. */
  hyperparameters: { batch_size: number; learning_rate_multiplier: number; n_epochs: number; [methodSpecific: string]: unknown };
  /** Hyperparameters the request left to the service ("auto"): shown as -1 until training starts, as Azure does. */
  autoHyperparameters: string[];
  method: 'supervised' | 'dpo' | 'reinforcement';
  /** `method.<type>` as given, without hyperparameters (e.g. the RFT grader), echoed back. */
  methodSettings: Record<string, unknown>;
  /** Whether the create sent a `method` (2025-11-15-preview echoes none otherwise); absent in older state files: sent. */
  methodSent?: boolean;
  /** Azure's echo spelling (`standard`, `globalStandard`, `developerTier`) when the request set one (dated only). */
  trainingType: string | null;
  suffix: string | null;
  metadata: Record<string, string> | null;
  error: { code: string; message: string; param: string | null } | null;
  plan: TrainingPlan;
  /** When training first started (null until then); auto hyperparameters show as -1 until the first step is done. */
  trainingStartedAt: number | null;
  /** A pause asked before the first step: when that step ends (the job trains it while pausing, then pauses). */
  pauseFirstStepAt?: number;
  /** Start of the current status (ms) and steps done when it began: running progress is linear from there. */
  phaseStartedAt: number;
  stepsAtPhaseStart: number;
  stepsDone: number;
  events: JobEventRecord[];
  /** Deployable checkpoints still kept (the newest three epochs, plus any made by a pause), oldest first. */
  checkpoints: CheckpointRecord[];
  /** Prompt -> reference answer the job's lineage was trained or validated on. */
  knowledge: Record<string, string>;
  /** Azure's outcomes beyond success and failure (outcomes.ts): the safety verdict, a system pause. */
  outcomes?: JobOutcomeState;
}

/** Something deployable or fine-tunable in an account: a fine-tuned model, a checkpoint, or a copied checkpoint. */
export interface ModelRecord {
  name: string;
  account: string;
  baseModel: string;
  jobId: string;
  /** Fraction of known eval items the model answers correctly, derived from its validation loss. */
  skill: number;
  knowledge: Record<string, string>;
}

export interface DeploymentRecord {
  name: string;
  account: string;
  /** `name` echoed as the request spelled it (Azure echoes `standard`); `type` is the SKU it means. */
  sku: { name: string; type: ServiceSku; capacity: number };
  model: { format: string; name: string; version: string; source?: string };
  /** What the deployment serves; null for a base model. */
  served: ModelRecord | null;
  createdAt: number;
  modifiedAt: number;
  etag: string;
  /** `Failed`: its create or update ended Failed (control.failDeployment); a failed create serves nothing. */
  state: 'Creating' | 'Succeeded' | 'Deleting' | 'Failed';
  succeededAt: number | null;
  /** Last chat completion served, for Azure's deletion of fine-tuned deployments inactive for 15 days. */
  lastUsedAt?: number;
  /** As sent in the PUT; without one the answer shows the model's default. */
  versionUpgradeOption?: string;
  raiPolicyName?: string;
}

export interface OperationRecord {
  id: string;
  account: string;
  deployment: string;
  kind: 'create' | 'update' | 'delete';
  startedAt: number;
  endsAt: number;
  /** ARM's operation statuses as the 2025 recordings show them (`Running`, then `Succeeded`). */
  status: 'Running' | 'Succeeded' | 'Failed';
  /** The deployment as it will be when a create/update finishes. */
  pending?: DeploymentRecord;
  /** Set when the operation is to end `Failed` (control.failDeployment): the status body's `error`. */
  error?: { code: string; message: string };
}

export interface CopyDestination {
  destinationResourceId: string;
  region: string;
  account: string;
  startedAt: number;
  completesAt: number;
  /** Decided when the copy was requested (prerequisites), revealed when it completes. */
  succeeds: boolean;
}

export interface CopyRecord {
  jobId: string;
  checkpointId: string;
  checkpointedModelName: string;
  destinations: CopyDestination[];
}

/** Everything the emulator knows; maps are keyed by id (files, jobs) or `account/name`. */
export class EmulatorState {
  readonly files = new Map<string, FileRecord>();
  readonly deletedFiles = new Map<string, DeletedFileRecord>();
  readonly jobs = new Map<string, JobRecord>();
  /** `account/modelName` -> model. */
  readonly models = new Map<string, ModelRecord>();
  /** `deploymentKey(account, name)` -> deployment. */
  readonly deployments = new Map<string, DeploymentRecord>();
  readonly operations = new Map<string, OperationRecord>();
  /** `jobId/checkpointId` -> copy. */
  readonly copies = new Map<string, CopyRecord>();
  private dirtyListener: (() => void) | undefined;

  constructor(readonly accounts: Map<string, Account>) {}

  onDirty(listener: () => void): void {
    this.dirtyListener = listener;
  }

  markDirty(): void {
    this.dirtyListener?.();
  }

  findAccountByArmId(armId: string): Account | undefined {
    const wanted = armId.toLowerCase().replace(/\/$/, '');
    for (const account of this.accounts.values()) if (account.armId.toLowerCase() === wanted) return account;
    return undefined;
  }

  model(account: string, name: string): ModelRecord | undefined {
    return this.models.get(`${account}/${name}`);
  }

  addModel(model: ModelRecord, ...names: string[]): void {
    for (const name of [model.name, ...names]) this.models.set(`${model.account}/${name}`, model);
  }

  removeModel(account: string, ...names: string[]): void {
    for (const name of names) this.models.delete(`${account}/${name}`);
  }

  /** Removes what a job trained in its own account (its model and checkpoints), not copies elsewhere. */
  removeModelsOfJob(account: string, jobId: string): void {
    for (const [key, model] of this.models) if (model.account === account && model.jobId === jobId) this.models.delete(key);
  }

  toJSON(clockNow: number): SerializedState {
    return {
      version: 1,
      clockNow,
      files: [...this.files.values()].map((f) => ({ ...f, content: f.content === null ? null : f.content.toString('base64') })),
      deletedFiles: [...this.deletedFiles.values()],
      jobs: [...this.jobs.values()],
      models: [...this.models.entries()],
      deployments: [...this.deployments.values()],
      operations: [...this.operations.values()],
      copies: [...this.copies.values()],
    };
  }

  load(serialized: SerializedState): void {
    for (const f of serialized.files) {
      const file: FileRecord = { ...f, content: f.content === null ? null : Buffer.from(f.content, 'base64') };
      // An import still downloading when the emulator stopped will never finish.
      if (file.content === null && !file.problem) file.problem = 'fileImportFailed: the emulator restarted during the import.';
      this.files.set(file.id, file);
    }
    for (const d of serialized.deletedFiles ?? []) this.deletedFiles.set(d.id, d);
    for (const j of serialized.jobs) this.jobs.set(j.id, upgradeJob(j));
    for (const [key, m] of serialized.models) this.models.set(key, m);
    // Older state files kept only the canonical SKU name, which is also the SKU type.
    for (const d of serialized.deployments) this.deployments.set(deploymentKey(d.account, d.name), { ...d, sku: { ...d.sku, type: (d.sku as Partial<DeploymentRecord['sku']>).type ?? (d.sku.name as ServiceSku) } });
    for (const o of serialized.operations) this.operations.set(o.id, o);
    for (const c of serialized.copies) this.copies.set(`${c.jobId}/${c.checkpointId}`, c);
  }
}

/** A job saved by an older emulator: `queued` became `pending`; fields added since get their neutral values. */
function upgradeJob(saved: JobRecord): JobRecord {
  const old = saved as Omit<JobRecord, 'autoHyperparameters' | 'trainingStartedAt' | 'status'> & Partial<Pick<JobRecord, 'autoHyperparameters' | 'trainingStartedAt'>> & { status: string };
  return {
    ...old,
    status: old.status === 'queued' ? 'pending' : (old.status as JobStatus),
    autoHyperparameters: old.autoHyperparameters ?? [],
    trainingStartedAt: old.trainingStartedAt ?? (old.stepsDone > 0 ? old.createdAt : null),
  };
}

/** Deployment names are case-insensitive, like every ARM resource name. */
export function deploymentKey(account: string, name: string): string {
  return `${account}/${name.toLowerCase()}`;
}

export interface SerializedState {
  version: 1;
  clockNow: number;
  files: (Omit<FileRecord, 'content'> & { content: string | null })[];
  deletedFiles?: DeletedFileRecord[];
  jobs: JobRecord[];
  models: [string, ModelRecord][];
  deployments: DeploymentRecord[];
  operations: OperationRecord[];
  copies: CopyRecord[];
}

export function readStateFile(path: string): SerializedState | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as SerializedState;
  if (parsed.version !== 1) throw new Error(`emulator state file ${path}: unsupported version ${String(parsed.version)}`);
  return parsed;
}

/** Writes the state file at most every `delayMs`, atomically (temp file + rename). */
export class StateFileWriter {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly path: string,
    private readonly snapshot: () => SerializedState,
    private readonly delayMs = 200,
  ) {
    mkdirSync(dirname(path), { recursive: true });
  }

  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.delayMs);
    this.timer.unref();
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.snapshot()));
    renameSync(tmp, this.path);
  }
}
