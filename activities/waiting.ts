/**
 * Waiting for Azure without holding an activity slot: an activity that finds Azure not done yet ends its attempt with
 * a retryable failure whose `nextRetryDelay` is the wait, so Temporal's server holds the timer and the worker's slot
 * serves other runs meanwhile. Each attempt is one short check, so every such activity must be idempotent (it is
 * called again until done). BENIGN: a "not yet" is logged at DEBUG and counted in no failure metric.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';

/** The failure type of every "not done yet, checking again later" attempt. */
export const NOT_DONE_YET = 'AzureNotDoneYet';

/** Longest pause between two checks of a backing-off wait (a long Retry-After from Azure still wins). */
export const MAX_CHECK_INTERVAL_MS = 60_000;

/** How long a wait may last in all, from its first attempt (what each wait's 6 h start-to-close timeout used to bound). */
export const WAIT_LIMIT_MS = 6 * 3600_000;

/**
 * The pause before the next check: `baseSeconds` after the first attempt, doubling with every attempt up to
 * MAX_CHECK_INTERVAL_MS (at least `baseSeconds`), and never shorter than Azure's `Retry-After`. As the Azure SDK's own
 * ARM poller backs off (recorded: 1, 2, 4, 8, 16, 31 s): a deployment takes minutes, so early checks find nothing.
 */
export function backoffMs(baseSeconds: number, attempt: number, retryAfterMs?: number): number {
  const base = baseSeconds * 1000;
  const grown = Math.min(base * 2 ** Math.max(0, attempt - 1), Math.max(base, MAX_CHECK_INTERVAL_MS));
  return Math.max(grown, retryAfterMs ?? 0);
}

/**
 * Ends this attempt: Temporal calls the activity again after `delayMs`. Past WAIT_LIMIT_MS since the first attempt
 * the wait fails for good instead, with `what` and the last state in the message (and `details`, when given).
 */
export function checkAgainLater(what: string, state: string, delayMs: number, timeoutType: string, ...details: unknown[]): never {
  const { scheduledTimestampMs } = Context.current().info;
  const waited = Date.now() - scheduledTimestampMs;
  if (waited + delayMs > WAIT_LIMIT_MS) {
    throw ApplicationFailure.nonRetryable(`${what}: still ${state} after ${Math.round(waited / 60_000)} min; giving up`, timeoutType, ...details);
  }
  throw ApplicationFailure.create({
    message: `${what}: ${state}; checking again in ${Math.round(delayMs / 100) / 10} s`,
    type: NOT_DONE_YET,
    nextRetryDelay: delayMs,
    category: ApplicationFailureCategory.BENIGN,
  });
}
