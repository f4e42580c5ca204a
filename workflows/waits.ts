/**
 * Steps that a long-lived loop makes thousands of times (its poll, its timed wait) without keeping each one.
 * Workflow-safe.
 *
 * In SDK 1.24 every CancellationScope, timer, activity and local activity hangs a reaction on its scope's
 * `cancelRequested` promise, and that reaction holds what it was made with (a child scope with its cancelled promise,
 * the CancelledFailure and its stack and the async context it was made in, e.g. a tracing span; an activity's
 * arguments, headers and options) until the scope is cancelled. Under the root scope that is the execution's life: a
 * run that polls every minute kept ~8.6 KiB per poll for `condition(fn, timeout)` and ~1.2 KiB for the poll's local
 * activity (bench/open-runs.ts --hold; docs/benchmarks.md, "Memory per open run").
 * Here the steps run under a scope of their own that is cancelled and replaced every STEPS_PER_SCOPE steps, which
 * releases the finished ones. The scope is a cancellable child of the caller's, so a cancellation of the run still
 * reaches what runs in it. It is only replaced between steps, when nothing it started is pending (every step is
 * awaited before the next starts), so cancelling it sends no command: the history is the same as without it.
 */
import { CancellationScope } from '@temporalio/workflow';

const STEPS_PER_SCOPE = 20;

/** A loop's step: runs `fn` (awaited before the next step) under the loop's released scope. */
export type LoopStep = <T>(fn: () => Promise<T>) => Promise<T>;

/** Steps for one loop, each awaited before the next. */
export function releasingSteps(): LoopStep {
  let scope: CancellationScope | undefined;
  let steps = 0;
  return (fn) => {
    if (!scope || steps >= STEPS_PER_SCOPE) {
      scope?.cancel();
      scope = new CancellationScope({ cancellable: true });
      steps = 0;
    }
    steps++;
    return scope.run(fn);
  };
}

