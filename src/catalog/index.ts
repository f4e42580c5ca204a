/** Lookups over the model catalogue. Pure functions of a `Catalog`, so workflows, activities and the emulator share them. */
import { BUILTIN_CATALOG, type Catalog, type DeploymentType, type FineTuningMethod, type ModelEntry, type RegionEntry, type TrainingType } from './models';

export * from './models';
export * from './config';
export * from './prices';

const FINE_TUNED_SUFFIX = /\.ft-[0-9a-f]{32}(?:[-_A-Za-z0-9]*)?(?::ckpt-step-\d+)?$/;

/** Normalizes a region as users write it ("Sweden Central", "swedencentral", "East US2") to its ARM name. */
export function normalizeRegion(region: string): string {
  return region.replace(/\s+/g, '').toLowerCase();
}

export interface ResolvedModel {
  entry: ModelEntry;
  /** True for an earlier fine-tuned model or checkpoint used as a base (continuous fine-tuning). */
  fineTuned: boolean;
}

/**
 * Resolves a model as the fine-tuning API takes it: `gpt-4.1`, `gpt-4.1-2025-04-14`, or a fine-tuned model
 * `gpt-4.1-2025-04-14.ft-<32 hex>[-suffix]` (optionally `:ckpt-step-N`). Returns undefined when unknown.
 */
export function resolveModel(model: string, catalog: Catalog = BUILTIN_CATALOG): ResolvedModel | undefined {
  const fineTuned = FINE_TUNED_SUFFIX.test(model);
  const base = fineTuned ? model.slice(0, model.indexOf('.ft-')) : model;
  for (const entry of catalog.models) {
    if (base === entry.id || base === `${entry.id}-${entry.version}`) return { entry, fineTuned };
  }
  return undefined;
}

export function findRegion(region: string, catalog: Catalog = BUILTIN_CATALOG): RegionEntry | undefined {
  const name = normalizeRegion(region);
  return catalog.regions.find((r) => r.name === name);
}

/** Training types a model can use from a resource in `region`. */
export function trainingTypesFor(entry: ModelEntry, region: string, catalog: Catalog = BUILTIN_CATALOG): TrainingType[] {
  const name = normalizeRegion(region);
  const types: TrainingType[] = [];
  if (entry.training.standardRegions.includes(name)) types.push('Standard');
  const r = findRegion(name, catalog);
  const excluded = r?.globalTrainingExcludes;
  const globalHere = !!r?.globalTraining && !(excluded?.noVision && entry.modality === 'text+vision') && !excluded?.models?.includes(entry.id);
  if (entry.training.global && globalHere) types.push('Global');
  if (entry.training.developer && globalHere) types.push('Developer');
  return types;
}

/** Deployment types a fine-tuned model of this base can use in `region`. */
export function deploymentTypesFor(entry: ModelEntry, region: string): DeploymentType[] {
  const name = normalizeRegion(region);
  return (Object.entries(entry.deployment) as [DeploymentType, string[] | '*'][])
    .filter(([, regions]) => regions === '*' || regions.includes(name))
    .map(([type]) => type);
}

/** The versioned id Azure prints in fine-tuned model names, e.g. `gpt-4.1-mini-2025-04-14`. */
export function versionedModelId(entry: ModelEntry): string {
  return `${entry.id}-${entry.version}`;
}

/**
 * How a base model deploys (an evaluation baseline): its own name and version (gpt-4.1-mini: `2025-04-14`), not a
 * fine-tune's version "1". Undefined for an unknown or fine-tuned model.
 */
export function baseModelDeployment(model: string, catalog: Catalog = BUILTIN_CATALOG): { name: string; version: string } | undefined {
  const resolved = resolveModel(model, catalog);
  if (!resolved || resolved.fineTuned) return undefined;
  return { name: resolved.entry.id, version: resolved.entry.version };
}

/** Reasoning models (o-series) refuse sampling parameters such as `temperature`; unknown `o<digit>` models count as reasoning. */
export function isReasoningModel(model: string, catalog: Catalog = BUILTIN_CATALOG): boolean {
  const resolved = resolveModel(model, catalog);
  if (resolved) return resolved.entry.reasoning === true;
  return /^o\d/.test(model);
}

/** What preflight makes of a training plan: a refusal for an unknown model or what is known impossible, warnings for what is unlisted. */
export interface PlanAssessment {
  entry: ModelEntry | undefined;
  fineTuned: boolean;
  refusal?: { type: string; message: string };
  warnings: string[];
}

/**
 * Checks a training plan against the catalogue. The catalogue is dated data, not a wall: Azure has accepted what its
 * tables did not list (gpt-4.1 Standard training from eastus2, DPO on gpt-4o-mini; RFT on o4-mini on the Developer
 * tier, now listed from the recordings: see its source notes). So of a listed model only what its entry marks
 * `unavailable` is refused; a method or training type the catalogue does not list is a warning naming the catalogue's
 * date, or a refusal when `strict`. A model it does not list is refused: validation needs its tokenizer and context
 * length, so the run could not go on; a model Azure added since is accepted once the profile's catalogue or
 * FTPIPE_CATALOG lists it.
 */
