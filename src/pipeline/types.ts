/**
 * What the pipeline's activities return and what its `status` query and result show. Plain data, workflow-safe.
 * Nothing here holds training content or secrets: ids, names, hashes, counts, statuses and Azure's own messages.
 */
import type { RunAdmission } from '../admission/types';
import type { PriceSource } from '../catalog/prices';

export const STAGES = [
  'preflight',
  'validate',
  'await_slot',
  'upload',
  'create_job',
  'train',
  'collect',
  'evaluate',
  'await_approval',
  'deploy',
  'copy',
  'cleanup',
  'completed',
  'failed',
  'cancelled',
] as const;
export type Stage = (typeof STAGES)[number];

export const TERMINAL_JOB_STATUSES = ['succeeded', 'failed', 'cancelled'] as const;
/** Job statuses while Azure has not started training (polled slowly). */
export const WAITING_JOB_STATUSES = ['pending', 'validating_files', 'queued'] as const;

export type JobStatus =
  | 'pending' | 'validating_files' | 'queued' | 'running' | 'pausing' | 'paused' | 'resuming' | 'succeeded' | 'failed' | 'cancelled';

export function isTerminalJobStatus(status: string): boolean {
  return (TERMINAL_JOB_STATUSES as readonly string[]).includes(status);
}

export interface PreflightResult {
  region: string;
  accountResourceId: string;
  /** The catalogue's versioned id of the base model, e.g. `gpt-4.1-mini-2025-04-14`. */
  catalogModel: string;
  continuousFineTuning: boolean;
  /** What the catalogue does not list about this plan (it may be new in Azure), naming the catalogue's date. */
  warnings?: string[];
}

export interface ValidationSummary {
  valid: boolean;
  model: string;
  examples: { training: number; validation: number | null };
  errorCount: number;
  warningCount: number;
  /** The first errors and warnings as `file:line: path: message`. */
  errors: string[];
  warnings: string[];
  tokens: { training: number; trainable: number; validation: number | null };
  epochs: { count: number; source: 'explicit' | 'auto' };
  billedTokensEstimate: number | null;
  files: { role: 'training' | 'validation'; path: string; uploadSha256: string; uploadBytes: number; hasBom: boolean }[];
}

export type FileRole = 'training' | 'validation';

export interface UploadedFile {
  role: FileRole;
  fileId: string;
  filename: string;
  bytes: number | null;
  /** SHA-256 of the bytes sent, when ftpipe uploaded them. */
  sha256: string | null;
  /** How the file got there: uploaded by this run, reused (same content already on the account), imported, or given by id. */
  origin: 'uploaded' | 'reused' | 'imported' | 'given';
  status: string;
}

/** The safety evaluation found the model not deployable: Azure's words, and the harm categories it named. */
export interface NotDeployable {
  reason: string;
  categories: string[];
}

/**
 * Why a job is paused: `user` (a pause request: the user's or ftpipe's), `billingLimit` (Azure's $5,000 cap for a
 * reinforcement job: it waits for a resume), `preemption` (Developer-tier training preempted: Azure resumes it by
 * itself), `unknown` (no pause event among those read).
 */
export type PauseCause = 'user' | 'billingLimit' | 'preemption' | 'unknown';

/** Azure holds the job by itself (src/pipeline/outcomes.ts `azureHold`): what the run does about it. */
export interface AzureHold {
  cause: 'billingLimit' | 'preemption';
  /** `wait_for_resume`: nothing happens until someone resumes; `wait_for_azure`: Azure resumes it; `stop`: the budget ends the run. */
  action: 'wait_for_resume' | 'wait_for_azure' | 'stop';
  explanation: string;
}

export interface JobError {
  code: string | null;
  message: string;
  param: string | null;
}

