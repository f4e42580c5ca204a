/**
 * OpenTelemetry's context manager for workflow code, on the workflow thread's one shared storage
 * (trace-context-storage.ts) instead of a storage per execution. Workflow-safe. Behaves as the one in
 * @temporalio/interceptors-opentelemetry (lib/workflow/context-manager.js): a context flows with the async calls
 * made under `with`.
 */
import { ROOT_CONTEXT, context, type Context, type ContextManager } from '@opentelemetry/api';
import { traceContextStorage, type TraceContextStorage } from './trace-context-storage';

class SharedStorageContextManager implements ContextManager {
  constructor(private readonly storage: TraceContextStorage) {}

  active(): Context {
    return (this.storage.getStore() as Context | undefined) ?? ROOT_CONTEXT;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    const callback = thisArg == null ? fn : (fn.bind(thisArg) as F);
    return this.storage.run(ctx, callback, ...args);
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') throw new TypeError(`Only function binding is supported, got ${typeof target}`);
    const bound = (...args: unknown[]): unknown => this.with(ctx, () => (target as (...a: unknown[]) => unknown)(...args));
    return bound as T;
  }

  enable(): this {
    return this;
  }

  /** Nothing to release per execution: the storage is the thread's. */
  disable(): this {
    return this;
  }
}

/**
 * Replaces the execution's global context manager (the interceptors registered theirs) with the shared-storage one.
 * Call after creating OpenTelemetry's workflow interceptors. Without the sandbox's storage it leaves theirs.
 */
export function useSharedTraceContext(): void {
  const storage = traceContextStorage();
  if (!storage) return;
  context.disable();
  context.setGlobalContextManager(new SharedStorageContextManager(storage));
}
