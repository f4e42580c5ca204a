/**
 * Emulator configuration: accounts, credentials, ports, clock, emulated durations and faults. A YAML/JSON
 * config file (`ftpipe emulator --config`) has the same shape as `EmulatorOptions`.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { FaultRuleSchema, type FaultRule } from './faults';

/** An account's fine-tuning quotas, enforced by quotas.ts (off unless set). */
export const QuotasSchema = z
  .object({
    /** Jobs Azure runs at once; creates beyond `runningJobs + queuedJobs` unfinished jobs are refused. */
    runningJobs: z.int().min(1),
    queuedJobs: z.int().min(0).default(0),
    /** `fine-tune` files on the account, and their total bytes. */
    files: z.int().min(1).optional(),
    fileBytes: z.int().min(1).optional(),
    /** Deployments of fine-tuned models on the account; creating one more is refused. */
    fineTunedDeployments: z.int().min(1).optional(),
  })
  .strict();

export const AccountConfigSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9-]{1,62}$/, 'an account name is 2-63 letters, digits or hyphens')
      .refine((n) => n.toLowerCase() !== 'admin', '"admin" is reserved for the control API'),
    subscriptionId: z.string().min(1),
    resourceGroup: z.string().min(1),
    region: z.string().min(1),
    apiKey: z.string().min(1),
    /** Azure's per-resource fine-tuning limits, enforced at create time (quotas.ts); none when omitted. */
    quotas: QuotasSchema.optional(),
  })
  .strict();
export type AccountConfig = z.infer<typeof AccountConfigSchema>;

/** Emulated durations, in emulated seconds. Defaults are Azure-like, so scale 1 is realistic (a job takes hours). */
export const TimingsSchema = z
  .object({
    fileProcessingSeconds: z.number().nonnegative().default(30),
    jobValidationSeconds: z.number().nonnegative().default(120),
    jobQueueSeconds: z.number().nonnegative().default(300),
    /** One training step costs `stepBaseSeconds` plus `stepSecondsPer1kTokens` per thousand tokens in its batch. */
    stepBaseSeconds: z.number().positive().default(20),
    stepSecondsPer1kTokens: z.number().nonnegative().default(5),
    pauseSeconds: z.number().nonnegative().default(300),
    resumeSeconds: z.number().nonnegative().default(180),
    copySeconds: z.number().nonnegative().default(900),
    deploymentCreateSeconds: z.number().nonnegative().default(600),
    deploymentUpdateSeconds: z.number().nonnegative().default(120),
    deploymentDeleteSeconds: z.number().nonnegative().default(60),
    /** After ARM reports Succeeded, inference answers DeploymentNotReady for this long. */
    deploymentNotReadySeconds: z.number().nonnegative().default(120),
    developerDeploymentLifetimeSeconds: z.number().positive().default(24 * 3600),
    /** A fine-tuned deployment with no inference for this long is deleted (Azure: 15 days). */
    inactiveDeploymentLifetimeSeconds: z.number().positive().default(15 * 24 * 3600),
  })
  .strict();
export type Timings = z.infer<typeof TimingsSchema>;

export const EmulatorOptionsSchema = z
  .object({
    accounts: z.array(AccountConfigSchema).min(1).optional(),
    /** Bearer tokens accepted by ARM and the data plane (besides each account's api key). */
    acceptedTokens: z.array(z.string().min(1)).min(1).optional(),
    host: z.string().min(1).optional(),
    /** Data-plane (plain http) port; 0 picks a free one. */
    port: z.number().int().min(0).max(65535).optional(),
    /** Serve the data plane (and control API) over https too, with the ARM certificate, as Azure does. */
    dataPlaneHttps: z.boolean().optional(),
    /** ARM (https) port; 0 picks a free one. */
    armPort: z.number().int().min(0).max(65535).optional(),
    /** Emulated seconds per real second. */
    clockScale: z.number().nonnegative().optional(),
    stateFile: z.string().min(1).optional(),
    /** Where the generated TLS certificate is kept (and reused across restarts); a temporary directory if unset. */
    certDir: z.string().min(1).optional(),
    faults: z.array(FaultRuleSchema).optional(),
    /** Seed of the fault dice, so that a rate-based fault run is reproducible. */
    faultSeed: z.number().int().optional(),
    timings: TimingsSchema.partial().optional(),
    /** Shorthand for `timings.deploymentNotReadySeconds`, which it overrides. */
    deploymentNotReadySeconds: z.number().nonnegative().optional(),
    /**
     * Strict (the default) answers like Azure. `false` is a lenient mode for rehearsals only: any api-version is
     * served and imports may read http:// and file:// URLs. ftpipe's own tests never use it.
     */
    strict: z.boolean().optional(),
  })
  .strict();