export interface JobSnapshot {
  id: string;
  status: JobStatus;
  model: string;
  fineTunedModel: string | null;
  createdAt: number;
  finishedAt: number | null;
  /**
   * Unix seconds, as Azure sends it. Trusted only when credible: Azure sends it from creation (about created_at + 900 s)
   * and recorded jobs finished days later; the ETA uses it only while it agrees with the measured step rate.
   */
  estimatedFinish: number | null;
  /** The job's seed (sent by ftpipe, or Azure's when it chose one). */
  seed: number | null;
  /** The training tier as Azure reports it (`standard`, `globalStandard`, `developerTier`), in ftpipe's names; null when not reported. */
  trainingType: 'Standard' | 'Global' | 'Developer' | null;
  /** Epochs and batch size once Azure has settled them (it reports -1 / "auto" until training starts), else null. */
  epochs: number | null;
  batchSize: number | null;
  trainedTokens: number | null;
  resultFiles: string[];
  error: JobError | null;
  /** The hyperparameters as Azure resolved them (`"auto"` replaced by the values it chose once training starts);
   * absent in snapshots taken before ftpipe read them. */
  hyperparameters?: Record<string, number | string>;
  /** Set when Azure's safety evaluation found the model not deployable (a failed job); absent in older snapshots. */
  notDeployable?: NotDeployable | null;
  /** Why the job is paused (read from its events by the poll); null when it is not paused, absent where not read. */
  pausedBy?: PauseCause | null;
  /** Azure's "Training tokens billed: N" once its events say it; absent where not read. */
  billedTokens?: number | null;
  /** Azure's "Training hours billed: H" (its wording for time-billed training) once its events say it; absent where not read. */
  billedHours?: number | null;
}

export interface TrainingMetrics {
  step: number;
  trainLoss: number | null;
  trainMeanTokenAccuracy: number | null;
  validLoss: number | null;
  validMeanTokenAccuracy: number | null;
  fullValidLoss: number | null;
  fullValidMeanTokenAccuracy: number | null;
}

export interface JobEventSummary {
  id: string;
  createdAt: number;
  level: string;
  message: string;
}

export interface JobPoll {
  job: JobSnapshot;
  /** Events newer than the caller's last seen one, oldest first (at most a page). */
  newEvents: JobEventSummary[];
  latestMetrics: TrainingMetrics | null;
  /** Metrics rows of the new events for the live curve, oldest first (a few, spread; absent in polls recorded before). */
  curveRows?: TrainingMetrics[];
  /** Step count of the whole job, derived from Azure's settled epochs and batch size and the example count; null when unknown. */
  totalSteps: number | null;
  /** False when the poll read only the job, not its events (nothing in them was due); absent (polls recorded before): true. */
  eventsListed?: boolean;
}

export interface CheckpointSummary {
  id: string;
  /** Azure's `fine_tuned_model_checkpoint`: `<base>.ft-<hex>:ckpt-step-N`, or for the final one the job's `fine_tuned_model`. */
  model: string;
  /** What a deployment names to serve it: `fine_tuned_model` for the final checkpoint, else the checkpoint id `ftchkpt-<hex>` (absent in runs recorded before it existed: the id then). */
  deployAs?: string;
  step: number;
  metrics: TrainingMetrics;
}

export interface JobResults {
  fineTunedModel: string;
  trainedTokens: number | null;
  resultFileId: string | null;
  checkpoints: CheckpointSummary[];
}

export type ControlKind = 'pause' | 'resume';
/** Everything a caller can ask of a run; only pause and resume wait ('pending') for Azure. */
export type RequestKind = ControlKind | 'approve' | 'reject' | 'copyToRegion';

export interface ControlRequest {
  kind: RequestKind;
  via: 'signal' | 'update';
  requestedAt: string;
  state: 'pending' | 'done' | 'refused';
  reason?: string;
  by?: string;
}

export interface StageChange {
  stage: Stage;
  at: string;
}

