/**
 * The pipeline's input: one JSON object (the Web UI's Start Workflow form sends exactly this), validated by one schema
 * on the client, in the CLI and again in the workflow. Workflow-safe: zod only, no I/O.
 * It holds names and references (a profile name, file paths, ids), never credentials and never training content.
 *
 * The workflow bundle evaluates this module once per worker, not once per execution (`preloadModules`, see
 * src/stack/workflow-bundle.ts), and the SDK then deep-freezes what it exports. zod 4 builds a schema's members on
 * first use as own properties, so a frozen schema cannot parse, and its regex checks reset their pattern's
 * `lastIndex`, which a frozen RegExp refuses: no schema and no pattern is exported as a value here, only functions
 * (the parse functions below, `copyRequestSchema()`, `isRunName()`); test/foundation/workflow-preload.test.ts checks it.
 */
import { z } from 'zod';
import { CREDENTIAL_ADVICE, urlCredential } from './url-credentials';
import { JOB_METADATA_LIMITS, JOB_SUFFIX_MAX_CHARS, RUN_METADATA_PAIRS } from '../azure/limits';
import { moreSecretWebhookIssues, notifyTargetSchema } from '../notify/schema';
import { issueFields, objectKeysAt } from '../config/schema-keys';

const SUFFIX_PATTERN = new RegExp(`^[A-Za-z0-9_-]{1,${JOB_SUFFIX_MAX_CHARS}}$`);
const METADATA_KEY_PATTERN = new RegExp(`^(?!ftpipe_)[A-Za-z0-9_.-]{1,${JOB_METADATA_LIMITS.keyChars}}$`);
/** The metadata pairs an input may give: Azure's, less those ftpipe sets itself. */
const INPUT_METADATA_PAIRS = JOB_METADATA_LIMITS.pairs - RUN_METADATA_PAIRS;
const RUN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** Whether `name` may name a run (`runName`), a schedule or a lineage. */
export const isRunName = (name: string): boolean => RUN_NAME_PATTERN.test(name);
/** Bounds on free-form strings: a caller's megabyte string is refused here, not carried into search attributes. */
const PATH_MAX = 4096;
const NAME_MAX = 256;
/**
 * Profile and model names, which become search attributes: those are never encrypted (the server indexes them), so
 * they hold identifier characters only; neither a URL with a credential nor a sentence of training data fits.
 */
const INDEXED_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/;
const INDEXED_NAME_RULE = 'letters, digits, ".", "_" or "-", starting with a letter or digit, at most 256 (it is a search attribute, which is not encrypted)';

const DataSourceSchema = z.union([
  z.object({ path: z.string().min(1).max(PATH_MAX).describe('a JSONL file on the worker\'s disk; validated, then uploaded') }).strict(),
  z
    .object({
      url: z
        .url()
        .max(2048)
        .describe('a URL Azure imports the file from (files/import), e.g. a Blob Storage URL the resource can read'),
    })
    .strict(),
  z.object({ fileId: z.string().regex(/^file-[A-Za-z0-9]+$/, 'must be an Azure file id like file-abc123').describe('a file already uploaded to the account') }).strict(),
]);
export type DataSource = z.infer<typeof DataSourceSchema>;

/**
 * "auto" or `schema`, refused with the whole `rule`: a value of the wrong type fails both alternatives, and the
 * literal's own message ('expected "auto"') would hide that a number was allowed (2.5 for an integer, "many").
 */
const autoOr = <T extends z.ZodType>(schema: T, rule: string) => z.union([z.literal('auto', { error: `"auto" or ${rule}` }), schema]);

