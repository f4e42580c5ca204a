/**
 * What the emulated Azure service accepts, in one place: the api-versions each URL family serves, the upload
 * purposes each family's spec enumerates, and the models the service fine-tunes and deploys. This is the emulator's
 * own reading of Azure (specs, recordings, docs), deliberately separate from ftpipe's catalogue (`src/catalog`):
 * a shared table would let ftpipe and its emulator agree with each other where Azure does not.
 */

/**
 * Dated family (`/openai/...?api-version=`). Source: the `api-supported-versions` header the live service sent on
 * 2025-04-25 (recording net-aoai__FineTuningTests_CreateCancelDelete(null).json), plus `2025-11-15-preview`, which
 * the recordings' notes show answering file DELETE.
 */
export const DATED_API_VERSIONS: ReadonlySet<string> = new Set([
  '2022-12-01', '2023-03-15-preview', '2023-05-15', '2023-06-01-preview', '2023-07-01-preview', '2023-08-01-preview',
  '2023-09-01-preview', '2023-10-01-preview', '2023-12-01-preview', '2024-02-01', '2024-02-15-preview',
  '2024-03-01-preview', '2024-04-01-preview', '2024-04-15-preview', '2024-05-01-preview', '2024-06-01',
  '2024-07-01-preview', '2024-08-01-preview', '2024-09-01-preview', '2024-10-01-preview', '2024-10-21',
  '2024-11-01-preview', '2024-12-01-preview', '2025-01-01-preview', '2025-02-01-preview', '2025-03-01-preview',
  '2025-04-01-preview', '2025-04-28', '2025-11-15-preview',
]);

/**
 * Dated api-versions whose job create reads `method.<type>` whole (its hyperparameters, `reinforcement` with its grader)
 * and whose jobs echo it back, and no `method` for a job created without one. Recorded with 2025-11-15-preview
 * (Azure/azure-sdk-assets, python/sdk/ai/azure-ai-projects/tests/recordings/finetuning: test_create_job[sft-openai-Standard],
 * test_finetuning_retrieve_rft_job, test_finetuning_pause_job). The older ones answer `method: {type}` (recorded with
 * 2025-03-01-preview and 2025-04-01-preview) and their spec's `method.type` enum is supervised|dpo.
 */
export const DATED_FULL_METHOD_API_VERSIONS: ReadonlySet<string> = new Set(['2025-11-15-preview']);

/**
 * The first dated api-version whose `FineTuningJobCreation` defines `method`: 2025-01-01-preview's does (supervised
 * and dpo), 2024-12-01-preview's and the GA 2024-10-21's do not (azure-rest-api-specs, specification/cognitiveservices/
 * data-plane/AzureOpenAI/authoring/{preview,stable}/<version>/azureopenai.yaml), and every later spec keeps it. So an
 * older version drops `method` as any field its spec does not define; versions compare as their dates.
 */
export const FIRST_DATED_METHOD_API_VERSION = '2025-01-01-preview';

/** Whether a dated api-version's job create defines `method` (see FIRST_DATED_METHOD_API_VERSION). */
export function datedCreateDefinesMethod(apiVersion: string): boolean {
  return apiVersion.slice(0, 10) >= FIRST_DATED_METHOD_API_VERSION.slice(0, 10);
}

/** v1 family (`/openai/v1/...`): api-version is optional; the spec's `AzureAIFoundryModelsApiVersion` enum. */
export const V1_API_VERSIONS: ReadonlySet<string> = new Set(['v1', 'preview']);

/**
 * ARM `Microsoft.CognitiveServices` api-versions with the deployments resource: the version folders of
 * Azure/azure-rest-api-specs `specification/cognitiveservices/resource-manager/Microsoft.CognitiveServices/{stable,preview}`.
 */
export const ARM_API_VERSIONS: ReadonlySet<string> = new Set([
  '2021-10-01', '2022-03-01', '2022-10-01', '2022-12-01', '2023-05-01', '2023-10-01-preview', '2024-04-01-preview',
  '2024-06-01-preview', '2024-10-01', '2025-04-01-preview', '2025-06-01', '2025-07-01-preview', '2025-09-01', '2025-10-01-preview',
]);

