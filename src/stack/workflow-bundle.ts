/**
 * ftpipe's workflow code as one bundle, made once and loaded by every worker that runs it: by `npm run build` for
 * production workers, by the test runner for a whole test run, by the pipelines benchmark for its worker processes.
 * Bundled as a worker bundles its sources at start (createFtpipeWorker with `workflowsPath`): the tracing
 * interceptors and ftpipe's failure converter compiled in, so a bundle and the sources run the same workflow code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../codec';
import { WORKFLOW_INTERCEPTORS_MODULE } from '../telemetry/tracing';

/**
 * Modules the worker evaluates once, when it loads the bundle, and shares between workflow executions (the SDK's
 * `preloadModules`); every other module is evaluated again for each execution. These are the costly pure ones: zod and
 * every schema the workflows parse (about 20 ms of CPU and 1 MB of heap per execution otherwise; docs/benchmarks.md),
 * the resource limits, and OpenTelemetry's semantic conventions. They must hold no per-execution state, import no
 * workflow API (its modules stay per execution), and export no zod schema or RegExp as a value (the SDK freezes their
 * exports; see src/pipeline/input.ts). test/foundation/workflow-preload.test.ts checks all three.
 */
export const WORKFLOW_PRELOAD_MODULES: readonly string[] = [
  require.resolve('../../workflows/boundary-schemas'),
  require.resolve('../admission/limits'),
  require.resolve('../telemetry/semantic-conventions'),
];

/** Bundles the workflows; another `preloadModules` than ftpipe's is for the benchmark's comparison (bench/workflow-load.ts). */
export async function bundleFtpipeWorkflows({ preloadModules = WORKFLOW_PRELOAD_MODULES }: { preloadModules?: readonly string[] } = {}): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    preloadModules: [...preloadModules],
    workflowInterceptorModules: [WORKFLOW_INTERCEPTORS_MODULE],
    failureConverterPath: FAILURE_CONVERTER_PATH,
    // webpack's module list is noise; its warnings and errors are not.
    logger: new DefaultLogger('WARN'),
  });
  return code;
}

/** Bundles the workflows into `path` (its folder is created); returns the bundle's size in bytes. */
export async function writeWorkflowBundle(path: string, options: { preloadModules?: readonly string[] } = {}): Promise<number> {
  const code = await bundleFtpipeWorkflows(options);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, code);
  return Buffer.byteLength(code);
}