const HyperparametersSchema = z
  .object({
    nEpochs: autoOr(z.int().min(1).max(50), 'an integer from 1 to 50').optional(),
    batchSize: autoOr(z.int().min(1).max(256), 'an integer from 1 to 256').optional(),
    learningRateMultiplier: autoOr(z.number().positive().max(10), 'a number above 0, at most 10').optional(),
    /** Azure-only, supervised only: weight of prompt tokens in the loss. */
    promptLossWeight: z.number().min(0).max(1).optional(),
    /** DPO only. */
    beta: autoOr(z.number().positive().max(2), 'a number above 0, at most 2').optional(),
    // Reinforcement only (Azure's v1 spec `OpenAI.FineTuneReinforcementHyperparameters`; the ranges are its RFT guide's,
    // which the spec leaves open). "auto" leaves the choice to Azure, as above.
    /** How hard the model reasons while it is sampled (Azure's default: medium). */
    reasoningEffort: z.enum(['auto', 'low', 'medium', 'high']).optional(),
    /** Compute spent exploring the search space: more samples rolled per example. */
    computeMultiplier: autoOr(z.number().min(0.5).max(3), 'a number from 0.5 to 3').optional(),
    /** Training steps between evaluations on the validation file (Azure's default: 1). */
    evalInterval: autoOr(z.int().min(1).max(25), 'an integer from 1 to 25').optional(),
    /** Samples per validation example at each evaluation, their rewards averaged (Azure's default: 5). */
    evalSamples: autoOr(z.int().min(1).max(10), 'an integer from 1 to 10').optional(),
  })
  .strict();
export type Hyperparameters = z.infer<typeof HyperparametersSchema>;
const REINFORCEMENT_ONLY_HYPERPARAMETERS = ['reasoningEffort', 'computeMultiplier', 'evalInterval', 'evalSamples'] as const;

/**
 * The RFT grader as Azure takes it: the v1 spec's `AzureFineTuneReinforcementMethod.grader` is one of these four with
 * their required fields (no Python grader, which OpenAI's own API has). Other fields are passed to Azure as given.
 */
const GraderSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('string_check'), name: z.string(), input: z.string(), reference: z.string(), operation: z.enum(['eq', 'ne', 'like', 'ilike']) }).loose(),
  z
    .object({
      type: z.literal('text_similarity'), name: z.string(), input: z.string(), reference: z.string(),
      evaluation_metric: z.enum(['fuzzy_match', 'bleu', 'gleu', 'meteor', 'rouge_1', 'rouge_2', 'rouge_3', 'rouge_4', 'rouge_5', 'rouge_l']),
    })
    .loose(),
  z.object({ type: z.literal('score_model'), name: z.string(), model: z.string(), input: z.array(z.unknown()), range: z.array(z.number()).optional() }).loose(),
  z.object({ type: z.literal('multi'), name: z.string(), graders: z.record(z.string(), z.unknown()), calculate_output: z.string() }).loose(),
]);

const MethodSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('supervised') }).strict(),
  z.object({ type: z.literal('dpo') }).strict(),
  z.object({ type: z.literal('reinforcement'), grader: GraderSchema }).strict(),
]);
export type Method = z.infer<typeof MethodSchema>;

const TrainingTypeSchema = z.enum(['Standard', 'Global', 'Developer']);

/**
 * A run continues as new when Temporal suggests it (`continueAsNewSuggested`, about 4,096 events on a default server)
 * or at this many events in history, whichever comes first; always between polls, never with a handler running.
 */
export const HISTORY_EVENT_BUDGET = 10_000;

const PollingSchema = z
  .object({
    /** Seconds between polls while the job waits (pending, validating_files, queued). */
    queuedIntervalSeconds: z.number().min(0.1).max(3600).default(300),
    /** Seconds between polls while it trains. */
    runningIntervalSeconds: z.number().min(0.1).max(3600).default(60),
    /** Seconds between polls once the estimated finish is within two running intervals. */
    nearFinishIntervalSeconds: z.number().min(0.1).max(3600).default(15),
    /** Seconds between checks while an uploaded file is being processed. */
    fileIntervalSeconds: z.number().min(0.1).max(600).default(10),
    /** Seconds between checks of a deployment being created or deleted, a smoke test's retries, and a checkpoint copy. */
    deploymentIntervalSeconds: z.number().min(0.1).max(600).default(10),
    /**
     * Continue as new once history holds this many events (unset: HISTORY_EVENT_BUDGET, or Temporal's suggestion).
     * For tests and demos that want to see a continue-as-new in a short run; production runs leave it unset.
     */
    continueAsNewAfterEvents: z.int().min(100).max(HISTORY_EVENT_BUDGET).optional(),
  })
  .strict();
export type Polling = z.infer<typeof PollingSchema>;

const TimeoutsSchema = z
  .object({
    /** Longest one Azure call may take before it is retried (the client's own timeout is a little shorter). */
    azureCallSeconds: z.number().min(1).max(3600).default(90),
    /** A long activity (validation, upload, waiting for a file) that has not reported for this long is retried elsewhere: how soon a crashed worker's work moves on. */
    heartbeatSeconds: z.number().min(1).max(600).default(30),
  })
  .strict();
