/**
 * The worker's configuration: Azure profiles and defaults. Read from a YAML or JSON file (`--config`, or
 * FTPIPE_CONFIG), then extended by the caller (e.g. `ftpipe dev` adds the embedded emulator's profiles).
 * Holds names of environment variables for credentials, never the credentials themselves.
 */
import { z } from 'zod';
import { CatalogConfigError, catalogForProfile, type Catalog } from '../catalog';
import { notifyConfigSchema } from '../notify/schema';
import { AzureProfileSchema, type AzureProfile } from './profile';
import { objectKeysAt } from './schema-keys';
import { describeSourceIssues, readSourceFile, type SourceFile } from './source-file';

export const WorkerConfigSchema = z
  .object({
    profiles: z.array(AzureProfileSchema).default([]),
    /** Directories datasets and eval sets may be read from (relative ones from the worker's working directory); default: only the working directory. */
    dataRoots: z.array(z.string().min(1)).optional(),
    /** Run notifications: default webhooks, the signing secret's variable, the Web UI's URL for links. */
    notify: notifyConfigSchema().optional(),
    /** Dataset validations run at once by this worker (slots of its validation task queue); `--max-concurrent-validations` wins. */
    maxConcurrentValidations: z.number().int().positive().optional(),
  })
  .strict();
export type WorkerConfig = z.infer<typeof WorkerConfigSchema>;

/** Formats zod issues as `field.path: message` lines, so a bad config names the field at fault. */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

/**
 * The configuration checked, or an error naming the source and each field at fault; with the file it was read from,
 * each issue names its line too (`ftpipe.config.yaml:7: profiles.0.endpoint: Invalid URL`).
 */
export function parseWorkerConfig(raw: unknown, source: string, file?: SourceFile): WorkerConfig {
  const parsed = WorkerConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new Error(file
      ? `${source}: invalid ftpipe configuration:\n  ${describeSourceIssues(file, parsed.error.issues, (path) => objectKeysAt(WorkerConfigSchema, path)).join('\n  ')}`
      : `${source}: invalid ftpipe configuration: ${formatIssues(parsed.error)}`);
  }
  const names = new Set<string>();
  for (const [index, profile] of parsed.data.profiles.entries()) {
    const line = file?.lineOf(['profiles', index, 'name']);
    if (names.has(profile.name)) throw new Error(`${source}${line !== undefined ? `:${line}` : ''}: profiles.${index}.name: the name "${profile.name}" is used twice`);
    names.add(profile.name);
  }
  return parsed.data;
}

/**
 * Each profile's own catalogue entries (`profiles[].catalog`) applied to the worker's catalogue, as preflight applies
 * them for every run: a bad one stops the worker at start, naming the file's line and field, instead of failing each
 * run of that profile at preflight. `path`: the configuration file the profiles were read from, if any.
 */
export function checkProfileCatalogs(config: WorkerConfig, catalog: Catalog, path: string | undefined = process.env.FTPIPE_CONFIG): void {
  const file = path ? readSourceFile(path, 'ftpipe configuration') : undefined;
  config.profiles.forEach((profile, index) => {
    try {
      catalogForProfile(catalog, profile, file ? { path: file.path, lineOf: (field) => file.lineOf(field), index } : undefined);
    } catch (err) {
      if (err instanceof CatalogConfigError) throw new Error(`invalid ftpipe configuration: ${err.message}`);
      throw err;
    }
  });
}

export function loadWorkerConfig(path: string | undefined = process.env.FTPIPE_CONFIG): WorkerConfig {
  if (!path) return { profiles: [] };
  const file = readSourceFile(path, 'ftpipe configuration');
  return parseWorkerConfig(file.value, path, file);
}

export function withProfiles(config: WorkerConfig, extra: AzureProfile[]): WorkerConfig {
  const names = new Set(config.profiles.map((p) => p.name));
  return { ...config, profiles: [...config.profiles, ...extra.filter((p) => !names.has(p.name))] };
}
