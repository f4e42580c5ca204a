/**
 * Azure's limits on the fields of what ftpipe sends it, in one place (no imports: the pipeline input's schema, the
 * request shapes and workflow code all read them). Azure's per-resource quotas, which runs queue for, are in
 * src/admission/limits.ts; the dataset validator's in src/dataset/limits.ts.
 */

/** A fine-tuning job's `metadata` (v1 create: "up to 16 key-value pairs", keys of at most 64 characters, values of at most 512). */
export const JOB_METADATA_LIMITS = { pairs: 16, keyChars: 64, valueChars: 512 } as const;

/** The pairs ftpipe sets on every v1 job (src/azure/requests.ts RUN_METADATA): an input's own get what is left. */
export const RUN_METADATA_PAIRS = 3;

/** A job's `suffix`: at most 40 characters (of A-Z, a-z, 0-9, `-` and `_`), part of the fine-tuned model's name. */
export const JOB_SUFFIX_MAX_CHARS = 40;

/** A deployment's name on ARM: at most 64 characters. */
export const DEPLOYMENT_NAME_MAX_CHARS = 64;
