/**
 * The training cost a run is expected to bill, from the validator's exact billed-token count (billable tokens x
 * epochs) and the catalogue's prices; the hourly cost of a deployment; and the run's cost ledger (what it was billed
 * for, from its status). Workflow-safe: pure functions of data.
 */
import { BUILTIN_CATALOG, type DeploymentType, type FineTuningMethod, type TrainingType } from '../catalog/models';
import { HOSTING_PRICES, TRAINING_PRICES } from '../catalog/prices';
import type { CostLedger, DeploymentInfo, IdleDeployment, JobEventSummary, LedgerDeployment, PipelineStatus, Stage, TrainingCostEstimate, TrainingSpend, TrainingTime, ValidationSummary } from './types';

// The estimate is plain data of the run's status, defined in types.ts; exported here too for the estimate's callers.
export type { CostLedger, LedgerDeployment, TrainingCostEstimate } from './types';

export interface CostInput {
  /** The catalogue's versioned id of the base model (`gpt-4.1-mini-2025-04-14`), as preflight resolves it. */
  catalogModel: string;
  method: FineTuningMethod;
  trainingType: TrainingType;
  validation: Pick<ValidationSummary, 'billedTokensEstimate' | 'epochs'> | null;
}

const round2 = (usd: number): number => Math.round(usd * 100) / 100;

export function estimateTrainingCost(input: CostInput): TrainingCostEstimate {
  const model = BUILTIN_CATALOG.models.find((m) => input.catalogModel === `${m.id}-${m.version}` || input.catalogModel === m.id)?.id ?? input.catalogModel;
  const entry = TRAINING_PRICES[model]?.[input.method];
  const epochs = input.validation?.epochs ?? null;
  const billedTokens = input.validation?.billedTokensEstimate ?? null;
  if (!entry) {
    return { usd: null, billedTokens, epochs, price: null, basis: `no ${input.method} training price for ${model} in the catalogue` };
  }
  const price = { usd: entry.usd[input.trainingType], unit: entry.unit, source: entry.source };
  if (entry.unit === 'perHour') {
    return { usd: null, billedTokens, epochs, price, basis: `reinforcement fine-tuning bills training time: $${price.usd} per hour (${input.trainingType}); the hours are known only as it trains` };
  }
  if (billedTokens === null) {
    return { usd: null, billedTokens, epochs, price, basis: 'the data was not validated locally (a URL or file id), so its billed tokens are unknown' };
  }
  const usd = round2((billedTokens / 1_000_000) * price.usd);
  return {
    usd, billedTokens, epochs, price,
    basis: `${billedTokens} billed tokens (${epochs ? `${epochs.count} epoch${epochs.count === 1 ? '' : 's'}${epochs.source === 'auto' ? ', as Azure\'s auto setting picks them' : ''}` : 'epochs unknown'}) x $${price.usd} per 1M (${input.trainingType})`,
  };
}

/** USD per hour a deployment of this type costs while it exists (null: billed in PTU-hours). */
export function hostingUsdPerHour(type: DeploymentType): number | null {
  return HOSTING_PRICES[type].usdPerHour;
}

/** Why the budget refuses the run, or undefined when the estimate is within it (or unknown: nothing to compare). */
export function budgetRefusal(maxTrainingUsd: number | undefined, estimate: TrainingCostEstimate): string | undefined {
  if (maxTrainingUsd === undefined || estimate.usd === null || estimate.usd <= maxTrainingUsd) return undefined;
  return `the estimated training cost $${estimate.usd.toFixed(2)} exceeds budget.maxTrainingUsd $${maxTrainingUsd.toFixed(2)} (${estimate.basis}); nothing was uploaded`;
}

const STEP_EVENT = /^Step \d+\b/;
/** Events that break training time: a pause, a preemption, a resume (Azure's and the emulator's wording). */
const BREAK_EVENT = /paus|preempt|resum/i;

/** Adds the training time that `newEvents` (oldest first, as the poll gives them) show to `time`. */
export function accrueTrainingTime(time: TrainingTime | undefined, newEvents: readonly Pick<JobEventSummary, 'createdAt' | 'message'>[]): TrainingTime {
  const next: TrainingTime = time ? { ...time } : { countedSeconds: 0, countedGaps: 0, uncountedSteps: 0, lastStepAt: null, interrupted: false };
  for (const event of newEvents) {
    if (STEP_EVENT.test(event.message)) {
      if (next.lastStepAt !== null && !next.interrupted) {
        next.countedSeconds += Math.max(0, event.createdAt - next.lastStepAt);
        next.countedGaps += 1;
      } else {
        next.uncountedSteps += 1;
      }
      next.lastStepAt = event.createdAt;
      next.interrupted = false;
    } else if (BREAK_EVENT.test(event.message)) {
      next.interrupted = true;
    }
  }
  return next;
}