export type Timeouts = z.infer<typeof TimeoutsSchema>;

const CleanupSchema = z
  .object({
    /** Files this run uploaded (never reused or pre-existing ones): delete them when the run fails or is cancelled, always, or never. */
    uploadedFiles: z.enum(['onFailure', 'always', 'never']).default('onFailure'),
    /** The job's result file (results.csv), once its curves are in the run's result and report. */
    resultFiles: z.enum(['keep', 'delete']).default('keep'),
    /** Older versions of the deployment beyond `deployment.keepVersions`, once the new one passed its smoke test. */
    retiredDeployments: z.enum(['delete', 'keep']).default('delete'),
  })
  .strict();

export const DEPLOYMENT_TYPES = ['Standard', 'GlobalStandard', 'DeveloperTier', 'ProvisionedManaged'] as const;
/** The longest keep-alive interval (14 days): one call must land inside every 15 days, with a day's margin for a late one. */
export const KEEP_ALIVE_MAX_HOURS = 14 * 24;
/** The keep-alive interval when `deployment.idle.everyHours` is not given: a week. */
export const KEEP_ALIVE_DEFAULT_HOURS = 7 * 24;
const DEPLOYMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,50}$/;

const EvaluationSchema = z
  .object({
    /** How the checkpoint to deploy is picked from the metrics: lowest full validation loss, the final one, or best validation token accuracy. */
    checkpointPolicy: z.enum(['lowest_valid_loss', 'final', 'best_valid_accuracy']).default('lowest_valid_loss'),
    /** A held-out eval set (JSONL of `{messages, reference}`) on the worker's disk: each checkpoint is deployed on the Developer tier and scored. */
    evalSet: z.object({ path: z.string().min(1).max(PATH_MAX) }).strict().optional(),
    /** Graders (see docs/evaluation-and-report.md); checked in full by the client and the eval activity. */
    graders: z.array(z.object({ type: z.enum(['exact_match', 'contains', 'regex', 'json_schema', 'model']) }).loose()).min(1).max(20).optional(),
    /** What the best checkpoint must beat: an existing deployment on the account, or a model deployed for the evaluation. */
    baseline: z.union([z.object({ deployment: z.string().min(1).max(NAME_MAX) }).strict(), z.object({ model: z.string().min(1).max(NAME_MAX) }).strict()]).optional(),
    /** Promote only if the best candidate's score beats the baseline's by at least this much (scores are 0..1). */
    minLift: z.number().min(-1).max(1).default(0),
    concurrency: z.int().min(1).max(64).default(4),
    /**
     * Cancel the job once its automatic evaluation (Azure's full validation loss at each epoch's checkpoint) has not
     * improved on its best by more than `minDelta` for `patience` evaluations in a row. Needs a validation file.
     */
    stopEarly: z.object({ patience: z.int().min(1).max(100), minDelta: z.number().min(0).max(100).default(0) }).strict().optional(),
  })
  .strict();

