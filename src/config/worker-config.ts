/**
 * The worker's configuration: Azure profiles and defaults. Read from a YAML or JSON file (`--config`, or
 * FTPIPE_CONFIG), then extended by the caller (e.g. `ftpipe dev` adds the embedded emulator's profiles).
 * Holds names of environment variables for credentials, never the credentials themselves.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { notifyConfigSchema } from '../notify/schema';
import { AzureProfileSchema, type AzureProfile } from './profile';

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

export function parseWorkerConfig(raw: unknown, source: string): WorkerConfig {
  const parsed = WorkerConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new Error(`${source}: invalid ftpipe configuration: ${formatIssues(parsed.error)}`);
  const names = new Set<string>();
  for (const profile of parsed.data.profiles) {
    if (names.has(profile.name)) throw new Error(`${source}: profiles: the name "${profile.name}" is used twice`);
    names.add(profile.name);
  }
  return parsed.data;
}

export function loadWorkerConfig(path: string | undefined = process.env.FTPIPE_CONFIG): WorkerConfig {
  if (!path) return { profiles: [] };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the ftpipe configuration ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new Error(`${path}: not valid YAML/JSON: ${(err as Error).message}`);
  }
  return parseWorkerConfig(raw, path);
}

export function withProfiles(config: WorkerConfig, extra: AzureProfile[]): WorkerConfig {
  const names = new Set(config.profiles.map((p) => p.name));
  return { ...config, profiles: [...config.profiles, ...extra.filter((p) => !names.has(p.name))] };
}
