/**
 * Memory per open run, attributed: N pipeline runs held open in `train` (the emulated job's steps last for days, so
 * every run waits between polls, as a real training run does most of its life) on ONE ftpipe worker in a child
 * process, the built code on plain `node` (as `ftpipe worker` runs), with ftpipe's default worker settings (the SDK's
 * default workflow cache: thousands of runs on this machine) unless told otherwise. At each step (`--steps 100,200`:
 * start runs until that many are in `train`, let in-flight work settle, collect garbage in every thread) it reads, in
 * the worker:
 *   - the process: VmRSS, and /proc/self/smaps summed by kind of mapping: glibc's malloc arenas (the main `[heap]` and
 *     the 64 MiB-aligned per-thread arenas), other anonymous memory (V8's heap pages, large mallocs, thread stacks),
 *     file-backed pages (node, the SDK's native module, shared libraries);
 *   - every thread's V8 heap (the main thread, the SDK's workflow thread, the tokenizer threads; read through the
 *     inspector's NodeWorker domain): committed (heapTotal) vs used, external and array buffers, and the heap spaces
 *     (the young generation's semi-spaces, old space) committed vs used.
 * Then "RSS per open run" and "V8 heap per open run" between steps (the slope, which leaves out what the first runs
 * start once per process: the tokenizer threads, arena growth from the first validations) and from idle.
 * The Rust core's share has no counter of its own: compare runs with the cache at its default and `--max-cached 2`
 * (runs evicted between their tasks: neither the core nor V8 keeps their state). The worker child has the process
 * settings `ftpipe worker` gives itself (workers/launcher.ts: MALLOC_ARENA_MAX=2); `--worker-env NAME=VALUE` changes
 * one, `--worker-env NAME=` removes it (`MALLOC_ARENA_MAX=` measures glibc's default arenas); V8 flags for the worker
 * process (and so for all its threads) with `--node-flags`.
 *
 *   npx tsx bench/open-runs.ts [--steps 100,200] [--max-cached N] [--node-flags "--max-semi-space-size=2"]
 *     [--worker-env NAME=VALUE ...] [--poll-seconds 15] [--settle-seconds 20] [--hold N [--hold-every 60]]
 *     [--snapshots DIR] [--no-build]
 * `--hold N`: N more measurements after the last step, `--hold-every` s apart, with no run started: what an open run
 * holds as it keeps polling. `--snapshots DIR`: a heap snapshot of the workflow thread after each measurement (the
 * threads' own V8 figures are then not read: a snapshot does not finish while the inspector is attached).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FtpipeClient } from '../src/client';
import type { ResourceLimits } from '../src/admission/limits';
import type { PipelineInputDraft } from '../src/pipeline/input';
import { EMULATOR_PROFILE } from '../src/stack/emulator-profiles';
import { startLocalServices } from '../src/stack/local-stack';
import { PIPELINE_WORKFLOW_TYPE } from '../workflows/messages';
import { WORKER_PROCESS_ENV, workerProcessEnv } from '../workers/launcher';
import { SERVE_BENCH_WORKER, WORKFLOW_THREAD_SNAPSHOTS } from './worker-child';

const ROOT = join(__dirname, '..');
const DIST = join(ROOT, 'dist');
const SAMPLE_TRAINING = join(ROOT, 'examples', 'data', 'bike-shop-train.jsonl');
const TARGET_BYTES_PER_OPEN_RUN = 1024 ** 2;
/** No run waits for Azure's job or file slots (as bench/pipelines.ts --limits high): all N train at once. */
const HIGH_LIMITS: ResourceLimits = { runningJobs: 1000, queuedJobs: 1000, files: 100_000, fileBytes: 1024 ** 4, fineTunedDeployments: 1000, holderCheckSeconds: 60, quotaRetrySeconds: 60 };
/** Emulated seconds per training step: the job outlives the bench, so every run stays in `train`. */
const ENDLESS_STEP_SECONDS = 10_000_000;

