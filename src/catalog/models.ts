/**
 * The model and region catalogue: what Azure's fine-tuning and deployment docs say, as data.
 * Sources: the "Fine-Tuning Model Guidance" table (training regions per type, limits, modality) and
 * "Deploy your fine-tuned model" (deployment types per region). Everything else in ftpipe reads this
 * module; nothing else hard-codes a model name, a region list or a token limit.
 */

export type TrainingType = 'Standard' | 'Global' | 'Developer';
export type DeploymentType = 'Standard' | 'GlobalStandard' | 'DeveloperTier' | 'ProvisionedManaged';

/**
 * The deployment type of a base model deployed as an evaluation baseline: Global Standard (pay per token, every Azure
 * OpenAI region). Developer tier is a fine-tuned-model deployment type only ("Deploy your fine-tuned model").
 */
export const BASE_MODEL_DEPLOYMENT_TYPE: DeploymentType = 'GlobalStandard';

/** How an evaluation deploys what it scores: one unit, deleted once scored; `base` for a base model (its own version). */
export interface EvaluationDeployment {
  base: boolean;
  type: DeploymentType;
  capacity: number;
}

/** Each checkpoint (a fine-tuned model) is scored on the Developer tier: no hosting fee. */
export const EVALUATION_DEPLOYMENT: EvaluationDeployment = { base: false, type: 'DeveloperTier', capacity: 1 };

/**
 * How `evaluation.baseline.model` deploys: a fine-tuned model (an earlier run's, or a checkpoint) like the checkpoints,
 * anything else as a base model on BASE_MODEL_DEPLOYMENT_TYPE. The workflow deploys it so and preflight checks it so.
 */
export function baselineDeployment(model: string): EvaluationDeployment {
  const fineTuned = /\.ft-[0-9a-f]{32}/.test(model) || model.startsWith('ftchkpt-');
  return fineTuned ? EVALUATION_DEPLOYMENT : { base: true, type: BASE_MODEL_DEPLOYMENT_TYPE, capacity: 1 };
}
export type FineTuningMethod = 'supervised' | 'dpo' | 'reinforcement';
export type Modality = 'text' | 'text+vision';
/** tiktoken encodings ftpipe can count with. */
export const TOKEN_ENCODINGS = ['o200k_base', 'cl100k_base'] as const;
export type TokenEncoding = (typeof TOKEN_ENCODINGS)[number];

/** Where an entry's facts come from, and as of when: the catalogue is dated data, and Azure moves faster than it. */
export interface CatalogSource {
  document: string;
  /** ISO date of the document (its ms.date), or of the observation. */
  date: string;
  /** Where sources disagree, which one the entry follows and why (recordings of the live service beat the docs). */
  notes?: string;
}

export interface ModelEntry {
  /** Model id as the API takes it, without version, e.g. `gpt-4.1-mini`. */
  id: string;
  version: string;
  /** Maximum tokens of one training example (prompt and completion together); null when Azure publishes none. */
  trainingContextTokens: number | null;
  inputTokens: number;
  outputTokens: number | null;
  modality: Modality;
  methods: FineTuningMethod[];
  /** tiktoken encoding used to count tokens. */
  encoding: TokenEncoding;
  /** The model's own tokenizer is not a tiktoken encoding (non-OpenAI models): `encoding` only approximates its counts. */
  approximateTokenCounts?: boolean;
  preview?: boolean;
  /** A reasoning model (o-series): refuses `temperature` and other sampling parameters. */
  reasoning?: boolean;
  source: CatalogSource;
  /**
   * What is known to be impossible (documented as "Not supported", or refused by Azure), as opposed to merely not
   * listed: preflight refuses only these; anything else the entry does not list is a warning.
   */
  unavailable?: { trainingTypes?: TrainingType[]; methods?: FineTuningMethod[]; reason: string };
  training: {
    /** Regions (ARM names) with Standard (regional) training. */
    standardRegions: string[];
    global: boolean;
    developer: boolean;
  };
  /** Regions (ARM names) per deployment type; `'*'` means every Azure OpenAI region. */
  deployment: Partial<Record<DeploymentType, string[] | '*'>>;
}