const DeploymentSchema = z
  .object({
    /** Base name; each promotion gets a new version, `<name>-v<N>` (Azure refuses to change a fine-tuned deployment's model in place). */
    name: z.string().regex(DEPLOYMENT_NAME, 'letters, digits, ".", "_" or "-", at most 51 characters'),
    type: z.enum(DEPLOYMENT_TYPES).default('Standard'),
    capacity: z.int().min(1).max(100_000).default(1),
    /** Earlier versions kept live after a promotion (the rest are retired per `cleanup.retiredDeployments`). */
    keepVersions: z.int().min(0).max(10).default(1),
    /** Wait in the `await_approval` stage for `approve`/`reject` before deploying. */
    requireApproval: z.boolean().default(false),
    /** Reject automatically when no decision arrives in time. */
    approvalTimeoutSeconds: z.number().positive().optional(),
    smokeTestTimeoutSeconds: z.number().positive().max(7200).default(600),
    /**
     * What happens to the promoted version when nothing calls it (Azure deletes a fine-tuned deployment after 15 days
     * without calls): `keepAlive` schedules a tiny chat completion every `everyHours` (default a week); `letExpire`
     * leaves it, with the date Azure deletes it if unused in the result and report. Omitted: neither.
     */
    idle: z
      .object({
        policy: z.enum(['keepAlive', 'letExpire']),
        everyHours: z.number().min(1).max(KEEP_ALIVE_MAX_HOURS, `at most ${KEEP_ALIVE_MAX_HOURS} hours, so a call comes well before Azure's 15 days without calls`).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const CopyRequestSchema = z
  .object({
    /** Full ARM id of the destination Azure OpenAI account. */
    destinationResourceId: z.string().regex(/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.CognitiveServices\/accounts\/[^/]+$/i, 'must be a full ARM id: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.CognitiveServices/accounts/<name>'),
    region: z.string().min(1).max(64),
    /** Deploy the copied checkpoint there, through the worker profile of the destination account. */
    deploy: z
      .object({ profile: z.string().min(1).max(NAME_MAX), name: z.string().regex(DEPLOYMENT_NAME), type: z.enum(DEPLOYMENT_TYPES).default('GlobalStandard'), capacity: z.int().min(1).default(1) })
      .strict()
      .optional(),
  })
  .strict();
export type CopyRequest = z.infer<typeof CopyRequestSchema>;
/** The copy request's schema, for schemas elsewhere that hold copy requests (a function, so that freezing this module's exports leaves it alone). */
export const copyRequestSchema = (): typeof CopyRequestSchema => CopyRequestSchema;

const PipelineInputSchema = z
  .object({
    runName: z.string().regex(RUN_NAME_PATTERN, 'letters, digits, ".", "_" or "-", starting with a letter or digit, at most 100'),
    /** A profile of the worker's configuration: which Azure OpenAI account, and how to authenticate. */
    profile: z.string().regex(INDEXED_NAME_PATTERN, INDEXED_NAME_RULE),
    /** A base model (`gpt-4.1-mini`, `gpt-4.1-mini-2025-04-14`) or an earlier fine-tuned model (continuous fine-tuning). */
    baseModel: z.string().regex(INDEXED_NAME_PATTERN, INDEXED_NAME_RULE),
    /** The data to train on; not read (and may be left out) with `fromJob`, which carries on from a job instead. */
    training: DataSourceSchema.optional(),
    validation: DataSourceSchema.optional(),
    method: MethodSchema.default({ type: 'supervised' }),
    hyperparameters: HyperparametersSchema.default({}),
    seed: z.int().min(0).max(2_147_483_647).optional(),
    suffix: z.string().regex(SUFFIX_PATTERN, `at most ${JOB_SUFFIX_MAX_CHARS} characters of A-Z, a-z, 0-9, "-" and "_"`).optional(),
    trainingType: TrainingTypeSchema.default('Standard'),
    /** Extra metadata on the Azure job (ftpipe adds its own `ftpipe_*` keys; Azure allows 16 pairs in all). */
    // Keys checked here, not by the record's key schema, whose refusal reads only "Invalid key in record".
    metadata: z
      .record(z.string(), z.string().max(JOB_METADATA_LIMITS.valueChars))
      .superRefine((metadata, ctx) => {
        for (const key of Object.keys(metadata)) {
          if (METADATA_KEY_PATTERN.test(key)) continue;
          const why = key.startsWith('ftpipe_') ? 'the ftpipe_ prefix is reserved for the keys ftpipe sets' : `a key is 1 to ${JOB_METADATA_LIMITS.keyChars} characters of A-Z, a-z, 0-9, ".", "_" and "-"`;
          ctx.addIssue({ code: 'custom', path: [key], message: why });
        }
      })
      .default({}),
    polling: PollingSchema.default(PollingSchema.parse({})),
    timeouts: TimeoutsSchema.default(TimeoutsSchema.parse({})),
    cleanup: CleanupSchema.default(CleanupSchema.parse({})),
    evaluation: EvaluationSchema.default(EvaluationSchema.parse({})),
    /** Deploy the chosen checkpoint (omit to stop after evaluation). */
    deployment: DeploymentSchema.optional(),
    /**
     * Carry on from this Azure job instead of training (e.g. after a failed run whose job had succeeded): preflight
     * checks it trains `baseModel` by `method` and is neither failed nor cancelled; the run skips validation, upload and
     * the job's creation and goes on from monitoring (a job still training) or collecting (a succeeded one). The job
     * stays Azure's: the run's cleanup never cancels it.
     */
    fromJob: z.string().regex(/^ftjob-[A-Za-z0-9]+$/, 'must be an Azure fine-tuning job id like ftjob-abc123').optional(),
    /** Copy the chosen checkpoint to other regions (more can be asked for while the run goes, with `copyToRegion`). */
    copies: z.array(CopyRequestSchema).max(10).default([]),
    /** Spending limits: a run whose estimated training cost exceeds `maxTrainingUsd` is refused before it uploads anything. */
    budget: z.object({ maxTrainingUsd: z.number().positive().optional() }).strict().default({}),
    /** The resource's admission queue: higher `priority` runs get free slots first; equal ones first come, first served. */
    admission: z.object({ priority: z.int().min(0).max(100).default(0) }).strict().default({ priority: 0 }),
    /** A line of models (a schedule's runs share one): lets a run continue from the lineage's last good model and skip unchanged data. */
    /** Webhooks told when the run awaits approval, succeeds, fails or is cancelled (omit: the worker's default webhooks; []: none). */
    notify: z.array(notifyTargetSchema()).max(10).optional(),
    lineage: z
      .object({
        name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits, ".", "_" or "-"'),
        /** Fine-tune the lineage's latest promoted model instead of `baseModel` (which stays the fallback for the first run). */
        continueFromLatest: z.boolean().default(true),
        /** End early, as "skipped: no new data", when the data's hash equals the lineage's last run's. */
        skipUnchangedData: z.boolean().default(true),
      })
      .strict()
      .optional(),
  })
  .strict()
  // Named beside the input's other faults (a refinement by default runs only on an input without them).
  .refine((input: Partial<Record<'training' | 'fromJob', unknown>>) => typeof input !== 'object' || input === null || input.training !== undefined || input.fromJob !== undefined, {
    path: ['training'],
    message: 'required: the data to train on ({"path": ...}, {"url": ...} or {"fileId": ...}), unless fromJob names an Azure job to carry on from',
    when: () => true,
  })
  .superRefine((input, ctx) => {
    for (const [path, text] of stringsOf(input)) {
      const credential = urlCredential(text);
      if (credential) ctx.addIssue({ code: 'custom', path, message: `${credential}: ${CREDENTIAL_ADVICE}` });
    }
    if (Object.keys(input.metadata).length > INPUT_METADATA_PAIRS) {
      ctx.addIssue({ code: 'custom', path: ['metadata'], message: `at most ${INPUT_METADATA_PAIRS} pairs (Azure allows ${JOB_METADATA_LIMITS.pairs}; ftpipe uses ${RUN_METADATA_PAIRS})` });
    }
    if (input.method.type === 'reinforcement' && !input.validation && !input.fromJob) {
      ctx.addIssue({ code: 'custom', path: ['validation'], message: 'reinforcement fine-tuning requires a validation file' });
    }
    const idle = input.deployment?.idle;
    if (idle?.everyHours !== undefined && idle.policy !== 'keepAlive') {
      ctx.addIssue({ code: 'custom', path: ['deployment', 'idle', 'everyHours'], message: 'applies to policy keepAlive only' });
    }
    if (idle?.policy === 'keepAlive' && input.deployment?.type === 'DeveloperTier') {
      ctx.addIssue({ code: 'custom', path: ['deployment', 'idle', 'policy'], message: 'a Developer-tier deployment is deleted 24 hours after it was created, whatever calls it; keepAlive cannot keep it (use letExpire, or another deployment type)' });
    }
    if (input.evaluation.stopEarly && !input.validation) {
      ctx.addIssue({ code: 'custom', path: ['evaluation', 'stopEarly'], message: 'needs a validation file: Azure evaluates the job automatically only on its validation file' });
    }
    if (input.evaluation.stopEarly && input.method.type === 'reinforcement') {
      ctx.addIssue({ code: 'custom', path: ['evaluation', 'stopEarly'], message: 'not for reinforcement fine-tuning: its checkpoints carry no full validation loss (Azure reports valid_reward_mean in its metrics instead)' });
    }
    if (input.hyperparameters.beta !== undefined && input.method.type !== 'dpo') {
      ctx.addIssue({ code: 'custom', path: ['hyperparameters', 'beta'], message: 'beta applies to the dpo method only' });
    }
    if (input.method.type !== 'reinforcement') {
      for (const field of REINFORCEMENT_ONLY_HYPERPARAMETERS) {
        if (input.hyperparameters[field] !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['hyperparameters', field], message: `applies to the reinforcement method only (method.type is "${input.method.type}")` });
        }
      }
    }
    if (input.hyperparameters.promptLossWeight !== undefined && input.method.type === 'reinforcement') {
      ctx.addIssue({ code: 'custom', path: ['hyperparameters', 'promptLossWeight'], message: 'not for reinforcement fine-tuning: Azure\'s reinforcement hyperparameters have no prompt_loss_weight' });
    }
    // Azure documents prompt_loss_weight only in the top-level hyperparameters of a create without a method (the seed's
    // example); no spec has it in method.dpo.hyperparameters, and top-level hyperparameters beside a method are ignored
    // (Azure's RFT guide): sent with DPO it would be dropped without a word.
    if (input.hyperparameters.promptLossWeight !== undefined && input.method.type === 'dpo') {
      ctx.addIssue({ code: 'custom', path: ['hyperparameters', 'promptLossWeight'], message: 'not for dpo: Azure\'s DPO hyperparameters have no prompt_loss_weight, and top-level hyperparameters beside a method are ignored; it applies to the supervised method only' });
    }
  });

/** Every string in the input with its path (graders, metadata and URLs may all hold a URL). */
function stringsOf(value: unknown, path: (string | number)[] = []): [(string | number)[], string][] {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringsOf(item, [...path, i]));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, item]) => stringsOf(item, [...path, key]));
  return [];
}