export interface PipelineStatus {
  runName: string;
  profile: string;
  /** The input's base model: the model family in the catalogue (prices, deployment types), whatever the job fine-tunes. */
  baseModel: string;
  /** The model the job fine-tunes: a lineage's latest promoted model (continuous fine-tuning), else `baseModel` (absent before preflight). */
  trainedFrom?: string;
  stage: Stage;
  job: JobSnapshot | null;
  /**
   * `etaSeconds` from Azure's `estimated_finish` when it is credible (src/pipeline/progress.ts credibleFinishSeconds),
   * else from the step rate measured since `rateFrom` (the first step seen while running); null while neither is
   * known. `etaBasis` says which (absent in runs from before it). It holds at `measuredAtSeconds` (the poll's workflow
   * time, absent in runs from before it was recorded): readers count it down from there.
   */
  progress: {
    step: number | null; totalSteps: number | null; percent: number | null; etaSeconds: number | null;
    rateFrom?: { step: number; atSeconds: number } | null; measuredAtSeconds?: number;
    etaBasis?: 'estimated_finish' | 'step_rate' | null;
  };
  /** Preflight's warnings (combinations the dated catalogue does not list). */
  warnings?: string[];
  /** The seed the job is created with: the input's, or one the workflow drew (it identifies the job on the dated API). */
  seed?: number | null;
  latestMetrics: TrainingMetrics | null;
  recentEvents: JobEventSummary[];
  files: UploadedFile[];
  validation: ValidationSummary | null;
  timeline: StageChange[];
  requests: ControlRequest[];
  errors: { at: string; stage: Stage; message: string }[];
  /** How many times the run continued as new to keep its history small. */
  continuations: number;
  evaluation: EvaluationOutcome | null;
  approval: ApprovalRecord | null;
  /** Deployments this run created that are live now. */
  deployments: DeploymentInfo[];
  copies: CopyStatus[];
  /** Training metrics as they arrive (one row per poll that saw a new step), at most MAX_LIVE_CURVE_ROWS: the live curve. */
  curve: TrainingMetrics[];
  /** The job's results once collected (model, checkpoints, result file, trained tokens). */
  results: JobResults | null;
  /** The run's place in its resource's admission queue, then its grant (null before it asks). */
  admission: RunAdmission | null;
  /** Azure holds the job by itself (RFT billing limit, Developer-tier preemption): what the run does (absent/null otherwise). */
  azureHold?: AzureHold | null;
  /** Deployment slots the run asked for before deploying (absent before it asks for one). */
  deploymentSlots?: DeploymentSlot[];
  /** Expected training cost, from the validated data's billed tokens and the catalogue's prices (null before validation). */
  cost: TrainingCostEstimate | null;
  /** What happens to the promoted version when nothing calls it (`deployment.idle`; absent when the input sets none). */
  idle?: IdleDeployment;
  /** Training time shown by Azure's step events (reinforcement fine-tuning bills by it); absent before the first step. */
  trainingTime?: TrainingTime;
  /** Training spent so far against `budget.maxTrainingUsd` (src/pipeline/cost.ts trainingSpend); absent without a budget. */
  spend?: TrainingSpend;
  /** Azure paused the job at its RFT billing limit at least once (billing goes on without a limit after a resume). */
  passedBillingLimit?: boolean;
  /** ftpipe paused the job because its training spend passed `budget.maxTrainingUsd` (not a user pause); absent otherwise. */
  budgetHold?: BudgetHold | null;
  /** The job's automatic evaluations, read from its checkpoints as Azure adds them (absent before the first). */
  automaticEvaluations?: AutomaticEvaluation[];
  /** Set when `evaluation.stopEarly` cancelled the job because its automatic evaluation stayed flat. */
  stoppedEarly?: { at: string; explanation: string } | null;
  /** What the stage after training does now, as the workflow knows it (absent/null otherwise; heartbeats add live counts). */
  task?: StageTask | null;
  /** What the approver decides on, set on entering await_approval and kept after the decision (absent before). */
  approvalEvidence?: ApprovalEvidence | null;
  /** What the run has cost so far and what stays billed, as of the query (only in the status query's answer). */
  ledger?: CostLedger;
}

