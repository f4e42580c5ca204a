/**
 * Fine-tuning prices, as data: training per model, method and training type, and hosting per deployment type, each
 * with its source, the source's date, and whether the figure was checked against a stored copy of that source.
 * Nothing else in ftpipe holds a price.
 *
 * Training (USD per 1M billed training tokens for supervised and DPO, which Azure bills alike; USD per hour of
 * training for reinforcement): the Global figures are OpenAI's published fine-tuning prices, which Azure's Global
 * training matches; Regional (ftpipe's `Standard`) is Global + 10% and Developer is Global - 50%, per Azure's
 * "Cost management for fine-tuning" (Global is 10-30% below Regional, Developer 50% below Global).
 * Checked on 2026-12-01 against the Azure docs this project stores (/work/shared/seeds, "Deploy your fine-tuned
 * model") and the stored copies of the cost guide, Azure's "fine-tune-test" page and OpenAI's RFT billing guide:
 * none of them carries Azure's per-token training figures or the hosting fee's amount (the cost guide says its numbers
 * are examples only), so those are marked unverified. Check
 * https://azure.microsoft.com/pricing/details/cognitive-services/openai-service before relying on a figure.
 */
import type { DeploymentType, FineTuningMethod, TrainingType } from './models';

export interface PriceSource {
  url: string;
  /** When the figure was read or published (ISO date). */
  date: string;
  /** True only when the figure itself was found in a stored copy of a source (`checked` names it). */
  verified: boolean;
  /** What the figure was checked against, and what that source does and does not say. */
  checked: string;
}

/** A price's source as one line for reports and plans: URL, date, and "unverified" when it is. */
export function priceSourceText(source: PriceSource): string {
  return `${source.url}, ${source.date}${source.verified ? '' : ' (unverified: the figure is not in any stored copy of its source)'}`;
}

export interface TrainingPrice {
  /** `per1MTokens` for supervised and DPO; `perHour` for reinforcement. */
  unit: 'per1MTokens' | 'perHour';
  usd: Record<TrainingType, number>;
  source: PriceSource;
}

const COST_GUIDE_URL = 'https://learn.microsoft.com/azure/ai-foundry/openai/how-to/fine-tuning-cost-management';
const OPENAI_PRICING: PriceSource = {
  url: 'https://openai.com/api/pricing/ (fine-tuning prices as published with gpt-4.1; Azure Global matches them)',
  date: '2025-04-14',
  verified: false,
  checked: 'no stored copy of the OpenAI or Azure pricing page carries these figures; the tier ratios (Global 10-30% below Regional, Developer 50% below Global) are in Azure\'s cost guide, the +10% for Regional is ftpipe\'s pick within that range',
};
const RFT_BILLING: PriceSource = {
  url: 'https://help.openai.com/en/articles/11323177-billing-guide-for-the-reinforcement-fine-tuning-api',
  date: '2026-12-01',
  verified: true,
  checked: 'read on 2026-12-01 in a stored copy of OpenAI\'s RFT billing guide (which shows no date of its own): $100 per hour of core training time for o4-mini-2025-04-16 (Global); Azure\'s Regional and Developer figures follow the cost guide\'s tier ratios and are not stated anywhere stored',
};
const HOSTING_FEE: PriceSource = {
  url: COST_GUIDE_URL,
  date: '2026-02-11',
  verified: false,
  checked: 'the seeds ("Deploy your fine-tuned model") confirm an hourly hosting fee per Standard or Global Standard fine-tuned deployment, used or not, but give no amount; the cost guide\'s $1.70 is, in its own words, an example',
};
const DEVELOPER_HOSTING: PriceSource = {
  url: 'https://learn.microsoft.com/azure/ai-foundry/openai/how-to/fine-tune-test',
  date: '2026-12-01',
  verified: true,
  checked: 'the seeds ("Deploy your fine-tuned model": "without an hourly hosting fee") and Azure\'s fine-tune-test page (no hourly hosting fee, per-token charges only, 24-hour lifetime)',
};
const PTU_BILLING: PriceSource = {
  url: COST_GUIDE_URL,
  date: '2026-02-11',
  verified: false,
  checked: 'the cost guide bills provisioned fine-tuned deployments in PTU-hours; no stored source gives a rate',
};

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
  // RFT bills core training time: $100 an hour for o4-mini (OpenAI's billing guide), plus model-grader tokens billed apart.
  'o4-mini': { reinforcement: { unit: 'perHour', usd: tiers(100), source: RFT_BILLING } },
};

export interface HostingPrice {
  /** USD per hour a fine-tuned deployment exists, used or not; null where Azure bills otherwise (PTU-hours). */
  usdPerHour: number | null;
  note: string;
  source: PriceSource;
}

export const HOSTING_PRICES: Record<DeploymentType, HostingPrice> = {
  Standard: { usdPerHour: 1.7, note: 'hosting fee per hour, plus tokens at the base model\'s Standard rate', source: HOSTING_FEE },
  GlobalStandard: { usdPerHour: 1.7, note: 'hosting fee per hour, plus tokens at the base model\'s Global Standard rate', source: HOSTING_FEE },
  DeveloperTier: { usdPerHour: 0, note: 'no hosting fee (tokens at the Global Standard rate); deleted after 24 hours', source: DEVELOPER_HOSTING },
  ProvisionedManaged: { usdPerHour: null, note: 'billed in PTU-hours at your agreement\'s rate, no hosting fee', source: PTU_BILLING },
};
