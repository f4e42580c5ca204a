/** Lookups over the model catalogue. Pure functions of a `Catalog`, so workflows, activities and the emulator share them. */
import { BUILTIN_CATALOG, type Catalog, type DeploymentType, type ModelEntry, type RegionEntry, type TrainingType } from './models';

export * from './models';
export * from './config';

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