export function assessTrainingPlan(
  plan: { model: string; method: FineTuningMethod; trainingType: TrainingType; region: string },
  catalog: Catalog = BUILTIN_CATALOG,
  strict = false,
): PlanAssessment {
  const region = normalizeRegion(plan.region);
  const resolved = resolveModel(plan.model, catalog);
  const unlisted: { type: string; message: string }[] = [];
  const asOf = `the model catalogue of ${catalog.date}`;
  if (!resolved) {
    return { entry: undefined, fineTuned: FINE_TUNED_SUFFIX.test(plan.model), warnings: [], refusal: { type: 'UnknownModel', message: unknownBaseModelMessage(plan.model, catalog) } };
  }
  const { entry, fineTuned } = resolved;
  const source = `${entry.source.document}, ${entry.source.date}`;
  if (entry.unavailable?.methods?.includes(plan.method)) {
    return { entry, fineTuned, warnings: [], refusal: { type: 'MethodNotSupported', message: `method "${plan.method}" is not available for ${entry.id}: ${entry.unavailable.reason} (${source})` } };
  }
  if (entry.unavailable?.trainingTypes?.includes(plan.trainingType)) {
    return { entry, fineTuned, warnings: [], refusal: { type: 'TrainingTypeNotAvailable', message: `trainingType "${plan.trainingType}" is not available for ${entry.id}: ${entry.unavailable.reason} (${source})` } };
  }
  if (!entry.methods.includes(plan.method)) {
    unlisted.push({ type: 'MethodNotSupported', message: `method "${plan.method}" is not listed for ${entry.id} in ${asOf} (listed: ${entry.methods.join(', ')}; source: ${source}); Azure may offer it since` });
  }
  const types = trainingTypesFor(entry, region, catalog);
  if (!types.includes(plan.trainingType)) {
    unlisted.push({
      type: 'TrainingTypeNotAvailable',
      message: `trainingType "${plan.trainingType}" is not listed for ${entry.id} from ${region} in ${asOf} (listed there: ${types.join(', ') || 'none'}; source: ${source}); Azure may offer it since`,
    });
  }
  return finish(entry, fineTuned, unlisted, strict);
}

/**
 * The refusal of a base model the catalogue does not list, naming the input field, the models it knows and how to add
 * one Azure offers since (its tokenizer and limits are what validation needs).
 */
export function unknownBaseModelMessage(model: string, catalog: Catalog = BUILTIN_CATALOG): string {
  const fineTuned = FINE_TUNED_SUFFIX.test(model);
  const what = fineTuned ? `the base of fine-tuned model "${model}"` : `"${model}"`;
  return `baseModel: ${what} is not in the model catalogue of ${catalog.date} (known: ${catalog.models.map((m) => m.id).join(', ')}); `
    + 'for a model Azure added since, list it in the profile\'s catalog.models or an FTPIPE_CATALOG file (id, version, encoding, limits, methods, regions: docs/how-a-run-works.md#a-model-the-catalogue-does-not-list)';
}

function finish(entry: ModelEntry | undefined, fineTuned: boolean, unlisted: { type: string; message: string }[], strict: boolean): PlanAssessment {
  const first = unlisted[0];
  if (strict && first) return { entry, fineTuned, warnings: [], refusal: { type: first.type, message: `${unlisted.map((u) => u.message).join('; ')} (the profile asks for strict catalogue checks)` } };
  return { entry, fineTuned, warnings: unlisted.map((u) => u.message) };
}

/**
 * Checks a deployment of a model fine-tuned from `plan.model` against the catalogue. Its deployment tables list what
 * Azure's docs name per type and region and mark nothing impossible, so a model, type or region they do not list is a
 * warning naming the catalogue's date (Azure judges the deployment), or a refusal when `strict`.
 */
export function assessDeploymentPlan(plan: { model: string; type: DeploymentType; region: string }, catalog: Catalog = BUILTIN_CATALOG, strict = false): PlanAssessment {
  const region = normalizeRegion(plan.region);
  const resolved = resolveModel(plan.model, catalog);
  const asOf = `the model catalogue of ${catalog.date}`;
  if (!resolved) {
    const unknown = { type: 'UnknownModel', message: `model "${plan.model}" is not in ${asOf}, so its deployment types are unknown; add it to the profile's catalogue or FTPIPE_CATALOG if Azure offers it` };
    return finish(undefined, FINE_TUNED_SUFFIX.test(plan.model), [unknown], strict);
  }
  const { entry, fineTuned } = resolved;
  const listed = deploymentTypesFor(entry, region);
  if (listed.includes(plan.type)) return { entry, fineTuned, warnings: [] };
  return finish(entry, fineTuned, [{
    type: 'DeploymentTypeNotAvailable',
    message: `deployment type "${plan.type}" is not listed for fine-tuned ${entry.id} in ${region} in ${asOf} (listed there: ${listed.join(', ') || 'none'}; source: ${entry.source.document}, ${entry.source.date}); Azure may offer it since`,
  }], strict);
}
