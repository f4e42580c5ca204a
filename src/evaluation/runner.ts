/**
 * Runs an eval set against one deployment: bounded concurrency, a bounded backoff on throttling above the SDK's own
 * retries, and scoring by every grader. The I/O (chat completions, judge calls) comes in as functions, so the
 * activity wires Azure and tests can wire anything.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { EvalItem } from './eval-set';
import { JudgeAnswerError, type Grader } from './scoring';

export interface BackoffPolicy {
  /** Attempts per call, the first included. */
  attempts: number;
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { attempts: 6, initialMs: 500, maxMs: 30_000 };

/** How long to wait before retrying after `err` (e.g. its Retry-After), or null when it must not be retried. */
export type RetryAdvice = (err: unknown) => { retry: false } | { retry: true; afterMs?: number };

export async function withBackoff<T>(fn: () => Promise<T>, advice: RetryAdvice, policy: BackoffPolicy, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const a = advice(err);
      if (!a.retry || attempt >= policy.attempts) throw err;
      const exponential = Math.min(policy.maxMs, policy.initialMs * 2 ** (attempt - 1));
      // Azure's Retry-After wins when it asks for longer; jitter spreads concurrent callers apart.
      const waitMs = Math.min(policy.maxMs, Math.max(a.afterMs ?? 0, exponential * (0.5 + Math.random() / 2)));
      await sleep(waitMs, undefined, signal ? { signal } : {});
    }
  }
}

/**
 * Progress, heartbeated: counts and sums only (no item text). Items before `prefix` are all scored and their sums
 * kept, so an activity retried after a crash resumes there instead of paying for those calls again.
 */
export interface EvalProgress {
  done: number;
  total: number;
  prefix: number;
  prefixSums: { perGrader: Record<string, number>; items: number; unscoredByJudge: number; judgeCalls: number };
}

export interface EvalRunOptions {
  items: EvalItem[];
  graders: Grader[];
  /** Chat completions in flight at once. */
  concurrency: number;
  /** The deployment's answer to the item's messages. */
  complete(messages: EvalItem['messages'], signal?: AbortSignal): Promise<string>;
  onProgress?(progress: EvalProgress): void;
  /** Progress of an earlier attempt on the same set and graders (ignored when it does not match them). */
  resumeFrom?: unknown;
  /**
   * Ask the first item alone before the others (a new deployment's first answer is its smoke test: if it is not
   * serving yet, one call fails rather than `concurrency`).
   */
  firstAlone?: boolean;
  signal?: AbortSignal;
}

export interface EvalRunResult {
  items: number;
  /** Mean over items of the mean over graders, in [0, 1]. */
  score: number;
  /** Mean score per grader name. */
  perGrader: Record<string, number>;
  /** Items a model grader could not score (no score in the judge's answer); they count as 0. */
  unscoredByJudge: number;
  /** Items taken from `resumeFrom` rather than asked again. */
  resumed: number;
}

export class JudgeUnusableError extends Error {}

interface ItemResult {
  perGrader: number[];
  unscoredByJudge: number;
  judgeCalls: number;
}

/** `value` as progress on this many items with these graders, or undefined. */
function matchingProgress(value: unknown, total: number, names: string[]): EvalProgress | undefined {
  const p = value as EvalProgress | undefined;
  if (!p || typeof p !== 'object' || p.total !== total || !Number.isInteger(p.prefix) || p.prefix < 0 || p.prefix > total || !p.prefixSums) return undefined;
  const keys = Object.keys(p.prefixSums.perGrader ?? {});
  if (keys.length !== names.length || !names.every((n) => typeof p.prefixSums.perGrader[n] === 'number')) return undefined;
  return p;
}

export async function runEval(options: EvalRunOptions): Promise<EvalRunResult> {
  const { items, graders } = options;
  const names = graders.map((g) => g.name);
  const resumed = matchingProgress(options.resumeFrom, items.length, names);
  const sums = { perGrader: { ...Object.fromEntries(names.map((n) => [n, 0])), ...resumed?.prefixSums.perGrader }, items: 0, unscoredByJudge: 0, judgeCalls: 0 };
  if (resumed) Object.assign(sums, { items: resumed.prefixSums.items, unscoredByJudge: resumed.prefixSums.unscoredByJudge, judgeCalls: resumed.prefixSums.judgeCalls });
  const start = resumed?.prefix ?? 0;
  const results: (ItemResult | undefined)[] = new Array<ItemResult | undefined>(items.length);
  let prefix = start;
  let done = start;
  let next = start;

  function record(index: number, result: ItemResult): void {
    results[index] = result;
    done++;
    // Fold the finished run of items at the front into the sums; later ones wait for the gap to close.
    while (prefix < items.length && results[prefix]) {
      const r = results[prefix]!;
      names.forEach((n, i) => (sums.perGrader[n]! += r.perGrader[i]!));
      sums.items += r.perGrader.reduce((a, b) => a + b, 0) / graders.length;
      sums.unscoredByJudge += r.unscoredByJudge;
      sums.judgeCalls += r.judgeCalls;
      results[prefix] = undefined;
      prefix++;
    }
    options.onProgress?.({ done, total: items.length, prefix, prefixSums: { ...sums, perGrader: { ...sums.perGrader } } });
  }

  async function one(index: number): Promise<void> {
    const item = items[index]!;
    const answer = await options.complete(item.messages, options.signal);
    const result: ItemResult = { perGrader: [], unscoredByJudge: 0, judgeCalls: 0 };
    for (const grader of graders) {
      let score = 0;
      try {
        if (grader.config.type === 'model') result.judgeCalls++;
        score = await grader.score({ ...item, answer });
      } catch (err) {
        if (!(err instanceof JudgeAnswerError)) throw err;
        result.unscoredByJudge++;
      }
      result.perGrader.push(score);
    }
    record(index, result);
  }

  let failed = false;
  async function lane(): Promise<void> {
    // After one failure the other lanes finish their current item and stop: the run has failed anyway.
    while (!failed && next < items.length) {
      options.signal?.throwIfAborted();
      try {
        await one(next++);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  }

  if (options.firstAlone && next < items.length) await one(next++);
  const lanes = Math.max(1, Math.min(options.concurrency, items.length - next));
  await Promise.all(Array.from({ length: lanes }, lane));
  const { judgeCalls, unscoredByJudge } = sums;
  if (judgeCalls > 0 && unscoredByJudge === judgeCalls) {
    throw new JudgeUnusableError(`no judge answer held a score (${judgeCalls} asked): the judge must end its reply with "SCORE: n" (0-10); check its deployment and rubric`);
  }
  const perGrader = Object.fromEntries(names.map((n) => [n, sums.perGrader[n]! / items.length]));
  return { items: items.length, score: sums.items / items.length, perGrader, unscoredByJudge, resumed: start };
}