/** Upload purposes per family: dated `Purpose` enum (2025-04-01-preview), v1 `AzureCreateFileRequestMultiPart.purpose`. */
export const UPLOAD_PURPOSES = {
  dated: new Set(['fine-tune', 'fine-tune-results', 'assistants', 'assistants_output', 'batch', 'batch_output', 'evals', 'evals_output']),
  v1: new Set(['assistants', 'batch', 'fine-tune', 'evals']),
} as const;

export type ServiceMethod = 'supervised' | 'dpo' | 'reinforcement';
export type ServiceTrainingType = 'Standard' | 'Global' | 'Developer';
export type ServiceSku = 'Standard' | 'GlobalStandard' | 'DataZoneStandard' | 'DeveloperTier' | 'ProvisionedManaged' | 'GlobalProvisionedManaged';

export interface ServiceModel {
  id: string;
  version: string;
  /** Methods the service accepts for this base (wider than the docs' table where Azure was seen accepting more). */
  methods: ServiceMethod[];
  /** Regions (ARM names) with Standard (regional) training. */
  standardTrainingRegions: string[];
  global: boolean;
  developer: boolean;
  /** Fine-tuned deployments: SKU -> regions, `*` = every region. Source: seed "Deploy your fine-tuned model". */
  fineTunedSkus: Partial<Record<ServiceSku, string[] | '*'>>;
  /** o-series: refuses sampling parameters (temperature, top_p, ...) and `max_tokens`. */
  reasoning: boolean;
  /** Vision input: Global training excludes it in some regions. */
  vision: boolean;
}

const ALL = '*' as const;

/**
 * Sources: seed "Fine-Tuning Model Guidance" (versions, training regions, Global/Developer columns) and seed
 * "Deploy your fine-tuned model" (fine-tuned deployment types); widened where issue 10 records Azure accepting more
 * than the tables: gpt-4.1 Standard training from eastus2, DPO on gpt-4o-mini, RFT on o4-mini on the Developer tier.
 */
export const SERVICE_MODELS: readonly ServiceModel[] = [
  {
    id: 'gpt-4o-mini', version: '2024-07-18', methods: ['supervised', 'dpo'], standardTrainingRegions: ['northcentralus', 'swedencentral'],
    global: true, developer: true, reasoning: false, vision: false,
    fineTunedSkus: { Standard: ['eastus2', 'northcentralus'], GlobalStandard: ALL, ProvisionedManaged: ['northcentralus', 'swedencentral'] },
  },
  {
    id: 'gpt-4o', version: '2024-08-06', methods: ['supervised', 'dpo'], standardTrainingRegions: ['eastus2', 'northcentralus', 'swedencentral'],
    global: true, developer: true, reasoning: false, vision: true,
    fineTunedSkus: { Standard: ['eastus2', 'northcentralus'], GlobalStandard: ALL, ProvisionedManaged: ['northcentralus', 'swedencentral'] },
  },
  {
    id: 'gpt-4.1', version: '2025-04-14', methods: ['supervised', 'dpo'], standardTrainingRegions: ['eastus2', 'northcentralus', 'swedencentral'],
    global: true, developer: true, reasoning: false, vision: true,
    fineTunedSkus: { Standard: ['eastus2', 'northcentralus'], GlobalStandard: ALL, DeveloperTier: ALL, ProvisionedManaged: ['northcentralus'] },
  },
  {
    id: 'gpt-4.1-mini', version: '2025-04-14', methods: ['supervised', 'dpo'], standardTrainingRegions: ['northcentralus', 'swedencentral'],
    global: true, developer: true, reasoning: false, vision: false,
    fineTunedSkus: { Standard: ['eastus2', 'northcentralus'], GlobalStandard: ALL, DeveloperTier: ALL },
  },
  {
    id: 'gpt-4.1-nano', version: '2025-04-14', methods: ['supervised'], standardTrainingRegions: ['northcentralus', 'swedencentral'],
    global: true, developer: true, reasoning: false, vision: false,
    fineTunedSkus: { Standard: ['eastus2', 'northcentralus'], GlobalStandard: ALL, DeveloperTier: ALL },
  },
  {
    id: 'o4-mini', version: '2025-04-16', methods: ['reinforcement'], standardTrainingRegions: ['eastus2', 'swedencentral'],
    global: true, developer: true, reasoning: true, vision: false,
    fineTunedSkus: { Standard: ['eastus2', 'northcentralus'], GlobalStandard: ALL, DeveloperTier: ALL },
  },
];

