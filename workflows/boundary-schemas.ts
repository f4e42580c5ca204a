/**
 * The schemas of the pipeline workflow's messages and continuation, and of the keep-alive workflow's input, behind
 * parse functions. The workflow bundle evaluates this module (with zod and the input's schemas) once per worker rather
 * than once per execution (`preloadModules`, src/stack/workflow-bundle.ts); the SDK freezes what a preloaded module
 * exports and a frozen zod schema cannot parse, so the schemas stay module-local. Zod only: no workflow API here,
 * whose modules must stay per execution. A workflow module that needs a schema puts it here, not at its own top level
 * (which every execution would evaluate again).
 */
import { z } from 'zod';
import { copyRequestSchema } from '../src/pipeline/input';

const BY = z.string().max(200);

const ControlInputSchema = z.object({ by: BY.optional().describe('who asks, for the record') }).strict();
export type ControlInput = z.infer<typeof ControlInputSchema>;

const ApprovalInputSchema = z.object({ by: BY.optional(), comment: z.string().max(2000).optional() }).strict();
export type ApprovalInput = z.infer<typeof ApprovalInputSchema>;

const NAME = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/);
/** What a deployment's keep-alive schedule starts `keepDeploymentAlive` with (workflows/keep-alive.ts). */
const KeepAliveInputSchema = z.object({ profile: NAME, deployment: NAME }).strict();
export type KeepAliveInput = z.infer<typeof KeepAliveInputSchema>;

/** What runEvalSet tells its own run as it scores (messages.ts evalProgressSignal): items done of all on a deployment. */
const EvalProgressNoticeSchema = z
  .object({ deployment: NAME, done: z.int().min(0).max(1_000_000), total: z.int().min(1).max(1_000_000) })
  .strict()
  .refine((n) => n.done <= n.total, { message: 'done must not exceed total', path: ['done'] });
export type EvalProgressNotice = z.infer<typeof EvalProgressNoticeSchema>;

/** Shape check of a continuation the workflow wrote (it is ours, so this guards against versions, not callers). */
const ContinuationSchema = z
  .object({
    fromRunId: z.string().min(1),
    status: z.looseObject({ stage: z.string(), timeline: z.array(z.unknown()), requests: z.array(z.unknown()), errors: z.array(z.unknown()), copies: z.array(z.unknown()), files: z.array(z.unknown()) }),
    preflight: z.looseObject({ region: z.string(), accountResourceId: z.string() }),
    lastEventId: z.string().nullable(),
    startedAtSeconds: z.number(),
    copyRequests: z.array(copyRequestSchema()),
  })
  .strict();
export type ContinuationShape = z.output<typeof ContinuationSchema>;

/** Parses one message or input argument: the value with defaults, or zod's issues. */
export type SafeParse<T> = (raw: unknown) => z.ZodSafeParseResult<T>;

export const parseControlInput: SafeParse<ControlInput> = (raw) => ControlInputSchema.safeParse(raw);
export const parseApprovalInput: SafeParse<ApprovalInput> = (raw) => ApprovalInputSchema.safeParse(raw);
export const parseContinuation: SafeParse<ContinuationShape> = (raw) => ContinuationSchema.safeParse(raw);
export const parseEvalProgressNotice: SafeParse<EvalProgressNotice> = (raw) => EvalProgressNoticeSchema.safeParse(raw);
export const parseKeepAliveInput: SafeParse<KeepAliveInput> = (raw) => KeepAliveInputSchema.safeParse(raw);