/** Seconds trained by `time`: the counted gaps, and each uncounted step at the mean step time (none measured yet: 0). */
export function trainedSeconds(time: TrainingTime | undefined): number {
  if (!time || time.countedGaps === 0) return 0;
  return time.countedSeconds + (time.countedSeconds / time.countedGaps) * time.uncountedSteps;
}

/**
 * What the run's training has cost so far. Azure's billed figure when its events gave one ("Training tokens billed",
 * or "Training hours billed" for training billed by the hour, which the recordings show only once the job has
 * succeeded); before that, counted from what Azure reports while it
 * trains: for a per-token price, the steps trained x batch size x the validated billed tokens per example; for
 * reinforcement fine-tuning's hourly price, the training time between Azure's step events.
 */
export function trainingSpend(status: Pick<PipelineStatus, 'job' | 'cost' | 'validation' | 'progress' | 'trainingTime'>): TrainingSpend {
  const price = status.cost?.price ?? null;
  const job = status.job;
  if (!price) return { usd: null, source: null, basis: status.cost?.basis ?? 'no training price in the catalogue' };
  if (price.unit === 'per1MTokens' && typeof job?.billedTokens === 'number') {
    return { usd: round2((job.billedTokens / 1_000_000) * price.usd), source: 'azure', basis: `Azure billed ${job.billedTokens} tokens x $${price.usd} per 1M` };
  }
  if (price.unit === 'perHour' && typeof job?.billedHours === 'number') {
    return { usd: round2(job.billedHours * price.usd), source: 'azure', basis: billedHoursBasis(job.billedHours, price.usd) };
  }
  if (price.unit === 'perHour') {
    if (!status.trainingTime || status.trainingTime.countedGaps === 0) return { usd: null, source: null, basis: 'not counted yet: no two of Azure\'s step events seen' };
    const hours = trainedSeconds(status.trainingTime) / 3600;
    return { usd: round2(hours * price.usd), source: 'counted', basis: `${hours.toFixed(2)} training hours between Azure's step events x $${price.usd} per hour` };
  }
  const v = status.validation;
  const step = status.progress.step ?? 0;
  const batch = job?.batchSize ?? null;
  if (!v || v.billedTokensEstimate === null || v.examples.training === 0 || batch === null) {
    return { usd: null, source: null, basis: 'not counted: the billed tokens per example or Azure\'s batch size are unknown; Azure reports the billed tokens when the job ends' };
  }
  const tokensPerExample = v.billedTokensEstimate / v.epochs.count / v.examples.training;
  const tokens = Math.round(step * batch * tokensPerExample);
  return { usd: round2((tokens / 1_000_000) * price.usd), source: 'counted', basis: `${step} steps x batch ${batch} x ${tokensPerExample.toFixed(1)} billed tokens per example = ${tokens} tokens x $${price.usd} per 1M` };
}

function billedHoursBasis(hours: number, usdPerHour: number): string {
  return `Azure billed ${hours} training hours x $${usdPerHour} per hour`;
}

/** Why the budget pauses the job now (its spend passed `maxTrainingUsd`), or undefined. */
export function budgetPauseReason(maxTrainingUsd: number | undefined, spend: TrainingSpend): string | undefined {
  if (maxTrainingUsd === undefined || spend.usd === null || spend.usd <= maxTrainingUsd) return undefined;
  return `the training spend $${spend.usd.toFixed(2)} passed budget.maxTrainingUsd $${maxTrainingUsd.toFixed(2)} (${spend.basis}): ftpipe paused the job, which keeps a deployable checkpoint; resume it in Azure to train on`;
}

/** A deployment type from a SKU name as Azure echoes it (case-insensitive: `standard`, `developertier`). */
export function deploymentTypeOf(sku: string): DeploymentType | null {
  const wanted = sku.toLowerCase();
  return (Object.keys(HOSTING_PRICES) as DeploymentType[]).find((t) => t.toLowerCase() === wanted) ?? null;
}

const HOUR_MS = 3_600_000;
/** Azure deletes a Developer-tier deployment 24 hours after it was created, whatever its use. */
export const DEVELOPER_DEPLOYMENT_LIFETIME_HOURS = 24;
/** Azure deletes a fine-tuned deployment after 15 days without chat completions or responses calls. */
export const INACTIVE_DEPLOYMENT_DELETION_DAYS = 15;