export interface RegionEntry {
  name: string;
  displayName: string;
  /** Fine-tunes Global training from resources in this region. */
  globalTraining: boolean;
  /** Models that this region's Global training excludes, per the docs' footnotes. */
  globalTrainingExcludes?: { noVision?: boolean; models?: string[] };
}

export interface Catalog {
  models: ModelEntry[];
  regions: RegionEntry[];
  /** The catalogue's date (its newest source), named in warnings about what it does not list. */
  date: string;
}

const ALL = '*' as const;

/** The documents the built-in entries come from (seeds: Azure docs), with their dates. */
const MODEL_GUIDANCE: CatalogSource = { document: 'Azure OpenAI "Fine-Tuning Model Guidance" (fine-tuning models table)', date: '2025-02-06' };
/**
 * Reinforcement fine-tuning is documented impossible on the GPT models: the RFT guide (MicrosoftDocs azure-ai-docs,
 * how-to/reinforcement-fine-tuning.md, 2025-05-11) says "only o4-mini supports RFT", and Azure refuses it.
 */
const NO_RFT = { methods: ['reinforcement'] as FineTuningMethod[], reason: 'the reinforcement fine-tuning guide (2025-05-11) says "only o4-mini supports RFT"' };

/**
 * o4-mini's entry: the model table, except Developer training, which the table (2025-02-06) does not list and live
 * recordings show Azure accepting. Recordings beat docs.
 */
const O4_MINI_SOURCE: CatalogSource = {
  ...MODEL_GUIDANCE,
  notes:
    'Developer training: the model table lists none for o4-mini, but Azure created o4-mini reinforcement jobs with trainingType developerTier ' +
    '(201, api-version 2025-11-15-preview, East US 2, 2026-02-03: Azure/azure-sdk-assets python/sdk/ai/azure-ai-projects/tests/recordings/finetuning, ' +
    'test_create_job[rft-openai-developerTier] at 28ff9148, also GlobalStandard and Standard); the recordings win, so developer is true',
};

/** The date of the built-in catalogue as a whole: its newest source. */
export const BUILTIN_CATALOG_DATE = '2025-02-27';

