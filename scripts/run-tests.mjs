#!/usr/bin/env node
// Runs the test suite with Node's test runner (TypeScript through tsx).
// Usage: node scripts/run-tests.mjs [substring filters...]; FTPIPE_TEST_CONCURRENCY overrides the file concurrency,
// FTPIPE_TEST_TIMEOUT_MS the timeout of each test (10 minutes), FTPIPE_TEST_TEMPORAL_LOG names a file for the shared
// dev server's output.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
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
const scratch = mkdtempSync(join(tmpdir(), 'ftpipe-tests-'));
const children = new Set();
function run(args, options) {
  const child = spawn(process.execPath, args, { cwd: root, ...options });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
async function exitCode(child) {
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  return child.exitCode ?? 1;
}

// One Temporal dev server for the whole run: test files use it (test/helpers/temporal.ts) unless they need a server of
// their own (they restart it, change its dynamic config, ...). Isolation is by unique task queues and workflow ids.
// It stops when its stdin closes, so it ends with this process however this process ends.
async function startSharedServer() {
  const server = run(['--import', 'tsx', join(root, 'test', 'helpers', 'shared-dev-server.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
  // Its stdin is closed to stop it; it may have exited already.
  server.stdin.on('error', () => undefined);
  for await (const line of createInterface({ input: server.stdout })) {
    const serving = /^serving (\S+) (\S+)$/.exec(line);
    if (serving) {
      server.stdout.resume();
      return { server, address: serving[1], namespace: serving[2] };
    }
  }
  throw new Error(`the shared Temporal dev server did not start (exit ${await exitCode(server)})`);
}

// The workflow code is bundled once for the whole run and every test worker loads that bundle (webpack took 12 s per
// worker at a load of 16). FTPIPE_TEST_WORKFLOW_BUNDLE names a bundle made beforehand instead.
async function bundleWorkflows() {
  if (process.env.FTPIPE_TEST_WORKFLOW_BUNDLE) return process.env.FTPIPE_TEST_WORKFLOW_BUNDLE;
  const bundle = join(scratch, 'workflow-bundle.js');
  const code = await exitCode(run(['--import', 'tsx', join(root, 'scripts', 'bundle-workflows.ts'), bundle], { stdio: 'inherit' }));
  if (code !== 0) throw new Error(`bundling the workflows failed (exit ${code})`);
  return bundle;
}

async function main() {
  const shared = startSharedServer();
  // Stopped on every way out, also when bundling fails while the server starts.
  shared.catch(() => undefined);
  try {
    const [workflowBundle, { address, namespace }] = await Promise.all([bundleWorkflows(), shared]);
    // Every test gets a timeout: a hung test fails with its name instead of holding the suite until CI's limit.
    const timeoutMs = process.env.FTPIPE_TEST_TIMEOUT_MS ?? '600000';
    // Three files at a time: a pipeline test mostly waits (for the server, the emulator's clock, polls), so two at a time
    // kept 2 cores half idle (CI: 18 min of CPU in 19 min of wall time).
    const concurrency = process.env.FTPIPE_TEST_CONCURRENCY ?? '3';
    // A file whose test timed out still has that test's worker polling: without a forced exit its process never ends
    // and the run hangs after printing the failure (seen with the Web UI test at a load of 30). Node >= 20.14 has it.
    const [major, minor] = process.versions.node.split('.').map(Number);
    const forceExit = major > 20 || (major === 20 && minor >= 14) ? ['--test-force-exit'] : [];
    const tests = run(
      ['--import', 'tsx', '--test', ...forceExit, `--test-concurrency=${concurrency}`, `--test-timeout=${timeoutMs}`, '--test-reporter=spec', ...files],
      { stdio: 'inherit', env: { ...process.env, FTPIPE_TEST: '1', FTPIPE_TEST_WORKFLOW_BUNDLE: workflowBundle, FTPIPE_TEST_TEMPORAL_ADDRESS: address, FTPIPE_TEST_TEMPORAL_NAMESPACE: namespace } },
    );
    return await exitCode(tests);
  } finally {
    const started = await shared.catch(() => undefined);
    if (started) {
      started.server.stdin.end();
      await exitCode(started.server);
    }
    rmSync(scratch, { recursive: true, force: true });
  }
}

// Ctrl-C reaches the children too (one process group); a TERM from outside is passed on to them.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
  });
}
main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