/** What the worker child reports at each step. */
interface ThreadMemory {
  thread: string;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  mallocedMemory: number;
  asyncStack: number;
  asyncResources: number;
  spaces: { name: string; committed: number; used: number }[];
}

interface ProcessMemory {
  rss: number;
  /** smaps Rss by kind of mapping. */
  mappings: Record<string, number>;
  threads: ThreadMemory[];
}

/**
 * The worker child, plain JavaScript on the built code. It reads its own memory when asked ('measure'): every
 * thread's V8 heap through an inspector session (NodeWorker: the SDK starts its workflow thread without a channel of
 * ours), after a full garbage collection in each.
 */
const WORKER_CHILD = `
const inspector = require('node:inspector');
const { readFileSync } = require('node:fs');
const session = new inspector.Session();
session.connect();
const post = (method, params) => new Promise((resolve, reject) => session.post(method, params || {}, (err, result) => (err ? reject(err) : resolve(result))));
const threads = new Map();
let nextId = 0;
const pending = new Map();
session.on('NodeWorker.attachedToWorker', ({ params }) => threads.set(params.sessionId, params.workerInfo));
session.on('NodeWorker.detachedFromWorker', ({ params }) => threads.delete(params.sessionId));
session.on('NodeWorker.receivedMessageFromWorker', ({ params }) => {
  const message = JSON.parse(params.message);
  const done = pending.get(message.id);
  if (done) { pending.delete(message.id); done(message); }
});
${WORKFLOW_THREAD_SNAPSHOTS}
function inThread(sessionId, method, params) {
  const id = ++nextId;
  const answer = new Promise((resolve) => pending.set(id, resolve));
  session.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method, params }) });
  return answer;
}
const STATS = '(' + (() => {
  const v8 = require('v8');
  const m = process.memoryUsage();
  // Node's async context stack as the thread rests between tasks (it should be about empty): what is pushed and
  // never popped holds its resource (sdk-typescript#939: "async hook stack has become corrupted" once it is huge).
  const asyncWrap = process.binding('async_wrap');
  return JSON.stringify({
    asyncStack: asyncWrap.async_hook_fields[asyncWrap.constants.kStackLength], asyncResources: asyncWrap.execution_async_resources.length,
    heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers,
    mallocedMemory: v8.getHeapStatistics().malloced_memory,
    spaces: v8.getHeapSpaceStatistics().filter((s) => s.space_size > 0).map((s) => ({ name: s.space_name, committed: s.space_size, used: s.space_used_size })),
  });
}).toString() + ')()';
/** smaps Rss by kind: glibc arenas (the main [heap]; others are 64 MiB-aligned, their unused rest reserved ---p). */
function mappings() {
  const out = {};
  const add = (kind, kb) => { out[kind] = (out[kind] || 0) + kb * 1024; };
  const text = readFileSync('/proc/self/smaps', 'utf8');
  const regions = [];
  for (const line of text.split('\\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\\S+) \\S+ \\S+ \\S+\\s*(.*)$/.exec(line);
    if (head) { regions.push({ start: BigInt('0x' + head[1]), end: BigInt('0x' + head[2]), perms: head[3], path: head[4], rss: 0 }); continue; }
    const rss = /^Rss:\\s+(\\d+) kB/.exec(line);
    if (rss && regions.length) regions[regions.length - 1].rss = Number(rss[1]);
  }
  const ARENA = 64n * 1024n * 1024n;
  regions.forEach((r, i) => {
    if (r.path === '[heap]') return add('malloc: main arena ([heap])', r.rss);
    if (r.path.startsWith('[')) return add(r.path, r.rss);
    if (r.path) {
      const name = r.path.split('/').pop();
      const kind = name.endsWith('.node') ? 'file: ' + name : name === 'node' ? 'file: node' : 'file: other';
      return add(kind, r.rss);
    }
    const next = regions[i + 1];
    const arena = r.start % ARENA === 0n && r.perms.startsWith('rw') && ((r.end - r.start) === ARENA || (next && next.start === r.end && next.perms === '---p' && !next.path && next.end - r.start === ARENA));
    add(arena ? 'malloc: thread arenas (64 MiB-aligned)' : 'anonymous: other (V8 heap pages, large mallocs, stacks)', r.rss);
  });
  return out;
}
async function threadStats(gc) {
  if (gc) await post('HeapProfiler.collectGarbage');
  const result = [{ thread: 'main thread', ...JSON.parse(eval(STATS)) }];
  for (const [sessionId, info] of threads) {
    if (gc) await inThread(sessionId, 'HeapProfiler.collectGarbage', {});
    const answer = await inThread(sessionId, 'Runtime.evaluate', { expression: STATS, includeCommandLineAPI: true, returnByValue: true });
    const value = answer.result && answer.result.result && answer.result.result.value;
    if (typeof value !== 'string') continue;
    const url = String(info.url || info.title || 'thread');
    const thread = url.includes('workflow-worker-thread') ? 'workflow thread' : url.includes('line-worker') ? 'tokenizer thread' : url.split('/').pop();
    result.push({ thread, ...JSON.parse(value) });
  }
  return result;
}
function vmRss() {
  return Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
}
/** As the worker runs (no collection forced), then after a full garbage collection in every thread. */
async function measure() {
  const cpu = process.cpuUsage();
  const running = { rss: vmRss(), mappings: mappings(), threads: await threadStats(false) };
  const threadsAfterGc = await threadStats(true);
  return { cpuSeconds: (cpu.user + cpu.system) / 1e6, running, collected: { rss: vmRss(), mappings: mappings(), threads: threadsAfterGc } };
}
${SERVE_BENCH_WORKER}
serveBenchWorker(${JSON.stringify(DIST)}, {
  logLevel: 'error',
  // The threads' heap snapshots (--snapshots) do not finish while the inspector is attached to them.
  beforeConnect: (cfg) => (cfg.snapshots ? Promise.resolve() : post('NodeWorker.enable', { waitForDebuggerOnStart: false })),
  onMessage: (m) => {
    const fail = (err) => process.send({ type: 'error', message: String(err && err.stack || err) });
    if (m.type === 'snapshot') writeWorkflowThreadSnapshots((i) => m.path + '-' + i + '.heapsnapshot').then((paths) => process.send({ type: 'snapshot', paths }), fail);
    if (m.type === 'measure') measure().then((memory) => process.send({ type: 'memory', memory }), fail);
  },
});
`;

