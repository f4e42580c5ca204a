/**
 * User extension of the catalogue without code changes (new models appear often): a YAML or JSON file, named by
 * `loadCatalog({ extraModelsFile })` or the FTPIPE_CATALOG environment variable, whose `models` add entries or
 * override fields of built-in ones (matched by `id`), and whose `regions` do the same by `name`. Example:
 *
 *   models:
 *     - id: gpt-4.1-mini          # override: only the fields given change
 *       trainingContextTokens: 131072
 *     - id: gpt-5-mini            # new: every field is required except preview and encoding
 *       version: 2025-08-07
 *       ...
 */
import { readFile } from 'node:fs/promises';
import type * as Zod from 'zod';
import type * as SourceFiles from '../config/source-file';
import type { SourceFile } from '../config/source-file';
import { BUILTIN_CATALOG, TOKEN_ENCODINGS, type Catalog, type ModelEntry, type RegionEntry } from './models';

export const CATALOG_ENV = 'FTPIPE_CATALOG';

/** The catalogue file is unreadable or its content does not fit the schema; the message names the file and field. */
export class CatalogConfigError extends Error {
  override readonly name = 'CatalogConfigError';
}

/**
 * The schemas of a catalogue file, built on first use: zod and yaml take about 0.15 s of CPU to load, which every
 * `ftpipe validate` paid before it had read a line, and only a catalogue file needs them.
 */
function buildSchemas() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  const { z } = require('zod') as typeof Zod;
  const regionList = z.union([z.literal('*'), z.array(z.string().min(1))]);
  const version = z.union([z.string().min(1), z.number()]).transform(String);

  const modelSchema = z.strictObject({
    id: z.string().min(1),
    version,
    trainingContextTokens: z.number().int().positive().nullable(),
    inputTokens: z.number().int().positive(),
    outputTokens: z.number().int().positive().nullable(),
    modality: z.enum(['text', 'text+vision']),
    methods: z.array(z.enum(['supervised', 'dpo', 'reinforcement'])).min(1),
    encoding: z.enum(TOKEN_ENCODINGS).default('o200k_base'),
    approximateTokenCounts: z.boolean().optional(),
    preview: z.boolean().optional(),
    reasoning: z.boolean().optional(),
    source: z.strictObject({ document: z.string().min(1), date: z.string().min(1), notes: z.string().min(1).optional() }),
    unavailable: z
      .strictObject({ trainingTypes: z.array(z.enum(['Standard', 'Global', 'Developer'])).optional(), methods: z.array(z.enum(['supervised', 'dpo', 'reinforcement'])).optional(), reason: z.string().min(1) })
      .optional(),
    training: z.strictObject({ standardRegions: z.array(z.string()), global: z.boolean(), developer: z.boolean() }),
    deployment: z.strictObject({
      Standard: regionList.optional(),
      GlobalStandard: regionList.optional(),
      DeveloperTier: regionList.optional(),
      ProvisionedManaged: regionList.optional(),
    }),
  });

  const regionSchema = z.strictObject({
    name: z.string().min(1),
    displayName: z.string().min(1),
    globalTraining: z.boolean(),
    globalTrainingExcludes: z.strictObject({ noVision: z.boolean().optional(), models: z.array(z.string()).optional() }).optional(),
  });

  const file = z.strictObject({
    /** The extension's own date (e.g. when its facts were checked); the extended catalogue's date is the newer one. */
    date: z.string().min(1).optional(),
    models: z.array(z.looseObject({ id: z.string().min(1) })).default([]),
    regions: z.array(z.looseObject({ name: z.string().min(1) })).default([]),
  });
  return { model: modelSchema, region: regionSchema, file };
}

let schemas: ReturnType<typeof buildSchemas> | undefined;

/** The line (1-based) of the key at `field` in the catalogue's file, when it came from one (src/config/source-file.ts). */
type LineOf = (field: readonly PropertyKey[]) => number | undefined;

/**
 * Each issue as `field: message`, the field named from `prefix` (`models[0] (gpt-5-mini)`); with the file's lines,
 * `source:line: field: message`, the line of the field's key (or of its entry, for a field the entry lacks).
 */