/**
 * A step of the stages after training, e.g. `checkpoint 2 of 3 (step 20)`: `scoring the eval set` (done 1, total 4
 * models: the checkpoints and the baseline), `bike-shop-v2: provisioning`, `bike-shop-v2: smoke test`.
 */
export interface StageTask {
  /** What the step is about (`checkpoint 2 of 3 (step 20)`), or null. */
  subject: string | null;
  doing: string;
  done: number | null;
  total: number | null;
  unit: 'models evaluated' | null;
  /**
   * While an eval set is scored: the deployment it is scored on and the items done of all, as the runEvalSet activity
   * last signalled them (`total` null until its first notice). Absent for other steps.
   */
  items?: { deployment: string; done: number; total: number | null } | null;
}

/** The evidence an approver sees while the run awaits approval (src/pipeline/approval.ts renders it). */
export interface ApprovalEvidence {
  chosen: { id: string; model: string; step: number; reason: string };
  /** The chosen checkpoint's eval score (null without an eval set). */
  score: number | null;
  baseline: { name: string; score: number } | null;
  /** score - baseline score (null without both), and the lift the input requires. */
  lift: number | null;
  minLift: number;
  evaluationReason: string;
  /** What approving deploys: a new version of `name`, billed `usdPerHour` while it exists (null: billed otherwise, see note). */
  deploy: { name: string; type: string; capacity: number; usdPerHour: number | null; note: string };
}

/** The promoted version's idle policy as the run applied it: a keep-alive schedule, or the date Azure deletes it if unused. */
export interface IdleDeployment {
  profile: string;
  deployment: string;
  policy: 'keepAlive' | 'letExpire';
  /** Its last call ftpipe knows of (the smoke test's), from which Azure counts 15 days without calls. */
  lastCalledAt: string;
  /** When Azure deletes it if nothing calls it after `lastCalledAt`. */
  deletedIfUnusedAt: string;
  /** keepAlive: the Temporal Schedule that calls it, and how often. */
  schedule: { id: string; everyHours: number } | null;
}

/**
 * Seconds of training between Azure's step events (each event's `created_at`): the gaps between consecutive steps are
 * counted, a gap across a pause, preemption or resume is not, and each step after such a break is counted at the mean
 * step time measured (`uncountedSteps`).
 */
export interface TrainingTime {
  countedSeconds: number;
  countedGaps: number;
  uncountedSteps: number;
  lastStepAt: number | null;
  interrupted: boolean;
}

/** What the run's training has cost so far: Azure's billed figure when it reported one, else counted from its events. */
export interface TrainingSpend {
  usd: number | null;
  source: 'azure' | 'counted' | null;
  basis: string;
}

export interface BudgetHold {
  maxTrainingUsd: number;
  spentUsd: number;
  at: string;
  explanation: string;
}

/**
 * One of the job's automatic evaluations: Azure evaluates the whole validation file at each epoch's checkpoint
 * (`full_valid_loss`, `full_valid_mean_token_accuracy` in the checkpoint's metrics: docs/emulator.md).
 */
export interface AutomaticEvaluation {
  checkpointId: string;
  step: number;
  fullValidLoss: number | null;
  fullValidMeanTokenAccuracy: number | null;
}

/** The run's cost ledger (src/pipeline/cost.ts `costLedger`): what it was billed for. */
export interface LedgerDeployment {
  profile: string;
  name: string;
  sku: string;
  /** Null when the SKU is billed otherwise (PTU-hours) or unknown to the catalogue. */
  usdPerHour: number | null;
  /** When ftpipe asked for it (the deploy stage's start); null for a version kept from an earlier run. */
  since: string | null;
  /** Hours from `since` to the ledger's time (or to the end of the evaluation for an evaluation deployment). */
  hours: number | null;
  /** Hosting billed by those hours (null when the rate or the hours are unknown). */
  usd: number | null;
  /** How Azure ends it unless ftpipe does: at a fixed time (Developer tier), or after 15 days without calls. */
  expiry:
    | { kind: 'lifetime'; at: string | null }
    | {
        kind: 'inactivity';
        afterDaysWithoutCalls: number;
        /** letExpire: the date Azure deletes it unless something calls it first. */
        unusedUntil?: string;
        /** keepAlive: the schedule whose calls keep the inactivity deletion from coming. */
        keptAliveBy?: string;
      };
}