/** The worker's memory as it runs, and after a full garbage collection in every thread (what is live). */
interface Measurement {
  /** The worker process's CPU time so far (all its threads), read before the measurement's own work. */
  cpuSeconds: number;
  running: ProcessMemory;
  collected: ProcessMemory;
}

type ChildMessage = { type: 'ready' } | { type: 'error'; message: string } | { type: 'memory'; memory: Measurement } | { type: 'snapshot'; paths: string[] };

interface Options {
  steps: number[];
  maxCached: number | undefined;
  nodeFlags: string[];
  workerEnv: Record<string, string>;
  pollSeconds: number;
  settleSeconds: number;
  /** Measurements after the last step, `holdEverySeconds` apart: does what a run holds grow while it stays open? */
  hold: number;
  holdEverySeconds: number;
  /** Where to write a heap snapshot of the workflow thread after each measurement (bench/heap-diff.ts compares two). */
  snapshots: string | undefined;
  build: boolean;
}

function usage(message: string): never {
  console.error(`${message}\nusage: npx tsx bench/open-runs.ts [--steps 100,200] [--max-cached N] [--node-flags "FLAGS"] [--worker-env NAME=VALUE ...] [--poll-seconds 15] [--settle-seconds 20] [--hold N [--hold-every 60]] [--snapshots DIR] [--no-build]`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { steps: [100, 200], maxCached: undefined, nodeFlags: [], workerEnv: {}, pollSeconds: 15, settleSeconds: 20, hold: 0, holdEverySeconds: 60, snapshots: undefined, build: true };
  const positive = (i: number): number => {
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v <= 0) usage(`${argv[i]} needs a positive number`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    switch (argv[i]) {
      case '--steps': {
        opts.steps = (argv[++i] ?? '').split(',').map(Number);
        if (opts.steps.some((n, k) => !Number.isInteger(n) || n <= 0 || (k > 0 && n <= opts.steps[k - 1]!))) usage('--steps is increasing run counts, e.g. 100,200');
        break;
      }
      case '--max-cached': opts.maxCached = Math.floor(positive(i)); i++; break;
      case '--node-flags': opts.nodeFlags = (argv[++i] ?? usage('--node-flags needs flags')).split(/\s+/).filter(Boolean); break;
      case '--worker-env': {
        const [name, ...value] = (argv[++i] ?? '').split('=');
        if (!name || value.length === 0) usage('--worker-env is NAME=VALUE');
        opts.workerEnv[name] = value.join('=');
        break;
      }
      case '--poll-seconds': opts.pollSeconds = positive(i); i++; break;
      case '--settle-seconds': opts.settleSeconds = positive(i); i++; break;
      case '--hold': opts.hold = Math.floor(positive(i)); i++; break;
      case '--hold-every': opts.holdEverySeconds = positive(i); i++; break;
      case '--snapshots': opts.snapshots = argv[++i] ?? usage('--snapshots needs a directory'); break;
      case '--no-build': opts.build = false; break;
      default: usage(`unknown argument ${argv[i]}`);
    }
  }
  return opts;
}

const load = (): string => `load ${loadavg().map((l) => l.toFixed(1)).join(' / ')}`;
const mib = (bytes: number): string => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;

/** Sends the child a request and resolves with its answer of type `answer`. */
function ask<T extends ChildMessage['type']>(worker: ChildProcess, request: object, answer: T): Promise<Extract<ChildMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: ChildMessage): void => {
      if (m.type !== answer && m.type !== 'error') return;
      worker.off('message', onMessage);
      if (m.type === 'error') reject(new Error(`worker child: ${m.message}`));
      else resolve(m as Extract<ChildMessage, { type: T }>);
    };
    worker.on('message', onMessage);
    worker.send(request);
  });
}

