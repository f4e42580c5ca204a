/**
 * Prebundles the workflows so workers start without webpack: `npm run build` writes `workflow-bundle.js` next to the
 * compiled code; the test runner passes a path of its own (`bundle-workflows.ts <file>`) and bundles once per run.
 */
import { join } from 'node:path';
import { writeWorkflowBundle } from '../src/stack/workflow-bundle';

const out = process.argv[2] ?? join(__dirname, '..', 'workflow-bundle.js');
writeWorkflowBundle(out).then(
  (bytes) => console.log(`workflow bundle: ${out} (${(bytes / 1024).toFixed(0)} KiB)`),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
