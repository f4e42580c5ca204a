/**
 * Azure's own outcomes for a job, read from what Azure reports (see docs/emulator.md#azures-own-outcomes for the
 * emulator's side): the safety evaluation's "not deployable" (a failed job whose error carries the documented message),
 * and why a job is `paused` - its user (or ftpipe) asked, the reinforcement billing cap, or a Developer-tier
 * preemption - which Azure reports with one status and tells apart only in the job's events. Workflow-safe: pure.
 */
import type { AutomaticEvaluation, AzureHold, JobError, JobEventSummary, NotDeployable, PauseCause } from './types';

/** The documented wording ("This model is unable to be deployed. Model evaluation identified ..."); the code is not documented. */
const NOT_DEPLOYABLE = /unable to be deployed|not available for deployment|isn't available for deployment/i;
const NOT_DEPLOYABLE_CODES = new Set(['modelnotdeployable']);

export function notDeployableFrom(error: JobError | null | undefined): NotDeployable | null {
  if (!error) return null;
  if (!NOT_DEPLOYABLE.test(error.message) && !NOT_DEPLOYABLE_CODES.has((error.code ?? '').toLowerCase())) return null;
  const listed = /\[([^\]]*)\]/.exec(error.message)?.[1];
  const categories = listed ? listed.split(',').map((c) => c.trim()).filter((c) => c.length > 0) : [];
  return { reason: error.message, categories };
}

/** The cause of the newest pause among `newestFirst` events (Azure's events list newest first). */
export function pauseCauseFrom(newestFirst: readonly Pick<JobEventSummary, 'message'>[]): PauseCause {
  for (const { message } of newestFirst) {
    if (/preempt/i.test(message)) return /resumed/i.test(message) ? 'unknown' : 'preemption';
    if (/billing limit|spending limit|\$5,000/i.test(message)) return 'billingLimit';
    if (/\bpaus/i.test(message)) return 'user';
  }
  return 'unknown';
}

/** Azure's "Training tokens billed: N" event, as a number, or null. */
export function billedTokensFrom(message: string): number | null {
  const m = /^Training tokens billed:\s*([\d,]+)/i.exec(message.trim());
  return m ? Number(m[1]!.replace(/,/g, '')) : null;
}

/**
 * Azure's "Training hours billed: H" event (the 2024 recording's wording, `0.500`, for training billed by time, as
 * reinforcement fine-tuning is), as a number of hours, or null.
 */
export function billedHoursFrom(message: string): number | null {
  const m = /^Training hours billed:\s*(\d[\d,]*(?:\.\d+)?)/i.exec(message.trim());
  return m ? Number(m[1]!.replace(/,/g, '')) : null;
}

/** What a paused job waits for, in words, for status and the Web UI. */
export function pauseExplanation(cause: PauseCause): string {
  switch (cause) {
    case 'billingLimit':
      return 'Azure paused the job at the $5,000 billing limit for reinforcement fine-tuning (a deployable checkpoint was kept); it trains on only after a resume';
    case 'preemption':
      return 'Azure preempted the Developer-tier training; it resumes by itself, and paused time is not billed';
    case 'user':
      return 'paused on request; it trains on after a resume';
    default:
      return 'paused';
  }
}

/** Azure's own per-job billing cap for reinforcement fine-tuning (cost guide, 2026-02-11): it pauses the job there. */
export const RFT_BILLING_LIMIT_USD = 5000;

/**
 * What a paused job means for the run when Azure paused it: after a preemption the run keeps waiting (Azure resumes
 * the job); at the RFT billing limit it waits for a resume, unless `budget.maxTrainingUsd` is at or below what Azure
 * has billed by then ($5,000), which stops the run with the job left paused and its checkpoint deployable.
 * Null when the job is not held by Azure (running, or paused on request).
 */
export function azureHold(job: { status: string; pausedBy?: PauseCause | null } | null, budget: { maxTrainingUsd?: number }): AzureHold | null {
  if (!job || job.status !== 'paused') return null;
  if (job.pausedBy === 'preemption') return { cause: 'preemption', action: 'wait_for_azure', explanation: pauseExplanation('preemption') };
  if (job.pausedBy !== 'billingLimit') return null;
  if (budget.maxTrainingUsd !== undefined && budget.maxTrainingUsd <= RFT_BILLING_LIMIT_USD) {
    return {
      cause: 'billingLimit', action: 'stop',
      explanation: `${pauseExplanation('billingLimit')}; budget.maxTrainingUsd $${budget.maxTrainingUsd.toFixed(2)} allows no more than the $${RFT_BILLING_LIMIT_USD} billed, so the run stops and leaves the job paused`,
    };
  }
  return { cause: 'billingLimit', action: 'wait_for_resume', explanation: `${pauseExplanation('billingLimit')}: send resume to continue (billing continues without a limit) or cancel` };
}

/**
 * Why `evaluation.stopEarly` stops the job, or undefined: the automatic evaluations' full validation loss (oldest first
 * by step) has not fallen below its best by more than `minDelta` for the last `patience` evaluations.
 */
export function stopEarlyReason(evaluations: readonly AutomaticEvaluation[], rule: { patience: number; minDelta: number }): string | undefined {
  const losses = [...evaluations].filter((e) => e.fullValidLoss !== null).sort((a, b) => a.step - b.step);
  let best: AutomaticEvaluation | undefined;
  let flat = 0;
  for (const e of losses) {
    if (!best || e.fullValidLoss! < best.fullValidLoss! - rule.minDelta) {
      best = e;
      flat = 0;
    } else {
      flat += 1;
    }
  }
  if (!best || flat < rule.patience) return undefined;
  const last = losses[losses.length - 1]!;
  return `the job's automatic evaluation stayed flat: full validation loss ${last.fullValidLoss} at step ${last.step}, no better than ${best.fullValidLoss} at step ${best.step} by more than ${rule.minDelta} for ${flat} evaluation${flat === 1 ? '' : 's'} (evaluation.stopEarly.patience ${rule.patience}): ftpipe cancelled the job`;
}