async function measure(worker: ChildProcess): Promise<Measurement> {
  return (await ask(worker, { type: 'measure' }, 'memory')).memory;
}

/** Per thread kind (tokenizer threads summed): committed and used V8 heap, and the young generation's committed part. */
function byThread(memory: ProcessMemory): Map<string, { committed: number; used: number; young: number; external: number; count: number }> {
  const out = new Map<string, { committed: number; used: number; young: number; external: number; count: number }>();
  for (const t of memory.threads) {
    const entry = out.get(t.thread) ?? { committed: 0, used: 0, young: 0, external: 0, count: 0 };
    entry.committed += t.heapTotal;
    entry.used += t.heapUsed;
    entry.young += t.spaces.filter((s) => s.name === 'new_space' || s.name === 'new_large_object_space').reduce((a, s) => a + s.committed, 0);
    entry.external += t.external;
    entry.count += 1;
    out.set(t.thread, entry);
  }
  return out;
}

function report(label: string, { running, collected: memory }: Measurement): void {
  const young = (m: ProcessMemory): string => m.threads.map((t) => `${t.thread} ${mib(t.heapTotal)} (young ${mib(t.spaces.filter((s) => s.name.startsWith('new')).reduce((a, s) => a + s.committed, 0))})`).join(', ');
  console.log(`\n### ${label}: VmRSS ${mib(running.rss)} as it runs (V8 committed: ${young(running)}); ${mib(memory.rss)} after a full GC in every thread`);
  console.log('  smaps Rss by mapping:');
  for (const [kind, bytes] of Object.entries(memory.mappings).sort((a, b) => b[1] - a[1])) if (bytes >= 1024 ** 2) console.log(`    ${mib(bytes).padStart(11)}  ${kind}`);
  console.log('  V8 heaps (after a full GC in each thread): committed / used, young generation committed, external:');
  for (const t of memory.threads) {
    const spaces = t.spaces.map((s) => `${s.name.replace('_space', '')} ${mib(s.committed)}/${mib(s.used)}`).join(', ');
    console.log(`    ${t.thread.padEnd(16)} ${mib(t.heapTotal)} / ${mib(t.heapUsed)}, external ${mib(t.external)} (array buffers ${mib(t.arrayBuffers)}), V8 malloc ${mib(t.mallocedMemory)}; async context stack ${t.asyncStack} (resources ${t.asyncResources}); ${spaces}`);
  }
}

