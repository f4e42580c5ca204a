/** A run's report as plain data: the workflow result carries it, `ftpipe report` renders it (src/report/html.ts). */
import type { CheckpointSummary, DeploymentInfo, EvalScore, MetricsAnalysis } from '../pipeline/types';

export interface RunReport {
  runName: string;
  jobId: string;
  baseModel: string;
  fineTunedModel: string | null;
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