export type EmulatorOptions = z.input<typeof EmulatorOptionsSchema>;

export const DEFAULT_API_KEYS = {
  'ftpipe-swc': 'emulator-key-swc',
  'ftpipe-ncus': 'emulator-key-ncus',
  'ftpipe-eus2': 'emulator-key-eus2',
} as const;

export const DEFAULT_ACCOUNTS: AccountConfig[] = [
  { name: 'ftpipe-swc', subscriptionId: '00000000-0000-4000-8000-000000000001', resourceGroup: 'ftpipe-rg', region: 'swedencentral', apiKey: DEFAULT_API_KEYS['ftpipe-swc'] },
  { name: 'ftpipe-ncus', subscriptionId: '00000000-0000-4000-8000-000000000001', resourceGroup: 'ftpipe-rg', region: 'northcentralus', apiKey: DEFAULT_API_KEYS['ftpipe-ncus'] },
  { name: 'ftpipe-eus2', subscriptionId: '00000000-0000-4000-8000-000000000002', resourceGroup: 'ftpipe-rg-eus2', region: 'eastus2', apiKey: DEFAULT_API_KEYS['ftpipe-eus2'] },
];

export const DEFAULT_TOKEN = 'ftpipe-emulator-token';

export interface ResolvedOptions {
  accounts: AccountConfig[];
  acceptedTokens: string[];
  host: string;
  port: number;
  dataPlaneHttps: boolean;
  armPort: number;
  clockScale: number;
  stateFile: string | undefined;
  certDir: string | undefined;
  faults: FaultRule[];
  faultSeed: number;
  timings: Timings;
  strict: boolean;
}

/** Validates options (throwing an error that names the bad field) and fills in defaults. */
export function resolveOptions(options: EmulatorOptions = {}): ResolvedOptions {
  const parsed = EmulatorOptionsSchema.safeParse(options);
  if (!parsed.success) throw new Error(`invalid emulator options: ${formatIssues(parsed.error)}`);
  const o = parsed.data;
  const accounts = o.accounts ?? DEFAULT_ACCOUNTS;
  const seen = new Set<string>();
  for (const a of accounts) {
    if (seen.has(a.name.toLowerCase())) throw new Error(`invalid emulator options: account "${a.name}" is listed twice`);
    seen.add(a.name.toLowerCase());
  }
  return {
    accounts,
    acceptedTokens: o.acceptedTokens ?? [DEFAULT_TOKEN],
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 0,
    dataPlaneHttps: o.dataPlaneHttps ?? false,
    armPort: o.armPort ?? 0,
    clockScale: o.clockScale ?? 1,
    stateFile: o.stateFile,
    certDir: o.certDir,
    faults: o.faults ?? [],
    faultSeed: o.faultSeed ?? 1,
    strict: o.strict ?? true,
    timings: TimingsSchema.parse({
      ...o.timings,
      ...(o.deploymentNotReadySeconds !== undefined ? { deploymentNotReadySeconds: o.deploymentNotReadySeconds } : {}),
    }),
  };
}

/** Reads a YAML or JSON config file with the shape of `EmulatorOptions`. */
export function loadEmulatorConfig(path: string): EmulatorOptions {
  const raw: unknown = parseYaml(readFileSync(path, 'utf8'));
  const parsed = EmulatorOptionsSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new Error(`${path}: ${formatIssues(parsed.error)}`);
  return raw as EmulatorOptions;
}

function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}
