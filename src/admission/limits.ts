/**
 * Azure's per-resource fine-tuning limits, in one place: the defaults ftpipe's admission queues runs by, the schema of a
 * profile's `limits` (which overrides them), and the error codes with which Azure refuses a create over a limit.
 * Workflow-safe: zod only.
 *
 * Defaults: "Azure OpenAI in Microsoft Foundry Models quotas and limits"
 * (https://learn.microsoft.com/azure/ai-foundry/openai/quotas-limits), as of February 2026: 3 simultaneous running
 * training jobs per resource (5 for Developer-tier training), 20 queued, 100 jobs in total, 100 files and 1 GB of files
 * per resource, 10 fine-tuned model deployments. The July 2025 page said 1 running job, 50 files and 5 deployments:
 * Azure changes these, and raises them on request, so a profile names its own.
 */
import { z } from 'zod';

const ResourceLimitsSchema = z
  .object({
    /** Training jobs Azure runs at once on the resource. */
    runningJobs: z.int().min(1).max(1000).default(3),
    /** Training jobs Azure queues behind the running ones before it refuses a create. */
    queuedJobs: z.int().min(0).max(1000).default(20),
    /** Fine-tuning files the runs in flight may hold on the resource at once. */
    files: z.int().min(1).max(100_000).default(100),
    /** Total bytes of those files. */
    fileBytes: z.int().min(1).default(1024 ** 3),
    /** Fine-tuned model deployments on the resource. */
    fineTunedDeployments: z.int().min(1).max(1000).default(10),
    /** How often the admission queue checks that every slot holder is still open (a terminated run gives its slots back). */
    holderCheckSeconds: z.number().min(0.1).max(86_400).default(60),
    /** How long to wait before retrying a create Azure refused over one of its quotas, when it sends no Retry-After. */
    quotaRetrySeconds: z.number().min(0.1).max(86_400).default(60),
  })
  .strict();
export type ResourceLimits = z.output<typeof ResourceLimitsSchema>;
/**
 * A profile's `limits` schema. A function, not the schema itself: the workflow bundle preloads this module once per
 * worker (the admission workflow needs its figures) and the SDK freezes what preloaded modules export, which zod
 * schemas do not survive (see src/pipeline/input.ts).
 */
export const resourceLimitsSchema = (): typeof ResourceLimitsSchema => ResourceLimitsSchema;
export const DEFAULT_LIMITS: ResourceLimits = ResourceLimitsSchema.parse({});

/** What a run asks the admission queue for, and what the queue counts against the limits. */
export interface SlotAmounts {
  jobs: number;
  files: number;
  fileBytes: number;
  deployments: number;
}
export const SLOT_KINDS = ['jobs', 'files', 'fileBytes', 'deployments'] as const satisfies readonly (keyof SlotAmounts)[];

/** Capacity per slot kind: a job slot is a running or queued place in Azure's queue. */
export function capacity(limits: ResourceLimits): SlotAmounts {
  return { jobs: limits.runningJobs + limits.queuedJobs, files: limits.files, fileBytes: limits.fileBytes, deployments: limits.fineTunedDeployments };
}

/**
 * Codes with which Azure refuses a create over a limit (data plane `quotaExceeded`; ARM `InsufficientQuota`): waited
 * out and retried, whether Azure answers 400 or 429, never a failed run.
 */
export const AZURE_QUOTA_CODES: readonly string[] = ['quotaExceeded', 'QuotaExceeded', 'InsufficientQuota'];