/** What a caller writes (defaults optional). */
export type PipelineInputDraft = z.input<typeof PipelineInputSchema>;
/** What the workflow works with (defaults applied). */
export type PipelineInput = z.output<typeof PipelineInputSchema>;

/**
 * Formats schema issues as `field.path: reason`, as the CLI does for a pipeline file (without its line): an unknown
 * key with the key it likely meant (`knownKeys`), a missing field as `missing`, a union by its closest alternative.
 */
export function describeIssues(error: z.ZodError, knownKeys?: (path: readonly PropertyKey[]) => string[]): string[] {
  return error.issues.flatMap((issue) => issueFields(issue, knownKeys)).map(({ field, message }) => `${field.length ? field.map(String).join('.') : '(input)'}: ${message}`);
}

export class PipelineInputError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid pipeline input: ${issues.join('; ')}`);
    this.name = 'PipelineInputError';
  }
}

/** A copy request that `CopyRequestSchema` (the `copyToRegionRun` update's validator) refuses, with each field at fault. */
export class CopyRequestError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid copy request: ${issues.join('; ')}`);
    this.name = 'CopyRequestError';
  }
}

/** Checks a copy request as the run's `copyToRegionRun` validator does, so a client hears of bad input before sending it. */
export function parseCopyRequest(raw: unknown): CopyRequest {
  const parsed = CopyRequestSchema.safeParse(raw);
  if (!parsed.success) throw new CopyRequestError(describeIssues(parsed.error, (path) => objectKeysAt(CopyRequestSchema, path)));
  return parsed.data;
}