const BUILTIN_MODELS: ModelEntry[] = [
  {
    id: 'gpt-4o-mini', version: '2024-07-18', trainingContextTokens: 65_536, inputTokens: 128_000, outputTokens: 16_384,
    modality: 'text', methods: ['supervised'], encoding: 'o200k_base', source: MODEL_GUIDANCE,
    unavailable: NO_RFT,
    training: { standardRegions: ['northcentralus', 'swedencentral'], global: true, developer: true },
    deployment: { Standard: ['eastus2', 'northcentralus'], GlobalStandard: ALL, ProvisionedManaged: ['northcentralus', 'swedencentral'] },
  },
  {
    id: 'gpt-4o', version: '2024-08-06', trainingContextTokens: 65_536, inputTokens: 128_000, outputTokens: 16_384,
    modality: 'text+vision', methods: ['supervised', 'dpo'], encoding: 'o200k_base', source: MODEL_GUIDANCE,
    unavailable: NO_RFT,
    training: { standardRegions: ['eastus2', 'northcentralus', 'swedencentral'], global: true, developer: true },
    deployment: { Standard: ['eastus2', 'northcentralus'], GlobalStandard: ALL, ProvisionedManaged: ['northcentralus', 'swedencentral'] },
  },
  {
    id: 'gpt-4.1', version: '2025-04-14', trainingContextTokens: 65_536, inputTokens: 128_000, outputTokens: 16_384,
    modality: 'text+vision', methods: ['supervised', 'dpo'], encoding: 'o200k_base', source: MODEL_GUIDANCE,
    unavailable: NO_RFT,
    training: { standardRegions: ['northcentralus', 'swedencentral'], global: true, developer: true },
    deployment: { Standard: ['eastus2', 'northcentralus'], GlobalStandard: ALL, DeveloperTier: ALL, ProvisionedManaged: ['northcentralus'] },
  },
  {
    id: 'gpt-4.1-mini', version: '2025-04-14', trainingContextTokens: 65_536, inputTokens: 128_000, outputTokens: 16_384,
    modality: 'text', methods: ['supervised', 'dpo'], encoding: 'o200k_base', source: MODEL_GUIDANCE,
    unavailable: NO_RFT,
    training: { standardRegions: ['northcentralus', 'swedencentral'], global: true, developer: true },
    deployment: { Standard: ['eastus2', 'northcentralus'], GlobalStandard: ALL, DeveloperTier: ALL },
  },
  {
    id: 'gpt-4.1-nano', version: '2025-04-14', trainingContextTokens: 32_768, inputTokens: 128_000, outputTokens: 16_384,
    modality: 'text', methods: ['supervised'], encoding: 'o200k_base', source: MODEL_GUIDANCE,
    unavailable: NO_RFT,
    training: { standardRegions: ['northcentralus', 'swedencentral'], global: true, developer: true },
    deployment: { Standard: ['eastus2', 'northcentralus'], GlobalStandard: ALL, DeveloperTier: ALL },
  },
  {
    id: 'o4-mini', version: '2025-04-16', trainingContextTokens: 65_536, inputTokens: 128_000, outputTokens: 16_384,
    modality: 'text', methods: ['reinforcement'], encoding: 'o200k_base', source: O4_MINI_SOURCE, reasoning: true,
    training: { standardRegions: ['eastus2', 'swedencentral'], global: true, developer: true },
    deployment: { Standard: ['eastus2', 'northcentralus'], GlobalStandard: ALL, DeveloperTier: ALL },
  },
  {
    id: 'Ministral-3B', version: '2411', trainingContextTokens: null, inputTokens: 128_000, outputTokens: null,
    modality: 'text', methods: ['supervised'], encoding: 'o200k_base', source: MODEL_GUIDANCE, approximateTokenCounts: true, preview: true,
    training: { standardRegions: [], global: true, developer: false },
    unavailable: { trainingTypes: ['Standard'], reason: 'the model table lists its Standard regions as "Not supported"' },
    deployment: {},
  },
  {
    // The model table publishes no version for Qwen-32B; '1' is ftpipe's placeholder so versioned ids stay well formed.
    id: 'Qwen-32B', version: '1', trainingContextTokens: 8_192, inputTokens: 8_000, outputTokens: 32_000,
    modality: 'text', methods: ['supervised'], encoding: 'o200k_base', source: MODEL_GUIDANCE, approximateTokenCounts: true, preview: true,
    training: { standardRegions: [], global: true, developer: false },
    unavailable: { trainingTypes: ['Standard'], reason: 'the model table lists its Standard regions as "Not supported"' },
    deployment: {},
  },
];

const region = (name: string, displayName: string, globalTraining: boolean, globalTrainingExcludes?: RegionEntry['globalTrainingExcludes']): RegionEntry =>
  globalTrainingExcludes ? { name, displayName, globalTraining, globalTrainingExcludes } : { name, displayName, globalTraining };

const BUILTIN_REGIONS: RegionEntry[] = [
  region('australiaeast', 'Australia East', true),
  region('brazilsouth', 'Brazil South', true),
  region('canadacentral', 'Canada Central', true),
  region('canadaeast', 'Canada East', true),
  region('eastus', 'East US', true),
  region('eastus2', 'East US2', true),
  region('francecentral', 'France Central', true),
  region('germanywestcentral', 'Germany West Central', true),
  region('italynorth', 'Italy North', true),
  region('japaneast', 'Japan East', true, { noVision: true }),
  region('koreacentral', 'Korea Central', true),
  region('northcentralus', 'North Central US', true),
  region('norwayeast', 'Norway East', true),
  region('polandcentral', 'Poland Central', true, { models: ['gpt-4.1-nano'] }),
  region('southeastasia', 'Southeast Asia', true),
  region('southafricanorth', 'South Africa North', true),
  region('southcentralus', 'South Central US', true),
  region('southindia', 'South India', true),
  region('spaincentral', 'Spain Central', true),
  region('swedencentral', 'Sweden Central', true),
  region('switzerlandwest', 'Switzerland West', true),
  region('switzerlandnorth', 'Switzerland North', true),
  region('uksouth', 'UK South', true),
  region('westeurope', 'West Europe', true),
  region('westus', 'West US', true),
  region('westus3', 'West US3', true),
];

export const BUILTIN_CATALOG: Catalog = { models: BUILTIN_MODELS, regions: BUILTIN_REGIONS, date: BUILTIN_CATALOG_DATE };