export interface CostLedger {
  /** The ledger's time: hosting is accrued up to it. */
  asOf: string;
  training: {
    /** Estimated before upload (status.cost). */
    estimatedUsd: number | null;
    /** Azure's billed tokens (its "Training tokens billed" event, else the job's trained_tokens once it ended). */
    billedTokens: number | null;
    /** Azure's billed training hours (its "Training hours billed" event), when it billed time; absent in older ledgers. */
    billedHours?: number | null;
    /** Billed tokens x the price per 1M; 0 when Azure bills nothing (a failed job, a model its safety evaluation refused). */
    billedUsd: number | null;
    /** Before Azure's billed figure: what its events show so far (steps x tokens per step, or training hours), when known. */
    countedUsd?: number | null;
    basis: string;
  };
  /** Deployments made for the evaluation and deleted after it (their type is the input's; hours are the evaluate stage's). */
  evaluation: { deployments: number; sku: string; hours: number | null; usdPerHour: number | null; usd: number | null } | null;
  /** What the run leaves live: accrued so far, and the hourly cost while it stays. */
  hosting: LedgerDeployment[];
  /** Billed training (or the estimate while unbilled) + evaluation + hosting accrued; null when a part is unknown. */
  totalUsd: number | null;
  /** USD per hour of everything that stays live (null when a part is billed otherwise). */
  hourlyUsdWhileLive: number | null;
  notes: string[];
}

export interface PipelineResult {
  /**
   * `not_promoted`: trained, but the evaluation or the approver kept it from deployment. `not_deployable`: Azure's
   * safety evaluation found the model not deployable (nothing deployed; Azure bills no training).
   * `stopped_at_billing_limit`: Azure paused the reinforcement job at its $5,000 billing limit and the budget allows no
   * more (the job stays paused, its checkpoint deployable). `stopped_at_budget`: ftpipe paused the job when its training
   * spend passed `budget.maxTrainingUsd` (paused, its checkpoint deployable). `stopped_early`: `evaluation.stopEarly`
   * cancelled the job because its automatic evaluation stayed flat (nothing deployed).
   */
  outcome: 'succeeded' | 'not_promoted' | 'cancelled_in_azure' | 'skipped_no_new_data' | 'not_deployable' | 'stopped_at_billing_limit' | 'stopped_at_budget' | 'stopped_early';
  runName: string;
  /** Null when the run was skipped before creating a job. */
  jobId: string | null;
  fineTunedModel: string | null;
  trainedTokens: number | null;
  resultFileId: string | null;
  checkpoints: CheckpointSummary[];
  files: UploadedFile[];
  validation: ValidationSummary | null;
  timeline: StageChange[];
  deletedFiles: string[];
  evaluation: EvaluationOutcome | null;
  approval: ApprovalRecord | null;
  /** What this run leaves live (its new deployment version, kept earlier versions, copies' deployments). */
  deployments: DeploymentInfo[];
  deletedDeployments: string[];
  copies: CopyStatus[];
  /** Plain-words notes on what remains and what it costs (Azure's hosting and inactivity rules). */
  notes: string[];
  /** The data of `ftpipe report` (every ending has one; null in results of older runs that produced no model). */
  report: RunReport | null;
  /** The training cost estimated before upload. */
  cost: TrainingCostEstimate | null;
  /** What the run was billed for, as it ended (absent in results of runs before the ledger). */
  ledger?: CostLedger;
}

