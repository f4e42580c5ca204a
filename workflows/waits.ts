/**
 * Timed waits that a long-lived loop can make thousands of times without keeping each one. Workflow-safe.
 *
 * In SDK 1.24 every CancellationScope hangs a reaction on its parent's `cancelRequested` promise, and that reaction
 * holds the child scope (with its cancelled promise, the CancelledFailure and its stack, and the async context the
 * scope was made in, e.g. a tracing span) until the parent is cancelled. `condition(fn, timeout)` makes one scope per
 * call, under the root scope when called from the workflow's main path: a run that polls every minute kept ~8.6 KiB
 * per poll for the execution's life (bench/open-runs.ts --hold; docs/benchmarks.md, "Memory per open run").
 * Here the waits run under a scope of their own that is cancelled and replaced every WAITS_PER_SCOPE waits, which
 * releases the finished children. A wait's scope is only replaced between waits, when nothing it started is pending,
 * so cancelling it sends no command: the history is the same as with `condition` called directly.
 */
import { CancellationScope, condition } from '@temporalio/workflow';

const WAITS_PER_SCOPE = 20;

/** `condition(fn, timeout)` for a loop: true if `fn` became true, false on the timeout. One per loop. */
export function releasingWaits(): (fn: () => boolean, timeout: string) => Promise<boolean> {
  let scope: CancellationScope | undefined;
  let waits = 0;
  return async (fn, timeout) => {
    if (!scope || waits >= WAITS_PER_SCOPE) {
      scope?.cancel();
      scope = new CancellationScope({ cancellable: true });
      waits = 0;
    }
    waits++;
    return scope.run(() => condition(fn, timeout));
  };
}
