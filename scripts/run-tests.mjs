#!/usr/bin/env node
// Runs the test suite with Node's test runner (TypeScript through tsx).
// Usage: node scripts/run-tests.mjs [substring filters...]; FTPIPE_TEST_CONCURRENCY overrides the file concurrency,
// FTPIPE_TEST_TIMEOUT_MS the timeout of each test file (10 minutes), FTPIPE_TEST_TEMPORAL_LOG names a file for the shared
// dev server's output, FTPIPE_TEST_RECORD_DURATIONS=1 writes the files' measured times into test/file-durations.json.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

// Longest first, by the times test/file-durations.json records: three files at a time finish together instead of the
// last long file running alone (by name, the Web UI test's 110 s started near the end). A file not measured yet goes
// first, as it may be long.
const DURATIONS = join(root, 'test', 'file-durations.json');
const measured = JSON.parse(readFileSync(DURATIONS, 'utf8')).seconds;
const expected = (file) => measured[file] ?? Infinity;
const files = collect(join(root, 'test'))
  .filter((f) => filters.length === 0 || filters.some((needle) => f.includes(needle)))
  .sort((a, b) => expected(b) - expected(a) || a.localeCompare(b));
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

/** Merges one run's file times into test/file-durations.json; files that no longer exist are dropped. */
function recordDurations(seconds) {
  const all = Object.fromEntries(Object.entries({ ...measured, ...seconds }).filter(([file]) => existsSync(join(root, file))).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(DURATIONS, `${JSON.stringify({ seconds: all }, null, 2)}\n`);
  console.log(`test durations: ${Object.keys(seconds).length} files measured, written to ${relative(root, DURATIONS)}`);
}

async function main() {
  const shared = startSharedServer();
  // Stopped on every way out, also when bundling fails while the server starts.
  shared.catch(() => undefined);
  try {
    const [workflowBundle, { address, namespace }] = await Promise.all([bundleWorkflows(), shared]);
    // Every test file gets a timeout: a hung test fails the file instead of holding the suite until CI's limit.
    const timeoutMs = process.env.FTPIPE_TEST_TIMEOUT_MS ?? '600000';
    // Three files at a time: a pipeline test mostly waits (for the server, the emulator's clock, polls), so two at a time
    // kept 2 cores half idle (CI: 18 min of CPU in 19 min of wall time).
    const concurrency = process.env.FTPIPE_TEST_CONCURRENCY ?? '3';
    const durations = join(scratch, 'durations.json');
    const tests = run(
      ['--import', 'tsx', join(root, 'scripts', 'test-files.mjs'), concurrency, timeoutMs, durations, ...files],
      { stdio: 'inherit', env: { ...process.env, FTPIPE_TEST: '1', FTPIPE_TEST_WORKFLOW_BUNDLE: workflowBundle, FTPIPE_TEST_TEMPORAL_ADDRESS: address, FTPIPE_TEST_TEMPORAL_NAMESPACE: namespace } },
    );
    const code = await exitCode(tests);
    if (process.env.FTPIPE_TEST_RECORD_DURATIONS === '1' && existsSync(durations)) recordDurations(JSON.parse(readFileSync(durations, 'utf8')));
    return code;
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
