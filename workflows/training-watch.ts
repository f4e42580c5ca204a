/**
 * What the training monitor watches besides the job's state (training.ts calls these after each poll): the budget
 * (ftpipe pauses the job when its training spend passes `budget.maxTrainingUsd`) and the job's automatic evaluations
 * (read as Azure adds an epoch's checkpoint; `evaluation.stopEarly` cancels a job whose evaluation stays flat).
 * Workflow-safe.
 */
import { budgetPauseReason, trainingSpend } from '../src/pipeline/cost';
import { RFT_BILLING_LIMIT_USD, stopEarlyReason } from '../src/pipeline/outcomes';
import type { AutomaticEvaluation } from '../src/pipeline/types';
import { nowIso, type PipelineRun } from './run';

const AUTOMATIC_EVALUATIONS_KEPT = 100;

/**
 * Counts the training spend and pauses the job (Azure keeps a deployable checkpoint) once it passes the budget; true
 * when the job is paused at the budget and the run stops. A pause refused now (the job is not running, or has
 * trained no step yet: controlRefusal) is tried again after the next poll.
 */
export async function pauseAtBudget(run: PipelineRun, maxTrainingUsd: number): Promise<boolean> {
  const { status } = run;
  status.spend = trainingSpend(status);
  if (status.budgetHold) return run.job.status === 'paused';
  // Azure pauses a reinforcement job itself at $5,000 (training and grading, which ftpipe cannot count): a budget at or
  // above that is first met by Azure's pause (azureHold), and ftpipe's count applies again once the job is resumed past it.
  const azureLimitFirst = status.cost?.price?.unit === 'perHour' && maxTrainingUsd >= RFT_BILLING_LIMIT_USD && !status.passedBillingLimit;
  const reason = budgetPauseReason(maxTrainingUsd, status.spend);
  if (!reason || azureLimitFirst || run.controlRefusal('pause') !== undefined) return false;
  status.budgetHold = { maxTrainingUsd, spentUsd: status.spend.usd ?? 0, at: nowIso(), explanation: reason };
  await run.control('pause');
  run.showDetails();
  return run.job.status === 'paused';
}

/** Azure adds an epoch's checkpoint (with its evaluation) when the epoch ends: read them when the steps crossed one. */
export function automaticEvaluationsDue(run: PipelineRun): boolean {
  const { job, progress, automaticEvaluations } = run.status;
  if (!job || job.status !== 'running' || !job.epochs || !progress.totalSteps || progress.step === null) return false;
  const stepsPerEpoch = progress.totalSteps / job.epochs;
  const epochsDone = Math.floor(progress.step / stepsPerEpoch + 1e-9);
  const newestRead = automaticEvaluations?.[automaticEvaluations.length - 1]?.step ?? 0;
  return epochsDone > Math.floor(newestRead / stepsPerEpoch + 1e-9);
}

function merge(known: readonly AutomaticEvaluation[], read: readonly AutomaticEvaluation[]): AutomaticEvaluation[] {
  const byId = new Map(known.map((e) => [e.checkpointId, e]));
  for (const e of read) byId.set(e.checkpointId, e);
  return [...byId.values()].sort((a, b) => a.step - b.step).slice(-AUTOMATIC_EVALUATIONS_KEPT);
}

/** Reads the automatic evaluations when a new one can exist; true when `evaluation.stopEarly` cancelled the job. */
export async function watchAutomaticEvaluations(run: PipelineRun): Promise<boolean> {
  const { input, status } = run;
  if (!input.validation || !automaticEvaluationsDue(run)) return false;
  const read = await run.acts.readAutomaticEvaluations({ profile: input.profile, jobId: run.job.id });
  status.automaticEvaluations = merge(status.automaticEvaluations ?? [], read);
  const rule = input.evaluation.stopEarly;
  const reason = rule ? stopEarlyReason(status.automaticEvaluations, rule) : undefined;
  if (!reason) return false;
  status.stoppedEarly = { at: nowIso(), explanation: reason };
  run.applyJob(await run.acts.cancelFineTuningJob({ profile: input.profile, jobId: run.job.id }));
  run.showDetails();
  return true;
}