/** A deployment slot on a resource's admission queue: asked for before a deployment, released when it is deleted. */
export interface DeploymentSlot {
  profile: string;
  name: string;
  state: 'waiting' | 'granted' | 'released';
  /** 1 = next while waiting; null once granted. */
  position: number | null;
  reason: string;
}

export interface EvaluationOutcome {
  analysis: MetricsAnalysis;
  scores: EvalScore[];
  decision: { promoted: boolean; reason: string };
}

export interface ApprovalRecord {
  decision: 'approved' | 'rejected';
  by: string;
  at: string;
  comment?: string;
}

/* ---- After training: evaluation, deployment, copies ---- */

export type CheckpointPolicy = 'lowest_valid_loss' | 'final' | 'best_valid_accuracy';

/** One row of results.csv (a training step): the same columns as a checkpoint's metrics, null where the file leaves them empty. */
export type ResultsRow = TrainingMetrics;

export interface MetricsAnalysis {
  policy: CheckpointPolicy;
  /** The checkpoint the policy picked (its deployable model name is `model`). */
  chosen: CheckpointSummary;
  /** Why it was picked, in words. */
  reason: string;
  overfitting: { detected: boolean; detail: string };
  /** results.csv downsampled to at most ~200 rows (for the report's curves; history stays small). */
  curve: ResultsRow[];
}

/** The failure type runEvalSet ends with when Azure no longer has the deployment it evaluates; details: [the eval's progress]. */
export const DEPLOYMENT_GONE = 'DeploymentGone';

/** What the deleteFiles activity did: the ids deleted (now or before), and the files it kept for a job still reading them. */
export interface DeletedFiles {
  deleted: string[];
  kept: { fileId: string; jobId: string }[];
}

/** deleteFiles' answer as runs from before recorded it (the ids alone) or as it answers now. */
export function deletedFilesOf(answer: string[] | DeletedFiles): DeletedFiles {
  return Array.isArray(answer) ? { deleted: answer, kept: [] } : answer;
}

export interface EvalScore {
  /** Checkpoint model name, or the baseline's deployment/model. */
  candidate: string;
  kind: 'candidate' | 'baseline';
  items: number;
  /** Mean grader score in [0, 1]. */
  score: number;
  perGrader: Record<string, number>;
  /** Times Azure deleted the evaluation's deployment mid-eval and the run recreated it (absent: never). */
  deploymentRecreations?: number;
}

export interface DeploymentInfo {
  profile: string;
  name: string;
  model: string;
  sku: string;
  capacity: number;
  provisioningState: string;
}

export interface CopyStatus {
  destinationResourceId: string;
  region: string;
  checkpoint: string;
  status: 'requested' | 'InProgress' | 'Completed' | 'Failed';
  deployment: DeploymentInfo | null;
  error: string | null;
}

/*
 * A run's report as plain data: the workflow result carries it for runs that end, `ftpipe report` builds it from the
 * `status` query (and the result or failure) for runs in any state (src/report/build.ts), and src/report/html.ts
 * renders it. Defined here, beside the result that carries it, so that this module imports nothing of src/report.
 */

/** Where the run is and what in the report may still change. */
export interface ReportState {
  /** Temporal's status of the run: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT. */
  execution: string;
  /** The run's stage when the data was read. */
  stage: string;
  /** The result's outcome (succeeded, not_promoted, ...) once completed, else null. */
  outcome: string | null;
  /** True once the run has closed: nothing in the report changes any more. */
  final: boolean;
  /** Why the run failed or was cancelled, when it did. */
  failure: string | null;
  /** In words: what is final and what is not. */
  summary: string;
}

export interface DatasetFacts {
  trainingExamples: number | null;
  validationExamples: number | null;
  trainingTokens: number | null;
  /** Tokens the training loss counts (assistant turns with weight 1). */
  trainableTokens: number | null;
  validationTokens: number | null;
  epochs: number | null;
  /** Validator's estimate: trainable tokens x epochs. */
  billedTokensEstimate: number | null;
  /** Azure's count once the job succeeded. */
  trainedTokens: number | null;
}