function delta(label: string, fromBoth: Measurement, toBoth: Measurement, runs: number): void {
  const from = fromBoth.collected;
  const to = toBoth.collected;
  const per = (bytes: number): string => kib(bytes / runs).padStart(8);
  const a = byThread(from);
  const b = byThread(to);
  const heapUsed = (m: ProcessMemory): number => m.threads.reduce((s, t) => s + t.heapUsed, 0);
  const heapCommitted = (m: ProcessMemory): number => m.threads.reduce((s, t) => s + t.heapTotal, 0);
  const external = (m: ProcessMemory): number => m.threads.reduce((s, t) => s + t.external, 0);
  const rssPerRun = (to.rss - from.rss) / runs;
  const heapPerRun = (heapUsed(to) - heapUsed(from)) / runs;
  console.log(`\n## ${label} (${runs} more open runs)`);
  const runningPerRun = (toBoth.running.rss - fromBoth.running.rss) / runs;
  console.log(`RSS per open run:     ${kib(rssPerRun)} after a full GC, ${kib(runningPerRun)} as it runs   target <= 1 MB: ${Math.max(rssPerRun, runningPerRun) <= TARGET_BYTES_PER_OPEN_RUN ? 'MET' : 'MISSED'}`);
  console.log(`worker CPU: ${(toBoth.cpuSeconds - fromBoth.cpuSeconds).toFixed(1)} CPU-s, ${((toBoth.cpuSeconds - fromBoth.cpuSeconds) / runs).toFixed(3)} per run (${load()})`);
  console.log(`V8 heap per open run: ${kib(heapPerRun)} used, ${kib((heapCommitted(to) - heapCommitted(from)) / runs)} committed, external ${kib((external(to) - external(from)) / runs)} (all threads)`);
  for (const [thread, after] of b) {
    const before = a.get(thread) ?? { committed: 0, used: 0, young: 0, external: 0, count: 0 };
    console.log(`  ${thread.padEnd(16)} used ${per(after.used - before.used)}, committed ${per(after.committed - before.committed)} (young generation ${per(after.young - before.young)}), external ${per(after.external - before.external)}${after.count !== before.count ? ` (threads ${before.count} -> ${after.count})` : ''}`);
  }
  const kinds = new Set([...Object.keys(from.mappings), ...Object.keys(to.mappings)]);
  console.log('  RSS by mapping, per open run:');
  for (const kind of [...kinds].sort((x, y) => (to.mappings[y] ?? 0) - (from.mappings[y] ?? 0) - ((to.mappings[x] ?? 0) - (from.mappings[x] ?? 0)))) {
    const grown = (to.mappings[kind] ?? 0) - (from.mappings[kind] ?? 0);
    if (Math.abs(grown) >= 256 * 1024) console.log(`    ${per(grown)}  ${kind}`);
  }
  const anon = (m: ProcessMemory): number => m.mappings['anonymous: other (V8 heap pages, large mallocs, stacks)'] ?? 0;
  console.log(`  anonymous non-arena RSS beyond the V8 heaps' committed growth: ${per(anon(to) - anon(from) - (heapCommitted(to) - heapCommitted(from)))} (native buffers, mmapped mallocs, stacks)`);
}

