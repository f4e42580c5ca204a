/**
 * The training cost a run is expected to bill, from the validator's exact billed-token count (billable tokens x
 * epochs) and the catalogue's prices; and the hourly cost of a deployment. Workflow-safe: pure functions of data.
 */
import { BUILTIN_CATALOG, type DeploymentType, type FineTuningMethod, type TrainingType } from '../catalog/models';
import { HOSTING_PRICES, TRAINING_PRICES, type PriceSource } from '../catalog/prices';
import type { ValidationSummary } from './types';

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