export interface LedgerOptions {
  /** ISO time up to which hosting accrues (the report's generation time, workflow time in a workflow). */
  now: string;
  /** The evaluation's deployment type (input `evaluation.deploymentType`); none when the run did not evaluate. */
  evaluationSku?: string;
  /** Names in `status.deployments` the run kept from earlier runs (keepVersions): their accrual is not this run's. */
  keptFromBefore?: readonly string[];
}

const hoursBetween = (from: string, to: string): number => Math.max(0, Math.round(((Date.parse(to) - Date.parse(from)) / HOUR_MS) * 100) / 100);

/** When the run entered `stage` (the latest entry), and when it left it (the next stage's entry), from its timeline. */
function stageSpan(status: Pick<PipelineStatus, 'timeline'>, stage: Stage): { from: string; to: string | null } | null {
  const i = status.timeline.map((t) => t.stage).lastIndexOf(stage);
  if (i < 0) return null;
  return { from: status.timeline[i]!.at, to: status.timeline[i + 1]?.at ?? null };
}

function trainingLine(status: PipelineStatus): CostLedger['training'] {
  const estimatedUsd = status.cost?.usd ?? null;
  const job = status.job;
  const ended = job !== null && ['succeeded', 'failed', 'cancelled'].includes(job.status);
  const billedTokens = job?.billedTokens ?? (ended ? (job?.trainedTokens ?? null) : null);
  const price = status.cost?.price ?? null;
  if (job?.notDeployable) {
    return { estimatedUsd, billedTokens: 0, billedUsd: 0, basis: 'Azure bills no training for a model its safety evaluation found not deployable' };
  }
  // Azure's "Training hours billed": the billed figure of training priced by the hour (reinforcement fine-tuning).
  const billedHours = typeof job?.billedHours === 'number' ? job.billedHours : null;
  if (billedHours !== null && price?.unit === 'perHour') {
    return { estimatedUsd, billedTokens, billedHours, billedUsd: round2(billedHours * price.usd), basis: billedHoursBasis(billedHours, price.usd) };
  }
  if (job?.status === 'failed' && billedTokens === null) {
    return { estimatedUsd, billedTokens: null, billedUsd: 0, basis: 'Azure bills no training lost to a failed job' };
  }
  // Before Azure's billed figure (for hourly billing: before its hours-billed event), what its events show so far.
  const counted = job !== null && (billedTokens === null || price?.unit === 'perHour') ? trainingSpend(status) : null;
  const countedUsd = counted?.source === 'counted' ? counted.usd : null;
  if (countedUsd !== null && counted) {
    return { estimatedUsd, billedTokens, billedUsd: null, countedUsd, basis: `not billed yet (job ${job!.status}); counted so far from Azure's events: ${counted.basis}` };
  }
  if (billedTokens === null) {
    return { estimatedUsd, billedTokens, billedUsd: null, basis: job === null ? 'no job was created' : `not billed yet (job ${job.status}); estimate: ${status.cost?.basis ?? 'none'}` };
  }
  if (!price || price.unit !== 'per1MTokens') {
    return { estimatedUsd, billedTokens, billedUsd: null, basis: price ? 'reinforcement fine-tuning bills training hours, which Azure reports only in its "Training hours billed" event, not seen' : 'no training price in the catalogue' };
  }
  // A job priced per token that Azure reported in hours (its 2024 wording) is priced by its tokens; the hours are kept.
  return { estimatedUsd, billedTokens, ...(billedHours !== null ? { billedHours } : {}), billedUsd: round2((billedTokens / 1_000_000) * price.usd), basis: `${billedTokens} billed tokens x $${price.usd} per 1M` };
}

function hostingLine(d: DeploymentInfo, since: string | null, now: string, idle: IdleDeployment | undefined): LedgerDeployment {
  const type = deploymentTypeOf(d.sku);
  const usdPerHour = type ? hostingUsdPerHour(type) : null;
  const hours = since ? hoursBetween(since, now) : null;
  const developer = type === 'DeveloperTier';
  return {
    profile: d.profile, name: d.name, sku: d.sku, usdPerHour, since, hours,
    usd: usdPerHour !== null && hours !== null ? round2(usdPerHour * hours) : null,
    expiry: developer
      ? { kind: 'lifetime', at: since ? new Date(Date.parse(since) + DEVELOPER_DEPLOYMENT_LIFETIME_HOURS * HOUR_MS).toISOString() : null }
      : {
          kind: 'inactivity', afterDaysWithoutCalls: INACTIVE_DEPLOYMENT_DELETION_DAYS,
          ...(idle?.deployment === d.name && idle.profile === d.profile ? (idle.schedule ? { keptAliveBy: idle.schedule.id } : { unusedUntil: idle.deletedIfUnusedAt }) : {}),
        },
  };
}

