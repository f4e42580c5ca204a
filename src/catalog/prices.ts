/**
 * Fine-tuning prices, as data: training per model, method and training type, and hosting per deployment type, each
 * with its source and date. Nothing else in ftpipe holds a price.
 *
 * Training (USD per 1M billed training tokens for supervised and DPO, which Azure bills alike; USD per hour of
 * training for reinforcement): the Global figures are OpenAI's published fine-tuning prices, which Azure's Global
 * training matches; Regional (ftpipe's `Standard`) is Global + 10% and Developer is Global - 50%, per Azure's
 * "Cost management for fine-tuning" (2026-02-11: Global is 10-30% below Regional, Developer 50% below Global).
 * Check https://azure.microsoft.com/pricing/details/cognitive-services/openai-service before relying on a figure.
 */
import type { DeploymentType, FineTuningMethod, TrainingType } from './models';

export interface PriceSource {
  url: string;
  /** When the figure was read or published (ISO date). */
  date: string;
}

export interface TrainingPrice {
  /** `per1MTokens` for supervised and DPO; `perHour` for reinforcement. */
  unit: 'per1MTokens' | 'perHour';
  usd: Record<TrainingType, number>;
  source: PriceSource;
}

const OPENAI_PRICING: PriceSource = { url: 'https://openai.com/api/pricing/ (fine-tuning prices as published with gpt-4.1; Azure Global matches them)', date: '2025-04-14' };
const AZURE_COST_GUIDE: PriceSource = { url: 'https://learn.microsoft.com/azure/ai-foundry/openai/how-to/fine-tuning-cost-management', date: '2026-02-11' };

/** Regional (Standard) = Global + 10%; Developer = Global - 50%. Rounded to cents. */
function tiers(global: number): Record<TrainingType, number> {
  return { Standard: Math.round(global * 110) / 100, Global: global, Developer: Math.round(global * 50) / 100 };
}

const perToken = (global: number): TrainingPrice => ({ unit: 'per1MTokens', usd: tiers(global), source: OPENAI_PRICING });

/** Per catalogue model id, per method. Models without an entry (preview partner models) have no published price here. */
export const TRAINING_PRICES: Record<string, Partial<Record<FineTuningMethod, TrainingPrice>>> = {
  'gpt-4o-mini': { supervised: perToken(3) },
  'gpt-4o': { supervised: perToken(25), dpo: perToken(25) },
  'gpt-4.1': { supervised: perToken(25), dpo: perToken(25) },
  'gpt-4.1-mini': { supervised: perToken(5), dpo: perToken(5) },
  'gpt-4.1-nano': { supervised: perToken(1.5) },
  // RFT bills core training time: $100 an hour for o4-mini (Azure's cost guide), plus model-grader tokens billed apart.
  'o4-mini': { reinforcement: { unit: 'perHour', usd: tiers(100), source: AZURE_COST_GUIDE } },
};

export interface HostingPrice {
  /** USD per hour a fine-tuned deployment exists, used or not; null where Azure bills otherwise (PTU-hours). */
  usdPerHour: number | null;
  note: string;
  source: PriceSource;
}

export const HOSTING_PRICES: Record<DeploymentType, HostingPrice> = {
  Standard: { usdPerHour: 1.7, note: 'hosting fee per hour, plus tokens at the base model\'s Standard rate', source: AZURE_COST_GUIDE },
  GlobalStandard: { usdPerHour: 1.7, note: 'hosting fee per hour, plus tokens at the base model\'s Global Standard rate', source: AZURE_COST_GUIDE },
  DeveloperTier: { usdPerHour: 0, note: 'no hosting fee (tokens at the Global Standard rate); deleted after 24 hours', source: AZURE_COST_GUIDE },
  ProvisionedManaged: { usdPerHour: null, note: 'billed in PTU-hours at your agreement\'s rate, no hosting fee', source: AZURE_COST_GUIDE },
};