function uniqueTrainingFile(dir: string, index: number): string {
  const unique = JSON.stringify({ messages: [{ role: 'user', content: `Ticket ${randomUUID()}: is my bike ready?` }, { role: 'assistant', content: 'Yes, it is ready for pick-up.' }] });
  const path = join(dir, `train-${index}.jsonl`);
  writeFileSync(path, `${readFileSync(SAMPLE_TRAINING, 'utf8')}${unique}\n`);
  return path;
}

/**
 * Waits until every open run of the bench is in `train`, or, on a loaded machine where a few runs lag (workflow tasks
 * timing out and retried), until at least 95% are and that count has not grown for 90 s.
 */
async function untilTraining(count: () => Promise<{ open: number; training: number }>, timeoutMs: number): Promise<{ open: number; training: number }> {
  const deadline = Date.now() + timeoutMs;
  let best = -1;
  let bestAt = Date.now();
  for (;;) {
    const now = await count();
    if (now.training > best) {
      best = now.training;
      bestAt = Date.now();
    }
    if (now.open > 0 && now.training >= now.open) return now;
    if (now.training >= 0.95 * now.open && Date.now() - bestAt > 90_000) return now;
    if (Date.now() > deadline) throw new Error(`runs in train: ${now.training} of ${now.open} after ${timeoutMs / 1000} s`);
    await sleep(2_000);
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  console.log(`machine: ${cpus().length} CPUs, ${(totalmem() / 1024 ** 3).toFixed(1)} GB RAM, Node ${process.version} (${load()})`);
  if (opts.build) {
    console.log('building (npm run build) ...');
    if (spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' }).status !== 0) throw new Error('npm run build failed');
  }
  const stack = await startLocalServices({ emulator: { clockScale: 20, timings: { stepBaseSeconds: ENDLESS_STEP_SECONDS } } });
  const dataDir = mkdtempSync(join(tmpdir(), 'ftpipe-open-runs-'));
  let worker: ChildProcess | undefined;
  try {
    const taskQueue = `open-runs-${randomUUID().slice(0, 8)}`;
    const ftpipe = new FtpipeClient(stack.client, { taskQueue });
    const profiles = stack.profiles.map((p) => (p.name === EMULATOR_PROFILE ? { ...p, limits: HIGH_LIMITS } : p));
    const tuning = opts.maxCached ? { maxCachedWorkflows: opts.maxCached, maxConcurrentWorkflowTaskExecutions: Math.min(opts.maxCached, 100) } : {};
    // The worker's process settings, as `ftpipe worker` gives itself (workers/launcher.ts), then --worker-env's changes.
    const workerEnv = workerProcessEnv(process.env);
    for (const [name, value] of Object.entries(opts.workerEnv)) {
      if (value === '') delete workerEnv[name];
      else workerEnv[name] = value;
    }
    const settings = Object.fromEntries([...Object.keys(WORKER_PROCESS_ENV), ...Object.keys(opts.workerEnv)].map((name) => [name, workerEnv[name] ?? null]));
    console.log(`worker: ftpipe's defaults${opts.maxCached ? ` but maxCachedWorkflows ${opts.maxCached}` : ' (the SDK\'s default workflow cache)'}; node ${opts.nodeFlags.join(' ') || '(no flags)'}; env ${JSON.stringify(settings)}; polls every ${opts.pollSeconds} s; the job's steps last ${ENDLESS_STEP_SECONDS} emulated s`);
    const child = spawn(process.execPath, [...opts.nodeFlags, '-e', WORKER_CHILD], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: workerEnv });
    worker = child;
    await new Promise<void>((resolve, reject) => {
      child.once('message', (m: ChildMessage) => (m.type === 'error' ? reject(new Error(`worker child: ${m.message}`)) : resolve()));
      child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
      child.send({ address: stack.server.address, namespace: stack.server.namespace, taskQueue, config: { profiles, dataRoots: [dataDir] }, env: stack.credentials, tuning, snapshots: Boolean(opts.snapshots) });
    });
    await sleep(opts.settleSeconds * 1000);
    const idle = await measure(child);
    report(`idle (worker started, no run; ${load()})`, idle);
    const polling = { queuedIntervalSeconds: opts.pollSeconds, runningIntervalSeconds: opts.pollSeconds, nearFinishIntervalSeconds: opts.pollSeconds, fileIntervalSeconds: 1 };
    const runsOf = `TaskQueue = '${taskQueue}' AND WorkflowType = '${PIPELINE_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
    const openRuns = async (): Promise<{ open: number; training: number }> => ({
      open: (await stack.client.workflow.count(runsOf)).count,
      training: (await stack.client.workflow.count(`${runsOf} AND FtpipeStage = 'train'`)).count,
    });
    const snapshot = async (name: string): Promise<void> => {
      if (!opts.snapshots) return;
      mkdirSync(opts.snapshots, { recursive: true });
      const { paths } = await ask(child, { type: 'snapshot', path: join(opts.snapshots, `workflows-${name}`) }, 'snapshot');
      console.log(`  workflow threads' heap snapshots: ${paths.join(', ')}`);
    };
    await snapshot('idle');
    let started = 0;
    let previous = { runs: 0, memory: idle };
    const samples: { runs: number; memory: Measurement }[] = [];
    for (const step of opts.steps) {
      const t0 = Date.now();
      const inputs: PipelineInputDraft[] = Array.from({ length: step - started }, (_, k) => ({
        runName: `open-${started + k}-${randomUUID().slice(0, 6)}`,
        profile: EMULATOR_PROFILE,
        baseModel: 'gpt-4.1-mini',
        training: { path: uniqueTrainingFile(dataDir, started + k) },
        seed: started + k,
        polling,
      }));
      await Promise.all(inputs.map((input) => ftpipe.startPipeline(input)));
      started = step;
      const reached = await untilTraining(openRuns, 30 * 60_000);
      console.log(`\n${reached.training} of ${reached.open} open runs in train after ${((Date.now() - t0) / 1000).toFixed(0)} s (${load()}); settling ${opts.settleSeconds} s`);
      await sleep(opts.settleSeconds * 1000);
      const memory = await measure(child);
      const { open, training } = await openRuns();
      report(`${open} runs open, ${training} of them in train (${load()})`, memory);
      delta(`from ${previous.runs} to ${open} open runs`, previous.memory, memory, open - previous.runs);
      samples.push({ runs: open, memory });
      previous = { runs: open, memory };
      await snapshot(`${open}-runs`);
    }
    for (let k = 1; k <= opts.hold; k++) {
      await sleep(opts.holdEverySeconds * 1000);
      const memory = await measure(child);
      const { open } = await openRuns();
      const heapUsed = (m: ProcessMemory): number => m.threads.reduce((sum, t) => sum + t.heapUsed, 0);
      const first = samples[samples.length - 1]!.memory;
      const at = `${k * opts.holdEverySeconds} s later`;
      report(`${open} runs open, ${at} (${load()})`, memory);
      console.log(`  since the last step: RSS ${kib((memory.collected.rss - first.collected.rss) / open)} per open run after a full GC (${kib((memory.running.rss - first.running.rss) / open)} as it runs), V8 heap used ${kib((heapUsed(memory.collected) - heapUsed(first.collected)) / open)} per open run`);
      await snapshot(`${open}-runs-hold-${k}`);
    }
    const last = samples[samples.length - 1];
    if (last && samples.length > 1) delta(`from idle to ${last.runs} open runs (includes what the first runs start once per process)`, idle, last.memory, last.runs);
  } finally {
    if (worker && worker.exitCode === null) {
      const exited = new Promise<void>((resolve) => worker!.once('exit', () => resolve()));
      if (worker.connected) worker.send({ type: 'stop' });
      const timer = setTimeout(() => worker!.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(`done (${load()})`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