function describe(error: Zod.ZodError, source: string, prefix: string, at: readonly PropertyKey[], lineOf: LineOf | undefined): string {
  const issues = error.issues.map((issue) => {
    const field = `${[prefix, ...issue.path.map(String)].filter(Boolean).join('.')}: ${issue.message}`;
    const line = lineOf?.([...at, ...issue.path]);
    return line === undefined ? field : `${source}:${line}: ${field}`;
  });
  return lineOf ? issues.join('; ') : `${source}: ${issues.join('; ')}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Built-in fields under the user's: nested objects (`training`, `deployment`) merge one level deep. */
function overlay(base: object, patch: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = merged[key];
    merged[key] = isPlainObject(current) && isPlainObject(value) ? { ...current, ...value } : value;
  }
  return merged;
}

/**
 * Applies an extension (the parsed content of a catalogue file) to `base`; `source` names it in error messages, and
 * `lineOf`, when the extension was read from that file, gives each message the line at fault.
 */
export function extendCatalog(base: Catalog, extension: unknown, source: string, lineOf?: LineOf, field: { prefix: string; at: readonly PropertyKey[] } = { prefix: '', at: [] }): Catalog {
  const { file: fileSchema, model: modelSchema, region: regionSchema } = (schemas ??= buildSchemas());
  const within = (name: string): string => [field.prefix, name].filter(Boolean).join('.');
  const file = fileSchema.safeParse(extension ?? {});
  if (!file.success) throw new CatalogConfigError(describe(file.error, source, within(''), field.at, lineOf));

  const models = [...base.models];
  file.data.models.forEach((patch, i) => {
    const at = models.findIndex((m) => m.id === patch.id);
    // An entry without its own source is attributed to the extension that brought it.
    const own = at >= 0 ? overlay(models[at]!, patch) : { source: { document: source, date: file.data.date ?? 'undated' }, ...patch };
    const entry = modelSchema.safeParse(own);
    if (!entry.success) throw new CatalogConfigError(describe(entry.error, source, within(`models[${i}] (${patch.id})`), [...field.at, 'models', i], lineOf));
    const model: ModelEntry = entry.data;
    if (at >= 0) models[at] = model;
    else models.push(model);
  });

  const regions = [...base.regions];
  file.data.regions.forEach((patch, i) => {
    const at = regions.findIndex((r) => r.name === patch.name);
    const entry = regionSchema.safeParse(at >= 0 ? overlay(regions[at]!, patch) : patch);
    if (!entry.success) throw new CatalogConfigError(describe(entry.error, source, within(`regions[${i}] (${patch.name})`), [...field.at, 'regions', i], lineOf));
    const region: RegionEntry = entry.data;
    if (at >= 0) regions[at] = region;
    else regions.push(region);
  });
  const date = file.data.date && file.data.date > base.date ? file.data.date : base.date;
  return { models, regions, date };
}

export interface LoadCatalogOptions {
  /** YAML or JSON file of extra and overriding entries; defaults to $FTPIPE_CATALOG. */
  extraModelsFile?: string;
  env?: NodeJS.ProcessEnv;
}

/** The built-in catalogue, extended by the user's catalogue file when one is named. */
export async function loadCatalog(options: LoadCatalogOptions = {}): Promise<Catalog> {
  const path = options.extraModelsFile ?? (options.env ?? process.env)[CATALOG_ENV];
  if (!path) return BUILTIN_CATALOG;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CatalogConfigError(`cannot read catalogue file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let file: SourceFile;
  try {
    // YAML is a superset of JSON, so one parser reads both, keeping the keys' lines for the errors.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only for a catalogue file (see buildSchemas)
    file = (require('../config/source-file') as typeof SourceFiles).parseSourceText(text, path);
  } catch (error) {
    throw new CatalogConfigError(error instanceof Error ? error.message : String(error));
  }
  return extendCatalog(BUILTIN_CATALOG, file.value, path, (field) => file.lineOf(field));
}

/**
 * The catalogue a profile sees: `base` extended by the profile's own `catalog` entries, when it has any. With `file`,
 * the worker configuration the profile was read from (its lines, the profile's place in it), an error names the line
 * and field at fault (`ftpipe.config.yaml:14: profiles.0.catalog.models[0] (gpt-5-mini).inputTokens: ...`).
 */
export function catalogForProfile(
  base: Catalog,
  profile: { name: string; catalog?: { date?: string | undefined; models?: unknown[] | undefined; regions?: unknown[] | undefined } | undefined },
  file?: { path: string; lineOf: LineOf; index: number },
): Catalog {
  const own = profile.catalog;
  if (!own || (!own.models?.length && !own.regions?.length)) return base;
  const extension = { ...(own.date ? { date: own.date } : {}), models: own.models ?? [], regions: own.regions ?? [] };
  if (!file) return extendCatalog(base, extension, `profile "${profile.name}" catalog`);
  return extendCatalog(base, extension, file.path, file.lineOf, { prefix: `profiles.${file.index}.catalog`, at: ['profiles', file.index, 'catalog'] });
}