export interface StageSpan {
  stage: string;
  startedAt: string;
  /** Until the next stage began, or until the report was assembled for the run's current stage. */
  seconds: number;
  ongoing: boolean;
}

export interface RunReport {
  runName: string;
  /** Null when the run ended before it created a job. */
  jobId: string | null;
  baseModel: string;
  /** The model the job fine-tuned when it is not `baseModel`: a lineage's latest promoted model (continuous fine-tuning). */
  trainedFrom?: string;
  fineTunedModel: string | null;
  /** Absent in reports written before ftpipe recorded it: treated as a completed run's. */
  state?: ReportState;
  /** The hyperparameters as Azure resolved them (null before the job exists). */
  hyperparameters?: Record<string, number | string> | null;
  dataset?: DatasetFacts | null;
  /** One entry per stage the run went through, in order, with its duration. */
  stages?: StageSpan[];
  /** The run's wait for its resource's admission slots (status.admission); null before it asked, absent in older reports. */
  queue?: ReportQueue | null;
  /** Pause and resume requests: when, who asked, and what came of it. */
  requests?: ControlRequest[];
  /** Checkpoint copies to other regions and their outcome (a failed one with Azure's reason). */
  copies?: CopyStatus[];
  /** Training metrics seen while the job ran (the live curve), when results.csv has not been read yet. */
  liveCurve?: TrainingMetrics[];
  /** Every deployable checkpoint the job kept (markers on the curves); the chosen one is `metrics.chosen`. */
  checkpoints: CheckpointSummary[];
  /** Null when the run ended before its metrics were analysed. */
  metrics: MetricsAnalysis | null;
  /** Candidates and baseline; empty when the run had no eval set. */
  evalScores: EvalScore[];
  decision: { promoted: boolean; reason: string };
  /** What the run leaves live. */
  deployments: DeploymentInfo[];
  /** What the run was billed for and what stays live costs per hour (src/pipeline/cost.ts costLedger); absent in reports from before it. */
  cost?: CostLedger;
  /** The job's automatic evaluations (Azure's full validation at each epoch's checkpoint), read while it trained and from the collected checkpoints; absent in older reports. */
  automaticEvaluations?: AutomaticEvaluation[];
  /** Why the run stopped the job itself: the budget paused it, or `evaluation.stopEarly` cancelled it. */
  stoppedBy?: { kind: 'budget' | 'stopEarly'; explanation: string } | null;
  /** Names of what the run deleted (deployments, files). */
  deleted: string[];
  approval: { decision: 'approved' | 'rejected'; by: string; at: string; comment?: string } | null;
  /** What the approver was shown (absent when the run asked for no approval or has not reached it). */
  approvalEvidence?: ApprovalEvidence;
  /** ISO time the report's data was assembled. */
  generatedAt: string;
}

/** A run's wait in its resource's admission queue, for the report. */
export interface ReportQueue {
  resource: string;
  state: RunAdmission['state'];
  /** Where it stands while it waits (1 = next); null once granted or released. */
  position: number | null;
  reason: string;
  requestedAt: string;
  grantedAt: string | null;
  /** Seconds from the request to the grant; while it waits, so far. Null when it never got them. */
  waitedSeconds: number | null;
}

/** A run's expected training cost (src/pipeline/cost.ts estimates it). */
export interface TrainingCostEstimate {
  /** Expected USD for training; null when it cannot be known before (reinforcement bills by the hour) or no price is known. */
  usd: number | null;
  billedTokens: number | null;
  epochs: { count: number; source: 'explicit' | 'auto' } | null;
  /** The price used: per 1M tokens (supervised, DPO) or per hour (reinforcement). */
  price: { usd: number; unit: 'per1MTokens' | 'perHour'; source: PriceSource } | null;
  /** In words: how the figure was reached, or why there is none. */
  basis: string;
}
