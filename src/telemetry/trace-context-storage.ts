/**
 * The one AsyncLocalStorage that carries the tracing context in a workflow thread, shared by every workflow execution
 * in it. Workflow-safe, and preloaded (WORKFLOW_PRELOAD_MODULES in src/stack/workflow-bundle.ts): evaluated once per
 * thread, before any execution, so the storage belongs to no execution and is not disabled when one is evicted.
 *
 * Why one: in Node 20 every enabled AsyncLocalStorage of a thread writes a property on every promise the thread
 * creates (async_hooks `_propagate`). OpenTelemetry's workflow context manager makes a storage per execution (its
 * module is evaluated per execution), so with N runs cached in a thread each of their promises carried N more
 * properties: memory per open run grew with the number of open runs, and every promise cost O(N)
 * (docs/benchmarks.md, "Memory per open run"; temporalio/sdk-typescript#1432). One store per async flow is what an
 * AsyncLocalStorage is for: each execution's flows carry their own contexts in it.
 */

/** The part of AsyncLocalStorage the context manager uses (the SDK provides the class in the workflow sandbox). */
export interface TraceContextStorage {
  getStore(): unknown;
  run<R, A extends unknown[]>(store: unknown, fn: (...args: A) => R, ...args: A): R;
}

// Outside the workflow sandbox (a test loading the module in Node) there is no such global, and no storage.
const Storage = (globalThis as { AsyncLocalStorage?: new () => TraceContextStorage }).AsyncLocalStorage;
const storage = Storage ? new Storage() : undefined;

/** The thread's storage for tracing contexts; undefined outside a workflow sandbox. */
export function traceContextStorage(): TraceContextStorage | undefined {
  return storage;
}
