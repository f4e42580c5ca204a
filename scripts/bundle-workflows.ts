/** Build step: prebundles the workflows (`bundleWorkflowCode`) so production workers start without webpack. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from '../src/codec';
import { WORKFLOW_INTERCEPTORS_MODULE } from '../src/telemetry/tracing';

async function bundle(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), workflowInterceptorModules: [WORKFLOW_INTERCEPTORS_MODULE], failureConverterPath: FAILURE_CONVERTER_PATH, logger: undefined });
  const out = join(__dirname, '..', 'workflow-bundle.js');
  writeFileSync(out, code);
  console.log(`workflow bundle: ${out} (${(code.length / 1024).toFixed(0)} KiB)`);
}

bundle().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
