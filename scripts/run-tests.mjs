#!/usr/bin/env node
// Runs the test suite with Node's test runner (TypeScript through tsx).
// Usage: node scripts/run-tests.mjs [substring filters...]; FTPIPE_TEST_CONCURRENCY overrides the file concurrency,
// FTPIPE_TEST_TIMEOUT_MS the timeout of each test (10 minutes).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function collect(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return collect(path);
    return name.endsWith('.test.ts') ? [relative(root, path)] : [];
  });
}

const files = collect(join(root, 'test'))
  .filter((f) => filters.length === 0 || filters.some((needle) => f.includes(needle)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
// The workflow code is bundled once for the whole run and every test worker loads that bundle (webpack took 12 s per
// worker at a load of 16). FTPIPE_TEST_WORKFLOW_BUNDLE names a bundle made beforehand instead.
const scratch = mkdtempSync(join(tmpdir(), 'ftpipe-tests-'));
let workflowBundle = process.env.FTPIPE_TEST_WORKFLOW_BUNDLE;
if (!workflowBundle) {
  workflowBundle = join(scratch, 'workflow-bundle.js');
  const bundled = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'bundle-workflows.ts'), workflowBundle], { cwd: root, stdio: 'inherit' });
  if (bundled.status !== 0) process.exit(bundled.status ?? 1);
}
// Every test gets a timeout: a hung test fails with its name instead of holding the suite until CI's limit.
const timeoutMs = process.env.FTPIPE_TEST_TIMEOUT_MS ?? '600000';
const concurrency = process.env.FTPIPE_TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, `--test-timeout=${timeoutMs}`, '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, FTPIPE_TEST: '1', FTPIPE_TEST_WORKFLOW_BUNDLE: workflowBundle } },
);
rmSync(scratch, { recursive: true, force: true });
process.exit(result.status ?? 1);
