#!/usr/bin/env node
// Runs the test suite with Node's test runner (TypeScript through tsx).
// Usage: node scripts/run-tests.mjs [--checks] [substring filters...]; --checks (`npm test`) runs lint and the type
// check first, side by side with each other and with the run's set-up, and runs no test when either fails.
// FTPIPE_TEST_CLUSTER=1 adds the cluster test (test/cluster/production-cluster.ts; its tools must be installed) to the
// files run. FTPIPE_TEST_CONCURRENCY overrides the file concurrency,
// FTPIPE_TEST_TIMEOUT_MS the timeout of each test file (10 minutes), FTPIPE_TEST_TEMPORAL_LOG names a file for the shared
// dev server's output, FTPIPE_TEST_RECORD_DURATIONS=1 writes the files' measured times into test/file-durations.json.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const withChecks = args.includes('--checks');
const filters = args.filter((a) => a !== '--checks');

/** The files under `dir` whose names `wanted` accepts, relative to the root. */
function collectFiles(dir, wanted) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return collectFiles(path, wanted);
    return wanted(name) ? [relative(root, path)] : [];
  });
}

// Longest first, by the times test/file-durations.json records: three files at a time finish together instead of the
// last long file running alone (by name, the Web UI test's 110 s started near the end). A file not measured yet goes
// first, as it may be long.
const DURATIONS = join(root, 'test', 'file-durations.json');
const measured = JSON.parse(readFileSync(DURATIONS, 'utf8')).seconds;
const expected = (file) => measured[file] ?? Infinity;
const CLUSTER_TEST = join('test', 'cluster', 'production-cluster.ts');
const files = [...collectFiles(join(root, 'test'), (name) => name.endsWith('.test.ts')), ...(process.env.FTPIPE_TEST_CLUSTER === '1' ? [CLUSTER_TEST] : [])]
  .filter((f) => filters.length === 0 || filters.some((needle) => f.includes(needle)))
  .sort((a, b) => expected(b) - expected(a) || a.localeCompare(b));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const scratch = mkdtempSync(join(tmpdir(), 'ftpipe-tests-'));
const children = new Set();
const checkProcesses = new Set();
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

/**
 * Lint and the type check, side by side (each uses one core: lint ~60 CPU-s, the type check ~26; one after the
 * other on 2 cores they took ~26 s more of wall time), while the workflows bundle and the shared server starts. Each one's output is printed when it
 * ends, whole. Resolves with the failed checks' names.
 */
async function runChecks() {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const checks = ['lint', 'typecheck'].map(async (name) => {
    const child = spawn(npm, ['run', '--silent', name], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    checkProcesses.add(child);
    child.once('exit', () => {
      children.delete(child);
      checkProcesses.delete(child);
    });
    const chunks = [];
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    const started = Date.now();
    const code = await exitCode(child);
    const out = Buffer.concat(chunks).toString();
    console.log(`== ${name}: ${code === 0 ? 'passed' : `FAILED (exit ${code})`} in ${Math.round((Date.now() - started) / 1000)} s${out.trim() ? `\n${out.trimEnd()}` : ''}`);
    return code === 0 ? undefined : name;
  });
  return (await Promise.all(checks)).filter(Boolean);
}

/**
 * The first product source file that dist/ does not hold compiled after its last change, or undefined when dist/ is
 * the build of the current sources (npm ci/install builds it; so does `npm run build`). Only then do the CLI processes
 * the tests start run from dist/ (test/helpers/cli.ts): a test must run the code in the working tree.
 */
function staleBuild() {
  const sources = ['src', 'workflows', 'activities', 'workers', 'scripts'].flatMap((dir) => collectFiles(join(root, dir), (name) => name.endsWith('.ts') && !name.endsWith('.d.ts')));
  return sources.find((source) => {
    const built = join(root, 'dist', source.replace(/\.ts$/, '.js'));
    return !existsSync(built) || statSync(built).mtimeMs < statSync(join(root, source)).mtimeMs;
  });
}

/** Merges one run's file times into test/file-durations.json; files that no longer exist are dropped. */
function recordDurations(seconds) {
  const all = Object.fromEntries(Object.entries({ ...measured, ...seconds }).filter(([file]) => existsSync(join(root, file))).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(DURATIONS, `${JSON.stringify({ seconds: all }, null, 2)}\n`);
  console.log(`test durations: ${Object.keys(seconds).length} files measured, written to ${relative(root, DURATIONS)}`);
}

async function main() {
  const checks = withChecks ? runChecks() : Promise.resolve([]);
  const shared = startSharedServer();
  // Stopped on every way out, also when bundling fails while the server starts.
  shared.catch(() => undefined);
  try {
    const [failedChecks, workflowBundle, { address, namespace }] = await Promise.all([checks, bundleWorkflows(), shared]);
    if (failedChecks.length > 0) {
      console.error(`${failedChecks.join(' and ')} failed: no test ran`);
      return 1;
    }
    // Every test file gets a timeout: a hung test fails the file instead of holding the suite until CI's limit.
    const timeoutMs = process.env.FTPIPE_TEST_TIMEOUT_MS ?? '600000';
    // Four files at a time: a pipeline test mostly waits (for the server, the emulator's clock, polls). Two at a time
    // kept 2 cores half idle (CI: 18 min of CPU in 19 min of wall time); three still left a third idle (the clean-clone
    // CI of 2026-12-01 19:03: 1,059 CPU-s in 848 s, 1.25 cores).
    const concurrency = process.env.FTPIPE_TEST_CONCURRENCY ?? '4';
    const durations = join(scratch, 'durations.json');
    const stale = staleBuild();
    console.log(stale ? `CLI processes run from the sources through tsx: dist/ is older than ${stale} (npm run build)` : 'CLI processes run from dist/ (built from the current sources)');
    const tests = run(
      ['--import', 'tsx', join(root, 'scripts', 'test-files.mjs'), concurrency, timeoutMs, durations, ...files],
      { stdio: 'inherit', env: { ...process.env, FTPIPE_TEST: '1', FTPIPE_TEST_WORKFLOW_BUNDLE: workflowBundle, FTPIPE_TEST_TEMPORAL_ADDRESS: address, FTPIPE_TEST_TEMPORAL_NAMESPACE: namespace, FTPIPE_TEST_CLI_FROM_DIST: stale ? '0' : '1' } },
    );
    const code = await exitCode(tests);
    if (process.env.FTPIPE_TEST_RECORD_DURATIONS === '1' && existsSync(durations)) recordDurations(JSON.parse(readFileSync(durations, 'utf8')));
    return code;
  } finally {
    // A check still running when the set-up failed.
    for (const child of checkProcesses) child.kill('SIGTERM');
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