/** The keys the pipeline input accepts at `path` (`['hyperparameters']`: nEpochs, batchSize, ...), to name what a mistyped key meant. */
export function pipelineInputKeysAt(path: readonly PropertyKey[]): string[] {
  return objectKeysAt(PipelineInputSchema, path);
}

/** The input checked and with its defaults, or every issue (the workflow's boundary formats them itself). */
export function safeParsePipelineInput(raw: unknown): z.ZodSafeParseResult<PipelineInput> {
  return PipelineInputSchema.safeParse(raw);
}

/** A copy request checked and with its defaults, or every issue. */
export function safeParseCopyRequest(raw: unknown): z.ZodSafeParseResult<CopyRequest> {
  return CopyRequestSchema.safeParse(raw);
}

/** The input checked and with its defaults, or a PipelineInputError naming each field at fault: what a client sends. */
export function parsePipelineInput(raw: unknown): PipelineInput {
  const parsed = PipelineInputSchema.safeParse(raw);
  if (!parsed.success) throw new PipelineInputError(describeIssues(parsed.error, pipelineInputKeysAt));
  const secretWebhooks = moreSecretWebhookIssues(parsed.data.notify);
  if (secretWebhooks.length > 0) throw new PipelineInputError(secretWebhooks);
  return parsed.data;
}