/** Base-model deployment SKUs (a base model never deploys on DeveloperTier, which is for fine-tuned models). */
export const BASE_MODEL_SKUS: readonly ServiceSku[] = ['Standard', 'GlobalStandard', 'DataZoneStandard', 'ProvisionedManaged', 'GlobalProvisionedManaged'];

/** Regions whose resources may use Global (and Developer) training: seed "Fine-Tuning Model Guidance" note. */
const GLOBAL_TRAINING_REGIONS = new Set([
  'australiaeast', 'brazilsouth', 'canadacentral', 'canadaeast', 'eastus', 'eastus2', 'francecentral', 'germanywestcentral',
  'italynorth', 'japaneast', 'koreacentral', 'northcentralus', 'norwayeast', 'polandcentral', 'southeastasia',
  'southafricanorth', 'southcentralus', 'southindia', 'spaincentral', 'swedencentral', 'switzerlandwest',
  'switzerlandnorth', 'uksouth', 'westeurope', 'westus', 'westus3',
]);

/** Azure's spelling of a region in `x-ms-region` (display name), e.g. `Sweden Central`. */
const REGION_DISPLAY_NAMES: Record<string, string> = {
  swedencentral: 'Sweden Central', northcentralus: 'North Central US', eastus2: 'East US 2', eastus: 'East US', westus: 'West US',
  westus3: 'West US 3', westeurope: 'West Europe', uksouth: 'UK South', francecentral: 'France Central', japaneast: 'Japan East',
};

export function regionDisplayName(region: string): string {
  return REGION_DISPLAY_NAMES[normalizeRegion(region)] ?? region;
}

export function normalizeRegion(region: string): string {
  return region.replace(/\s+/g, '').toLowerCase();
}

export interface ResolvedBase {
  model: ServiceModel;
  /** `gpt-4.1-2025-04-14`: how the service echoes `model` and prefixes fine-tuned names. */
  versionedId: string;
}

/** A base model as the fine-tuning API takes it: `gpt-4.1` or `gpt-4.1-2025-04-14`. */
export function resolveBaseModel(name: string): ResolvedBase | undefined {
  for (const model of SERVICE_MODELS) {
    const versionedId = `${model.id}-${model.version}`;
    if (name === model.id || name === versionedId) return { model, versionedId };
  }
  return undefined;
}

/** A deployable base model: its name (without version) and its one real version. */
export function deployableBaseModel(name: string): ServiceModel | undefined {
  return SERVICE_MODELS.find((m) => m.id === name);
}

export function trainingTypesAt(model: ServiceModel, region: string): ServiceTrainingType[] {
  const name = normalizeRegion(region);
  const types: ServiceTrainingType[] = [];
  if (model.standardTrainingRegions.includes(name)) types.push('Standard');
  const globalHere = GLOBAL_TRAINING_REGIONS.has(name) && !(name === 'japaneast' && model.vision) && !(name === 'polandcentral' && model.id === 'gpt-4.1-nano');
  if (model.global && globalHere) types.push('Global');
  if (model.developer && globalHere) types.push('Developer');
  return types;
}

export function fineTunedSkusAt(model: ServiceModel, region: string): ServiceSku[] {
  const name = normalizeRegion(region);
  return (Object.entries(model.fineTunedSkus) as [ServiceSku, string[] | '*'][]).filter(([, regions]) => regions === '*' || regions.includes(name)).map(([sku]) => sku);
}
