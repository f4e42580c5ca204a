/**
 * A run's report as plain data: the workflow result carries it for runs that end, `ftpipe report` builds it from the
 * `status` query (and the result or failure) for runs in any state, and src/report/html.ts renders it.
 */
import type { CheckpointSummary, ControlRequest, CopyStatus, DeploymentInfo, EvalScore, MetricsAnalysis, TrainingMetrics } from '../pipeline/types';

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
  fineTunedModel: string | null;
  /** Absent in reports written before ftpipe recorded it: treated as a completed run's. */
  state?: ReportState;
  /** The hyperparameters as Azure resolved them (null before the job exists). */
  hyperparameters?: Record<string, number | string> | null;
  dataset?: DatasetFacts | null;
  /** One entry per stage the run went through, in order, with its duration. */
  stages?: StageSpan[];
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
  /** Names of what the run deleted (deployments, files). */
  deleted: string[];
  approval: { decision: 'approved' | 'rejected'; by: string; at: string; comment?: string } | null;
  /** ISO time the report's data was assembled. */
  generatedAt: string;
}
