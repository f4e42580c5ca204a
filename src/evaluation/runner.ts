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

export interface EvalRunOptions {
  items: EvalItem[];
  graders: Grader[];
  /** Chat completions in flight at once. */
  concurrency: number;
  /** The deployment's answer to the item's messages. */
  complete(messages: EvalItem['messages'], signal?: AbortSignal): Promise<string>;
  onProgress?(done: number, total: number): void;
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
}

export class JudgeUnusableError extends Error {}

export async function runEval(options: EvalRunOptions): Promise<EvalRunResult> {
  const { items, graders } = options;
  const sums = new Map(graders.map((g) => [g.name, 0]));
  let itemSum = 0;
  let done = 0;
  let unscoredByJudge = 0;
  let judgeCalls = 0;
  let next = 0;

  async function one(item: EvalItem): Promise<void> {
    const answer = await options.complete(item.messages, options.signal);
    let itemTotal = 0;
    for (const grader of graders) {
      let score = 0;
      try {
        if (grader.config.type === 'model') judgeCalls++;
        score = await grader.score({ ...item, answer });
      } catch (err) {
        if (!(err instanceof JudgeAnswerError)) throw err;
        unscoredByJudge++;
      }
      sums.set(grader.name, sums.get(grader.name)! + score);
      itemTotal += score;
    }
    itemSum += itemTotal / graders.length;
    done++;
    options.onProgress?.(done, items.length);
  }

  async function lane(): Promise<void> {
    while (next < items.length) {
      options.signal?.throwIfAborted();
      await one(items[next++]!);
    }
  }

  const lanes = Math.max(1, Math.min(options.concurrency, items.length));
  await Promise.all(Array.from({ length: lanes }, lane));
  if (judgeCalls > 0 && unscoredByJudge === judgeCalls) {
    throw new JudgeUnusableError(`no judge answer held a score (${judgeCalls} asked): the judge must end its reply with "SCORE: n" (0-10); check its deployment and rubric`);
  }
  const perGrader = Object.fromEntries([...sums].map(([name, sum]) => [name, sum / items.length]));
  return { items: items.length, score: itemSum / items.length, perGrader, unscoredByJudge };
}
