#!/usr/bin/env node
// Runs test files in the order given, N at a time: scripts/run-tests.mjs starts it with `--import tsx`, which the files'
// processes inherit. `node --test` sorts its files by name, so the longest files could start last and run alone at the
// end; node:test's run() keeps the order. Usage: test-files.mjs <concurrency> <timeout ms> <durations out> <files...>;
// a file's wall time (process start included) is written to <durations out> as {file: seconds}.
import { writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

const root = new URL('..', import.meta.url).pathname;
const [concurrency, timeoutMs, durationsOut, ...files] = process.argv.slice(2);

// A file whose test timed out still has that test's worker polling: without a forced exit its process never ends and
// the run hangs after printing the failure (seen with the Web UI test at a load of 30). Node >= 20.14 has it.
const [major, minor] = process.versions.node.split('.').map(Number);
const forceExit = major > 20 || (major === 20 && minor >= 14);
const stopped = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stopped.abort());

// As `node --test --test-timeout`: on Node 20 the timeout is the budget of each file's process.
const stream = run({ files, concurrency: Number(concurrency), timeout: Number(timeoutMs), forceExit, signal: stopped.signal });
const seconds = {};
stream.on('test:fail', (data) => {
  if (!data.todo) process.exitCode = 1;
});
stream.on('test:complete', (data) => {
  // The file's own entry (named by its path) spans its process.
  if (data.nesting === 0 && data.file && resolve(data.name) === data.file) seconds[relative(root, data.file)] = Math.round(data.details.duration_ms / 100) / 10;
});
stream.once('end', () => writeFileSync(durationsOut, JSON.stringify(seconds)));
stream.compose(spec).pipe(process.stdout);