/**
 * What the run was billed for, as far as its status tells: training (estimated, then billed), the evaluation's
 * deployments (hours x hourly price), and hosting accrued by what it leaves live, with the hourly cost while it stays.
 * Token charges for inference (evaluation calls, use) are per token and not in the ledger.
 */
export function costLedger(status: PipelineStatus, options: LedgerOptions): CostLedger {
  const notes: string[] = [];
  const training = trainingLine(status);

  let evaluation: CostLedger['evaluation'] = null;
  const evalSpan = stageSpan(status, 'evaluate');
  if (evalSpan && options.evaluationSku) {
    const deployments = status.evaluation?.scores.length ?? 0;
    const type = deploymentTypeOf(options.evaluationSku);
    const usdPerHour = type ? hostingUsdPerHour(type) : null;
    const hours = hoursBetween(evalSpan.from, evalSpan.to ?? options.now);
    evaluation = { deployments, sku: options.evaluationSku, hours, usdPerHour, usd: usdPerHour === null ? null : round2(usdPerHour * hours * deployments) };
  }

  const deploySince = stageSpan(status, 'deploy')?.from ?? null;
  const copySince = stageSpan(status, 'copy')?.from ?? deploySince;
  const copied = new Set(status.copies.flatMap((c) => (c.deployment ? [`${c.deployment.profile}/${c.deployment.name}`] : [])));
  const hosting = status.deployments.map((d) => {
    const kept = options.keptFromBefore?.includes(d.name) ?? false;
    return hostingLine(d, kept ? null : copied.has(`${d.profile}/${d.name}`) ? copySince : deploySince, options.now, status.idle);
  });
  for (const h of hosting) {
    if (h.since === null) notes.push(`${h.name}: kept from an earlier run; its hosting so far is billed to that run.`);
    if (h.expiry.kind === 'lifetime') notes.push(`${h.name}: Azure deletes this Developer-tier deployment${h.expiry.at ? ` at ${h.expiry.at}` : ' 24 hours after it was created'}.`);
    else if (h.expiry.keptAliveBy) notes.push(`${h.name}: kept alive by schedule ${h.expiry.keptAliveBy}, so Azure's deletion after ${INACTIVE_DEPLOYMENT_DELETION_DAYS} days without calls does not come; hosting accrues${h.usdPerHour === null ? '' : ` at $${h.usdPerHour.toFixed(2)}/hour`} until it is deleted.`);
    else if (h.expiry.unusedUntil) notes.push(`${h.name}: left to expire: Azure deletes it at ${h.expiry.unusedUntil} unless something calls it first; hosting accrues until then${h.usdPerHour === null || h.since === null ? '' : `, at most $${round2(h.usdPerHour * hoursBetween(h.since, h.expiry.unusedUntil)).toFixed(2)} in all if unused`}.`);
    else notes.push(`${h.name}: Azure deletes it after ${INACTIVE_DEPLOYMENT_DELETION_DAYS} days without calls; hosting accrues until then or until it is deleted.`);
  }

  const accrued = hosting.filter((h) => h.since !== null).map((h) => h.usd);
  const parts = [training.billedUsd ?? training.countedUsd ?? training.estimatedUsd, evaluation ? evaluation.usd : 0, ...accrued];
  const totalUsd = parts.every((p): p is number => p !== null) ? round2(parts.reduce((a, b) => a + b, 0)) : null;
  const rates = hosting.map((h) => h.usdPerHour);
  const hourlyUsdWhileLive = rates.every((r): r is number => r !== null) ? round2(rates.reduce((a, b) => a + b, 0)) : null;
  if (training.billedUsd === null && (training.countedUsd ?? null) !== null) notes.push('Training is counted from Azure\'s events so far until Azure reports the billed figure.');
  else if (training.billedUsd === null && training.estimatedUsd !== null) notes.push('Training is counted at its estimate until Azure reports the billed tokens.');
  return { asOf: options.now, training, evaluation, hosting, totalUsd, hourlyUsdWhileLive, notes };
}
