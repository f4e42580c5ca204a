/**
 * The pipeline workflow's boundary: every workflow input, signal, update and query argument arrives as raw JSON (the
 * Web UI and `temporal workflow start` send whatever was typed: null, nothing, a string, extra keys, megabytes) and is
 * parsed here before workflow code touches it. A bad input fails the run at once (`InvalidPipelineInput`); a bad
 * signal comes back as a refusal to record; a bad update is thrown from its validator. Nothing here throws anything
 * but an ApplicationFailure, so no caller can make a workflow task fail. Workflow-safe: the SDK only (the schemas are
 * in boundary-schemas.ts and src/pipeline/input.ts).
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { z } from 'zod';
import { moreSecretWebhookIssues } from '../src/notify/schema';
import { safeParsePipelineInput, type CopyRequest, type PipelineInput, type PipelineInputDraft } from '../src/pipeline/input';
import type { PipelineStatus, PreflightResult } from '../src/pipeline/types';
import { parseContinuation, type SafeParse } from './boundary-schemas';
import { patched } from './patches';

export type { ApprovalInput, ControlInput } from './boundary-schemas';

/** At most this many issues, each at most this long, go into a failure or refusal: a huge bad input stays a small error. */
const MAX_ISSUES = 20;
const MAX_ISSUE_CHARS = 300;

/**
 * State a run hands to its continuation (continue-as-new). Why it cannot be set through the input: the user's input
 * is parsed strictly without this key, and a continuation is accepted only when `fromRunId` is the run Temporal says
 * this one continues (`workflowInfo().continuedFromExecutionRunId`). Run ids are made by the server after the input
 * is fixed, so no caller can write a matching one: not a direct start, not a cron or retry run that repeats the
 * caller's input. (A memo would not do: callers set memos too.)
 */
export interface PipelineContinuation {
  fromRunId: string;
  status: PipelineStatus;
  preflight: PreflightResult;
  lastEventId: string | null;
  startedAtSeconds: number;
  copyRequests: CopyRequest[];
}

export type PipelineWorkflowInput = PipelineInputDraft & { continuation?: PipelineContinuation };

/** Asked only by an input with such a webhook URL (src/notify/schema.ts moreSecretWebhookIssues): other runs record no marker. */
const MORE_SECRET_WEBHOOKS_PATCH = 'ftpipe-more-secret-webhook-hosts';

function clip(text: string): string {
  return text.length > MAX_ISSUE_CHARS ? `${text.slice(0, MAX_ISSUE_CHARS)}...` : text;
}

/** `field.path: reason` for each issue, bounded in number and length; unknown keys are named with their path. */
export function issuesOf(error: z.ZodError, prefix: (string | number)[] = []): string[] {
  const lines = error.issues.map((issue) => {
    const path = [...prefix, ...issue.path].map(String).join('.');
    return clip(`${path || '(input)'}: ${issue.message}`);
  });
  return lines.length > MAX_ISSUES ? [...lines.slice(0, MAX_ISSUES), `... and ${lines.length - MAX_ISSUES} more`] : lines;
}

function describeType(raw: unknown): string {
  if (raw === null) return 'null';
  if (Array.isArray(raw)) return 'an array';
  return typeof raw === 'undefined' ? 'no input' : `a ${typeof raw}`;
}

function isPlainObject(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw);
}

export function invalidInput(issues: string[]): ApplicationFailure {
  return ApplicationFailure.create({ message: `invalid pipeline input: ${issues.join('; ')}`, type: 'InvalidPipelineInput', nonRetryable: true, details: [{ issues }] });
}

/** The workflow's one argument, parsed: the user's input with defaults, and the continuation when this run is one. */
export function parseWorkflowArgs(raw: unknown): { input: PipelineInput; draft: PipelineInputDraft; continuation: PipelineContinuation | undefined } {
  if (!isPlainObject(raw)) {
    throw invalidInput([`(input): expected one JSON object (the pipeline input, see the README), got ${describeType(raw)}`]);
  }
  const { continuation: rawContinuation, ...draft } = raw;
  const issues: string[] = [];
  let continuation: PipelineContinuation | undefined;
  if ('continuation' in raw) {
    const from = workflowInfo().continuedFromExecutionRunId;
    const parsed = parseContinuation(rawContinuation);
    if (from === undefined || !parsed.success || parsed.data.fromRunId !== from) {
      issues.push('continuation: not an input field; ftpipe sets it only when a run continues as new');
    } else {
      continuation = parsed.data as unknown as PipelineContinuation;
    }
  }
  const parsed = safeParsePipelineInput(draft);
  if (!parsed.success) issues.push(...issuesOf(parsed.error));
  if (issues.length > 0 || !parsed.success) throw invalidInput(issues);
  // Webhook hosts refused since runs took them: a new run (not a replay, not the continuation of one that took it).
  const secretWebhooks = continuation ? [] : moreSecretWebhookIssues(parsed.data.notify);
  if (secretWebhooks.length > 0 && patched(MORE_SECRET_WEBHOOKS_PATCH)) throw invalidInput(secretWebhooks);
  return { input: parsed.data, draft: draft as PipelineInputDraft, continuation };
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * A signal's or update's one argument. `absentAs` is what no argument at all means (a control without options);
 * anything else that is not the schema's object, null included, is refused with the reason.
 */
export function parseMessage<T>(parse: SafeParse<T>, raw: unknown, absentAs?: unknown): Parsed<T> {
  const value = raw === undefined && absentAs !== undefined ? absentAs : raw;
  if (!isPlainObject(value)) return { ok: false, reason: `expected one JSON object, got ${describeType(value)}` };
  const parsed = parse(value);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, reason: issuesOf(parsed.error).join('; ') };
}

/** For update handlers (their validator already refused bad input; this keeps replay, which skips validators, safe). */
export function messageOrFail<T>(parse: SafeParse<T>, raw: unknown, what: string, absentAs?: unknown): T {
  const parsed = parseMessage(parse, raw, absentAs);
  if (!parsed.ok) throw ApplicationFailure.nonRetryable(`invalid ${what} request: ${parsed.reason}`, 'InvalidRequest');
  return parsed.value;
}

/** The `status` query takes `{}` or nothing; it has no options, so anything else is refused (the query fails, the run does not). */
export function checkQueryArg(raw: unknown): void {
  if (raw === undefined || raw === null) return;
  if (!isPlainObject(raw) || Object.keys(raw).length > 0) throw ApplicationFailure.nonRetryable('the status query takes {} or no argument', 'InvalidRequest');
}
