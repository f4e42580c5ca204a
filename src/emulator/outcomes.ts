/**
 * Azure's own outcomes for a fine-tuning job, beyond success and failure (see docs/emulator.md#azures-own-outcomes):
 * - the post-training safety evaluation finds a model not deployable: the job fails with the documented message
 *   naming the harm categories, and nothing it trained is deployable (seed: "Safety evaluation for fine-tuning");
 * - a reinforcement job pauses itself when its billed training reaches $5,000, leaving a deployable checkpoint; a
 *   resume continues without a further limit ("Cost management for fine-tuning", 2026-02-11: $100 an hour for o4-mini);
 * - a Developer-tier job is preempted (paused by the system) and resumed by the system later (same page: "Developer
 *   tier jobs may be paused by the system but automatically resume"; seed: "might be automatically preempted").
 * Azure reports all three pauses with the status `paused`; what tells them apart is the job's events, whose wording
 * here is the emulator's own (no recording shows them). The deployment deletions (24 h Developer, 15 days inactive)
 * are in deployments.ts.
 */
import { unexpectedEntityState } from './errors';
import type { JobRecord } from './state';

export interface SafetyVerdict {
  deployable: boolean;
  /** Harm categories above threshold when not deployable (the docs' sample: `Violence`, `Self Harm`). */
  categories?: string[];
}

/** Azure bills reinforcement fine-tuning per hour of core training: $100 for o4-mini (cost guide, 2026-02-11). */
export const RFT_USD_PER_TRAINING_HOUR = 100;
/** Per-job RFT billing cap: "When a job reaches this limit, training pauses and a deployable checkpoint is created." */
export const RFT_BILLING_CAP_USD = 5000;
/** How long a preempted Developer-tier job stays paused when the control API does not say. */
export const DEFAULT_PREEMPTION_SECONDS = 1800;
const DEFAULT_SAFETY_CATEGORIES = ['Violence', 'Self Harm'];
/** Azure's error for the safety verdict has no documented code; the message is the docs' sample. */
export const NOT_DEPLOYABLE_CODE = 'modelNotDeployable';

export function notDeployableMessage(categories: string[]): string {
  return `This model is unable to be deployed. Model evaluation identified that this fine tuned model scores above acceptable thresholds for [${categories.join(', ')}]. Please review your training data set and resubmit the job.`;
}

export function billingCapMessage(step: number): string {
  return `Training paused at step ${step}: the job reached the $${RFT_BILLING_CAP_USD.toLocaleString('en-US')} billing limit for reinforcement fine-tuning and a deployable checkpoint was created. Resume the job to continue training; billing then continues without a limit.`;
}

export function preemptionMessage(step: number): string {
  return `Job preempted at step ${step}: the Developer-tier capacity it trained on was reclaimed. The job resumes automatically; paused time is not billed.`;
}

export const SYSTEM_RESUME_MESSAGE = 'Job resumed automatically after preemption.';

/**
 * The step at which a reinforcement job's billed training reaches the cap (each step bills its duration), or null:
 * not reinforcement, or the whole job bills less.
 */
export function billingCapStep(job: JobRecord): number | null {
  if (job.method !== 'reinforcement') return null;
  const usdPerStep = (job.plan.stepMs / 3_600_000) * RFT_USD_PER_TRAINING_HOUR;
  const step = Math.ceil(RFT_BILLING_CAP_USD / usdPerStep - 1e-9);
  return step < job.plan.totalSteps ? step : null;
}

/**
 * The billed-training event a finished job ends with: reinforcement fine-tuning bills training time, in the wording
 * of the 2024 recording (`Training hours billed: 0.500`: hours to three places; each step bills its duration); the
 * others bill tokens, as the 2025 recording says (`Training tokens billed: 13000`).
 */
export function billedTrainingMessage(job: JobRecord): string {
  if (job.method !== 'reinforcement') return `Training tokens billed: ${job.trainedTokens}`;
  return `Training hours billed: ${((job.stepsDone * job.plan.stepMs) / 3_600_000).toFixed(3)}`;
}

/** When a system-paused job resumes by itself (a preempted one), or null. */
export function systemResumeAt(job: JobRecord): number | null {
  return job.status === 'paused' ? (job.outcomes?.systemPause?.resumeAt ?? null) : null;
}

/** Per-account safety verdicts for jobs that have none of their own (control API; not kept in the state file). */
export class AzureOutcomes {
  private readonly accountVerdicts = new Map<string, string[]>();

  /** Sets the verdict the evaluation will reach for `target`: one job (not finished), or every job of an account without its own. */
  setSafetyVerdict(target: { job: JobRecord } | { account: string }, verdict: SafetyVerdict): void {
    const failure = verdict.deployable ? undefined : verdict.categories?.length ? verdict.categories : DEFAULT_SAFETY_CATEGORIES;
    if ('account' in target) {
      if (failure) this.accountVerdicts.set(target.account, failure);
      else this.accountVerdicts.delete(target.account);
      return;
    }
    const job = target.job;
    if (job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled') {
      throw unexpectedEntityState(`Job '${job.id}' is already ${job.status}; its safety evaluation is over.`);
    }
    job.outcomes = { ...job.outcomes, safetyFailure: failure ?? [] };
  }

  /** The harm categories that make `job`'s model not deployable, or null when it passes. */
  safetyFailure(job: JobRecord): string[] | null {
    const own = job.outcomes?.safetyFailure;
    if (own !== undefined) return own.length > 0 ? own : null;
    return this.accountVerdicts.get(job.account) ?? null;
  }
}
