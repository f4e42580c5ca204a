/**
 * ftpipe's workflow code as one bundle, made once and loaded by every worker that runs it: by `npm run build` for
 * production workers, by the test runner for a whole test run, by the pipelines benchmark for its worker processes.
 * Bundled as a worker bundles its sources at start (createFtpipeWorker with `workflowsPath`): the tracing
 * interceptors and ftpipe's failure converter compiled in, so a bundle and the sources run the same workflow code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { bundleWorkflowCode, DefaultLogger, type BundleOptions } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../codec';
import { WORKFLOW_INTERCEPTORS_MODULE } from '../telemetry/tracing';

/**
 * Modules the worker evaluates once, when it loads the bundle, and shares between workflow executions (the SDK's
 * `preloadModules`); every other module is evaluated again for each execution. These are the costly pure ones: zod and
 * every schema the workflows parse (about 20 ms of CPU and 1 MB of heap per execution otherwise; docs/benchmarks.md),
 * the resource limits, OpenTelemetry's semantic conventions, and `long` (the SDK's 64-bit integers), which compiles and
 * instantiates a WebAssembly module when evaluated (about 80 KiB of memory per execution otherwise; it declares side
 * effects, so a bare preload of it stays in the bundle). They must hold no per-execution state, import no
 * workflow API (its modules stay per execution), and export no zod schema or RegExp as a value (the SDK freezes their
 * exports; see src/pipeline/input.ts). test/foundation/workflow-preload.test.ts checks all three.
 */
export const WORKFLOW_PRELOAD_MODULES: readonly string[] = [
  require.resolve('../../workflows/boundary-schemas'),
  require.resolve('../admission/limits'),
  require.resolve('../telemetry/semantic-conventions'),
  // Its storage must be the thread's, not an execution's (see the module).
  require.resolve('../telemetry/trace-context-storage'),
  // The copy @temporalio/common uses (ftpipe does not depend on long itself).
  require.resolve('long', { paths: [require.resolve('@temporalio/common')] }),
];

type WebpackConfiguration = Parameters<NonNullable<BundleOptions['webpackConfigHook']>>[0];

/**
 * webpack's production-mode module optimizations, added to the development build the SDK makes (readable code, inline
 * source map): a module of a side-effect-free package that only re-exports is skipped, and a package's ES modules are
 * joined into one scope (scope hoisting). An execution then evaluates fewer modules: mostly OpenTelemetry's, which the
 * tracing interceptors need in every execution (docs/benchmarks.md: about 15% less CPU and 60 KiB less heap per
 * execution start). The code itself is unchanged, so recorded histories replay alike (test/foundation/replay.test.ts).
 */
function optimizeModules(config: WebpackConfiguration): WebpackConfiguration {
  return { ...config, optimization: { ...config.optimization, usedExports: true, innerGraph: true, sideEffects: true, concatenateModules: true } };
}

/** How ftpipe's workflows are bundled, by `npm run build` and by a worker that bundles its sources at start. */
export const WORKFLOW_BUNDLER_OPTIONS = {
  preloadModules: [...WORKFLOW_PRELOAD_MODULES],
  webpackConfigHook: optimizeModules,
} as const satisfies Pick<BundleOptions, 'preloadModules' | 'webpackConfigHook'>;

export interface WorkflowBundleOptions {
  preloadModules?: readonly string[];
  /** Without the tracing interceptors: only for the benchmark's comparison, never a worker's bundle. */
  withoutInterceptors?: boolean;
}

/** Bundles the workflows; other options than the defaults are for the benchmark's comparisons (bench/workflow-load.ts). */
export async function bundleFtpipeWorkflows({ preloadModules = WORKFLOW_PRELOAD_MODULES, withoutInterceptors = false }: WorkflowBundleOptions = {}): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    ...WORKFLOW_BUNDLER_OPTIONS,
    preloadModules: [...preloadModules],
    workflowInterceptorModules: withoutInterceptors ? [] : [WORKFLOW_INTERCEPTORS_MODULE],
    failureConverterPath: FAILURE_CONVERTER_PATH,
    // webpack's module list is noise; its warnings and errors are not.
    logger: new DefaultLogger('WARN'),
  });
  return code;
}

/** Bundles the workflows into `path` (its folder is created); returns the bundle's size in bytes. */
export async function writeWorkflowBundle(path: string, options: WorkflowBundleOptions = {}): Promise<number> {
  const code = await bundleFtpipeWorkflows(options);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, code);
  return Buffer.byteLength(code);
}
