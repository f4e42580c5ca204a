/**
 * Pipeline benchmark: the real Temporal dev server (headless, in-memory), ftpipe's Azure emulator on a fast clock in
 * this process, and ONE ftpipe worker in a child process (so that its peak RSS, VmHWM, is measured alone). The worker
 * runs the built code (`npm run build`: dist/ and its workflow bundle) on plain `node`, as `ftpipe worker` does.
 *
 * Throughput (default): N runs (`--runs`, 100) started at once through the typed client; prints runs/s, overhead
 * beyond emulated training, worker peak RSS, memory per open run, Azure calls per run by route, and history length
 * per execution and per run chain (continue-as-new), each with the machine's load average.
 *   memory per open run = (worker RSS when the most runs were open at once - RSS idle after start) / those runs,
 *   sampled every 5 s (RSS also holds what activities allocated before; V8 returns memory late, so this is an upper bound)
 *   overhead = wall time of the run (first execution's start to the last execution's close, server clock)
 *              - (job.finished_at - job.created_at) / clockScale   (the job's emulated life, in real seconds)
 * so it counts validation, upload, file processing, job creation, poll granularity, collection and queueing in Temporal.
 * It also prints the CPU floor of the load: the worker's and the dev server's CPU-seconds per run, times the runs, over
 * the machine's cores; for a burst, the CPU used until 95% of the jobs existed, which on every core is already a floor
 * of the p95 run's overhead (see cpuFloor).
 *
 * `--start-over S` (steady arrival): the runs start evenly spread over S seconds instead of all at once, with
 * `--job-seconds J` (each job trains about J real seconds) and `--running-poll-seconds R` (the poll interval while a
 * job trains until its ETA is near; `--poll-seconds` stays the near-finish, queued and file interval): with J > S all
 * N runs are open at once, as for users whose runs start over the day, and the overhead is what ftpipe and Temporal
 * add to each run rather than a queue for CPU; the bench prints the CPU that arrival rate offers against the cores.
 *
 * `--limits azure` (default): the emulator profile has Azure's default per-resource limits (3 running + 20 queued jobs,
 * 100 files), so beyond 23 runs the overhead mostly measures runs waiting in the admission queue for Azure's slots.
 * `--limits high`: the profile's limits are raised (HIGH_LIMITS: as if Azure had granted a quota increase), so no run
 * waits for a slot and the overhead is ftpipe's and Temporal's own. The output says which.
 * `--heap DIR`: the worker's V8 heaps, measured from heap snapshots (a snapshot holds the live objects only: V8
 * collects garbage before writing one) of its main thread (activities) and of the SDK's workflow thread (the cached
 * executions), written to DIR idle and `--snapshot-after` seconds (60) after the start: heap per open run in each
 * thread, and the rest of the RSS growth (the SDK's Rust core: run state machines, buffered history; native buffers).
 * `npx tsx bench/heap-diff.ts DIR/idle-workflows.heapsnapshot DIR/open-workflows.heapsnapshot --per N` breaks the
 * growth down by object kind. Writing a snapshot pauses the thread for seconds: the runs' timings include that.
 *
 * `--long`: one run whose job trains for 24 emulated hours, polled as a real run is (one poll per 60 emulated
 * seconds): poll interval `--long-poll-seconds` real (1) at clock scale 60/interval (60), so 24 h take 24 real minutes.
 * Workflow timers are real seconds, and the dev server fires sub-second timers only after about a second, so an
 * interval below 1 s makes fewer polls than a real job would. Prints polls, executions in the continue-as-new chain,
 * history per execution, total events, the delay from the job's finished_at to the `collect` stage, and where a poll
 * cycle's time goes (from history timestamps).
 *
 * Run: npx tsx bench/pipelines.ts [--runs 100] [--limits azure|high] [--start-over S [--job-seconds J] [--running-poll-seconds R]] [--heap DIR] [--clock-scale 20] [--poll-seconds 5] [--max-activities 8] [--sticky-timeout S] [--non-sticky-ratio R] [--long] [--no-build]
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client, Connection } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { FtpipeClient, type PipelineHandle, type PipelineResult } from '../src/client';
import type { WorkerConfig } from '../src/config/worker-config';
import type { DevServer } from '../src/devserver/dev-server';
import type { RunningEmulator } from '../src/emulator';
import type { Timings } from '../src/emulator/config';
import type { ResourceLimits } from '../src/admission/limits';
import type { PipelineInputDraft } from '../src/pipeline/input';
import { EMULATOR_PROFILE } from '../src/stack/emulator-profiles';
import { startLocalServices } from '../src/stack/local-stack';
import { ADMISSION_WORKFLOW_TYPE } from '../workflows/messages';
import { liveBytes } from './heap-diff';
import { workerProcessEnv } from '../workers/launcher';
import { SERVE_BENCH_WORKER, WORKFLOW_CONTEXT_CALLS, WORKFLOW_THREAD_SNAPSHOTS } from './worker-child';

const ROOT = join(__dirname, '..');
const DIST = join(ROOT, 'dist');
const SAMPLE_TRAINING = join(ROOT, 'examples', 'data', 'bike-shop-train.jsonl');
/** Issue 13's targets at 500 concurrent runs on one worker with default settings. */
const TARGET_OVERHEAD_P95_SECONDS = 15;
const TARGET_RSS_BYTES = 1024 ** 3;
const TARGET_BYTES_PER_OPEN_RUN = 1024 ** 2;
/** A realistic Azure poll: once a minute while training. */
const REALISTIC_RUNNING_POLL_SECONDS = 60;
const REALISTIC_QUEUED_POLL_SECONDS = 300;
const LONG_TRAINING_SECONDS = 24 * 3600;
/**
 * `--limits high`: per-resource limits no bench run reaches (the schema's maxima for jobs; files and bytes far above
 * what 1,000 runs upload), as a resource with a raised quota has them: no run waits in the admission queue.
 */
const HIGH_LIMITS: ResourceLimits = { runningJobs: 1000, queuedJobs: 1000, files: 100_000, fileBytes: 1024 ** 4, fineTunedDeployments: 1000, holderCheckSeconds: 60, quotaRetrySeconds: 60 };

/** Worker options the bench may set; each one left out keeps `ftpipe worker`'s default (the worker prints them all). */
interface WorkerTuning {
  maxConcurrentActivityTaskExecutions?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
  maxCachedWorkflows?: number;
  maxConcurrentValidations?: number;
  workflowThreads?: number;
  /** Milliseconds (the SDK's Duration). */
  stickyQueueScheduleToStartTimeout?: number;
  nonStickyToStickyPollRatio?: number;
  /** `--no-workflow-stack-traces`: false, as `ftpipe worker --workflow-stack-traces off` (workers/stack-traces.ts). */
  workflowStackTraces?: boolean;
}

interface WorkerChildConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  config: WorkerConfig;
  env: Record<string, string>;
  tuning: WorkerTuning;
}

/** `--heap`: where the worker child wrote its threads' heap snapshots, and its RSS when it had. */
interface HeapSnapshots {
  main: string;
  workflows: string[];
  rss: number;
}

type ChildMessage = { type: 'ready'; settings: string } | { type: 'error'; message: string } | ({ type: 'snapshots' } & HeapSnapshots);

// ---------------------------------------------------------------- worker child

/** The worker child (bench/worker-child.ts), with heap snapshots of its threads and the settings it runs with. */
const WORKER_CHILD = `
${WORKFLOW_THREAD_SNAPSHOTS}
${WORKFLOW_CONTEXT_CALLS}
async function writeSnapshots(prefix) {
  const main = require('node:v8').writeHeapSnapshot(prefix + '-main.heapsnapshot');
  const workflows = await writeWorkflowThreadSnapshots((i) => prefix + '-workflows' + (i ? '-' + i : '') + '.heapsnapshot');
  return { main, workflows, rss: process.memoryUsage().rss };
}
// Warnings (e.g. TMPRL1104, slow workflow tasks) are shown: they explain slow runs. FTPIPE_BENCH_LOG=error hides them.
${SERVE_BENCH_WORKER}
serveBenchWorker(${JSON.stringify(DIST)}, {
  logLevel: 'warn',
  onMessage: (m) => {
    if (m.type === 'snapshots') writeSnapshots(m.prefix).then((written) => process.send({ type: 'snapshots', ...written }));
  },
  // The settings the SDK compiled, defaults included: what the figures were measured with.
  readyDetails: (worker) => {
    const slots = (o) => Object.fromEntries(Object.entries(o.tuner).map(([k, v]) => [k.replace(/SlotSupplier$/, ''), v && (v.numSlots ?? v.type)]));
    const polls = (b) => b.type === 'simple-maximum' ? b.maximum : b.type + ' ' + b.minimum + '-' + b.maximum;
    const m = worker.main.options;
    return {
      settings: JSON.stringify({
        slots: slots(m), maxCachedWorkflows: m.maxCachedWorkflows, workflowTaskPollers: polls(m.workflowTaskPollerBehavior),
        activityTaskPollers: polls(m.activityTaskPollerBehavior), nonStickyToStickyPollRatio: m.nonStickyToStickyPollRatio,
        validationSlots: worker.validation.options.tuner.activityTaskSlotSupplier.numSlots,
        workflowThreads: m.workflowThreadPoolSize, isolateExecutionTimeoutMs: m.isolateExecutionTimeoutMs, stickyQueueScheduleToStartTimeoutMs: m.stickyQueueScheduleToStartTimeoutMs,
        maxEagerActivityReservationsPerWorkflowTask: m.maxEagerActivityReservationsPerWorkflowTask,
        heapLimitMiB: Math.round(require('node:v8').getHeapStatistics().heap_size_limit / 1048576),
      }),
    };
  },
});
`;

// ---------------------------------------------------------------- helpers

interface Options {
  runs: number;
  clockScale: number;
  pollSeconds: number;
  long: boolean;
  longPollSeconds: number;
  timeoutMinutes: number;
  build: boolean;
  limits: 'azure' | 'high';
  /** `--heap`: where the heap snapshots go. */
  heap: string | undefined;
  snapshotAfterSeconds: number;
  tuning: WorkerTuning;
  cpuProfileDir: string | undefined;
  /** The dev server's gRPC port, the emulator's two and the server's HTTP and metrics ports after it (`--base-port`); free ones when omitted. */
  basePort: number | undefined;
  /** `--start-over S`: the runs' starts spread evenly over S seconds (steady arrival); 0 = all at once (a burst). */
  startOverSeconds: number;
  /** `--job-seconds J`: each job trains for about J real seconds (else the emulator's default job, ~122 s at x20). */
  jobSeconds: number | undefined;
  /** `--running-poll-seconds R`: the poll interval while a job trains, until its ETA is near (else `--poll-seconds`). */
  runningPollSeconds: number | undefined;
  /** `--no-activation-timeout` (an experiment, bench/worker-child.ts WORKFLOW_CONTEXT_CALLS): calls into the workflow context without the SDK's timeout. */
  activationTimeout: boolean;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    runs: 100,
    clockScale: 20,
    pollSeconds: 5,
    long: false,
    longPollSeconds: 1,
    timeoutMinutes: argv.includes('--long') ? 45 : 20,
    build: true,
    limits: 'azure',
    heap: undefined,
    snapshotAfterSeconds: 60,
    cpuProfileDir: undefined,
    basePort: undefined,
    startOverSeconds: 0,
    jobSeconds: undefined,
    runningPollSeconds: undefined,
    activationTimeout: true,
    // `ftpipe worker`'s defaults unless a flag sets one (the first measurements used 8 activity slots, 100 workflow-task
    // slots and a cache of 1,000: `--max-activities 8 --max-workflow-tasks 100 --max-cached 1000`).
    tuning: {},
  };
  const num = (i: number): number => {
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v <= 0) usage(`${argv[i]} needs a positive number`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    switch (argv[i]) {
      case '--runs': opts.runs = Math.floor(num(i)); i++; break;
      case '--clock-scale': opts.clockScale = num(i); i++; break;
      case '--poll-seconds': opts.pollSeconds = num(i); i++; break;
      case '--long': opts.long = true; break;
      case '--no-build': opts.build = false; break;
      case '--heap': opts.heap = argv[++i] ?? usage('--heap needs a directory'); break;
      case '--snapshot-after': opts.snapshotAfterSeconds = num(i); i++; break;
      case '--limits': {
        const v = argv[++i];
        if (v !== 'azure' && v !== 'high') usage('--limits is azure or high');
        opts.limits = v;
        break;
      }
      case '--long-poll-seconds': opts.longPollSeconds = num(i); i++; break;
      case '--timeout-minutes': opts.timeoutMinutes = num(i); i++; break;
      case '--max-activities': opts.tuning.maxConcurrentActivityTaskExecutions = Math.floor(num(i)); i++; break;
      case '--max-workflow-tasks': opts.tuning.maxConcurrentWorkflowTaskExecutions = Math.floor(num(i)); i++; break;
      case '--max-cached': opts.tuning.maxCachedWorkflows = Math.floor(num(i)); i++; break;
      case '--cpu-prof': opts.cpuProfileDir = argv[++i] ?? usage('--cpu-prof needs a directory'); break;
      case '--base-port': opts.basePort = Math.floor(num(i)); i++; break;
      case '--no-workflow-stack-traces': opts.tuning.workflowStackTraces = false; break;
      case '--no-activation-timeout': opts.activationTimeout = false; break;
      case '--workflow-threads': opts.tuning.workflowThreads = Math.floor(num(i)); i++; break;
      case '--max-validations': opts.tuning.maxConcurrentValidations = Math.floor(num(i)); i++; break;
      case '--sticky-timeout': opts.tuning.stickyQueueScheduleToStartTimeout = Math.round(num(i) * 1000); i++; break;
      case '--non-sticky-ratio': opts.tuning.nonStickyToStickyPollRatio = num(i); i++; break;
      case '--start-over': opts.startOverSeconds = num(i); i++; break;
      case '--job-seconds': opts.jobSeconds = num(i); i++; break;
      case '--running-poll-seconds': opts.runningPollSeconds = num(i); i++; break;
      default: usage(`unknown argument ${argv[i]}`);
    }
  }
  // Off, the worker starts its workflow threads from workers/stack-traces.ts's entry, which the experiment's entry
  // (bench/worker-child.ts WORKFLOW_CONTEXT_CALLS) lets through untouched: the timeout would stay without a word.
  if (!opts.activationTimeout && opts.tuning.workflowStackTraces === false) usage('--no-activation-timeout works with workflow stack traces on only: leave out --no-workflow-stack-traces');
  return opts;
}

function usage(message: string): never {
  console.error(`${message}\nusage: npx tsx bench/pipelines.ts [--runs N] [--limits azure|high] [--heap DIR [--snapshot-after S]] [--clock-scale N] [--poll-seconds S] [--long [--long-poll-seconds S]] [--timeout-minutes M] [--max-activities N] [--max-workflow-tasks N] [--max-cached N] [--max-validations N] [--workflow-threads N] [--sticky-timeout S] [--non-sticky-ratio R] [--start-over S [--job-seconds J] [--running-poll-seconds R]] [--cpu-prof DIR] [--base-port P] [--no-workflow-stack-traces] [--no-activation-timeout] [--no-build]`);
  process.exit(2);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const mb = (bytes: number): string => `${(bytes / 1024 ** 2).toFixed(0)} MB`;
/** The load average (1, 5, 15 minutes): on a shared machine every figure is printed with it. */
const load = (): string => `load ${loadavg().map((l) => l.toFixed(1)).join(' / ')}`;
const verdict = (ok: boolean): string => (ok ? 'MET' : 'MISSED');

function vmHwmBytes(pid: number): number {
  return vmRssBytes(pid, 'VmHWM');
}

/** NaN once the process is gone (the worker crashed: the bench then says so and stops). */
function vmRssBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return NaN;
  }
  const line = status.split('\n').find((l) => l.startsWith(`${field}:`));
  return line ? Number(line.replace(/\D+/g, '')) * 1024 : NaN;
}

/** CPU seconds a process has used so far (user + system, from /proc/<pid>/stat; clock ticks of 1/100 s). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

interface CpuUsed {
  worker: number;
  server: number;
  bench: number;
}

/** CPU seconds of the worker, of the Temporal dev server and of this process (the emulator, the client, the bench). */
function cpuNow(stack: Stack): CpuUsed {
  const own = process.cpuUsage();
  return { worker: cpuSeconds(stack.worker.pid), server: cpuSeconds(stack.server.pid), bench: (own.user + own.system) / 1e6 };
}

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} CPUs (nproc), ${cpu}, ${(totalmem() / 1024 ** 3).toFixed(1)} GB RAM, Node ${process.version}`;
}

/** The code measured: the commit, and whether pipeline code had uncommitted changes (a shared tree moves). */
function codeVersion(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'workflows', 'activities', 'src', 'workers'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${commit} + uncommitted changes to ${dirty.split('\n').length} pipeline file(s)` : commit;
  } catch {
    return 'unknown (no git)';
  }
}

/** A dataset file of its own per run (the sample plus one unique example), so each run validates and uploads its data. */
function uniqueTrainingFile(dir: string, index: number): string {
  const unique = JSON.stringify({ messages: [{ role: 'user', content: `Ticket ${randomUUID()}: is my bike ready?` }, { role: 'assistant', content: 'Yes, it is ready for pick-up.' }] });
  const path = join(dir, `train-${index}.jsonl`);
  writeFileSync(path, `${readFileSync(SAMPLE_TRAINING, 'utf8')}${unique}\n`);
  return path;
}

/**
 * Emulator timings and hyperparameters for a job that trains for `emulatedSeconds` (Azure's validation and queue
 * aside): batch 1 and fixed epochs, so each run's file (the sample plus one example) is examples x epochs steps of
 * equal length, none costed by tokens.
 */
function fixedTraining(emulatedSeconds: number): { timings: Partial<Timings>; hyperparameters: { nEpochs: number; batchSize: number } } {
  const examples = readFileSync(SAMPLE_TRAINING, 'utf8').split('\n').filter((l) => l.trim()).length + 1;
  const epochs = 3;
  return { timings: { stepBaseSeconds: emulatedSeconds / (examples * epochs), stepSecondsPer1kTokens: 0 }, hyperparameters: { nEpochs: epochs, batchSize: 1 } };
}

interface Stack {
  server: DevServer;
  emulator: RunningEmulator;
  connection: Connection;
  client: Client;
  ftpipe: FtpipeClient;
  worker: ChildProcess;
  /** The worker's RSS a second after it started, before any run. */
  idleRss: number;
  /** Writes the heap snapshots of the worker's main and workflow threads to `<prefix>-main.heapsnapshot` and so on. */
  writeSnapshots(prefix: string): Promise<HeapSnapshots>;
  taskQueue: string;
  dataDir: string;
  stop(): Promise<void>;
}

interface StackOptions {
  clockScale: number;
  timings: Partial<Timings>;
  tuning: WorkerTuning;
  limits: Options['limits'];
  /** `--cpu-prof DIR`: the worker child writes V8 CPU profiles (main and workflow threads) there when it exits. */
  cpuProfileDir: string | undefined;
  /** False: `--no-activation-timeout`. */
  activationTimeout: boolean;
  /** The dev server's gRPC port, the emulator's two and the server's HTTP and metrics ports after it (`--base-port`); free ones when omitted. */
  basePort: number | undefined;
}

/** Counts of the worker's warnings that explain slow runs, read from its log lines as they are forwarded to stderr. */
const WORKER_WARNINGS = {
  TMPRL1104: /TMPRL1104/,
  'workflow task not found when completing (timed out first)': /Task not found when completing/,
  'failing workflow task': /Failing workflow task/,
  'activity not found on completion (timed out first)': /Activity not found on completion/,
} as const;
const warningCounts = new Map<string, number>(Object.keys(WORKER_WARNINGS).map((k) => [k, 0]));

function forwardWorkerLog(stream: NodeJS.ReadableStream): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    process.stderr.write(chunk);
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      for (const [name, pattern] of Object.entries(WORKER_WARNINGS)) if (pattern.test(line)) warningCounts.set(name, (warningCounts.get(name) ?? 0) + 1);
    }
  });
}

async function startStack({ clockScale, timings, tuning, limits, cpuProfileDir, activationTimeout, basePort }: StackOptions): Promise<Stack> {
  // The worker runs in a child process (its memory is measured on its own), so only the server, the emulator and the
  // client come from the local-stack builder here. With --base-port, fixed ports (two benches side by side on a shared
  // machine, each in its own range).
  const ports = basePort === undefined ? undefined : { server: { port: basePort, httpPort: basePort + 3, metricsPort: basePort + 4 }, emulator: { port: basePort + 1, armPort: basePort + 2 } };
  const stack = await startLocalServices({ emulator: { clockScale, timings, ...ports?.emulator }, ...(ports ? { server: ports.server } : {}) });
  const { server, connection, client } = stack;
  const emulator = stack.emulator!;
  const cleanups: (() => Promise<void>)[] = [() => stack.stop()];
  const stopAll = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err: unknown) => console.error(`cleanup: ${String(err)}`));
  };
  try {
    const taskQueue = `bench-${randomUUID().slice(0, 8)}`;
    const ftpipe = new FtpipeClient(client, { taskQueue });
    const dataDir = mkdtempSync(join(tmpdir(), 'ftpipe-bench-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));

    const { credentials: env } = stack;
    const profiles = limits === 'high' ? stack.profiles.map((p) => (p.name === EMULATOR_PROFILE ? { ...p, limits: HIGH_LIMITS } : p)) : stack.profiles;
    const nodeFlags = cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfileDir] : [];
    // The worker's process settings, as `ftpipe worker` gives itself (workers/launcher.ts).
    const worker = spawn(process.execPath, [...nodeFlags, '-e', WORKER_CHILD], { cwd: ROOT, stdio: ['ignore', 'inherit', 'pipe', 'ipc'], env: { ...workerProcessEnv(process.env), ...(activationTimeout ? {} : { FTPIPE_BENCH_ACTIVATION_TIMEOUT: 'off' }) } });
    forwardWorkerLog(worker.stderr!);
    cleanups.push(() => stopWorker(worker));
    const ready = new Promise<string>((resolve, reject) => {
      worker.once('message', (m: ChildMessage) => (m.type === 'error' ? reject(new Error(`worker child: ${m.message}`)) : resolve(m.type === 'ready' ? m.settings : '')));
      worker.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
    });
    const childConfig: WorkerChildConfig = { address: server.address, namespace: server.namespace, taskQueue, config: { profiles, dataRoots: [dataDir] }, env, tuning };
    worker.send(childConfig);
    const settings = await withTimeout(ready, 180_000, 'worker start');
    await sleep(1_000);
    const idleRss = vmRssBytes(worker.pid!, 'VmRSS');
    console.log(`worker ready (pid ${worker.pid}): RSS ${mb(idleRss)} idle (${load()})`);
    if (!activationTimeout) console.log('experiment: the workflow threads call into their workflow contexts without the SDK\'s isolateExecutionTimeout (no watchdog thread per call; an activation that never yields is never stopped)');
    console.log(`worker settings in effect (${Object.keys(tuning).length ? `set by the bench: ${JSON.stringify(tuning)}, the rest` : 'all'} ftpipe worker's defaults): ${settings}`);
    return { server, emulator, connection, client, ftpipe, worker, idleRss, writeSnapshots: (prefix) => heapSnapshots(worker, prefix), taskQueue, dataDir, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Asks the worker child for its threads' heap snapshots; resolves once written. */
function heapSnapshots(worker: ChildProcess, prefix: string): Promise<HeapSnapshots> {
  const written = new Promise<HeapSnapshots>((resolve) => {
    const onMessage = (m: ChildMessage): void => {
      if (m.type !== 'snapshots') return;
      worker.off('message', onMessage);
      resolve({ main: m.main, workflows: m.workflows, rss: m.rss });
    };
    worker.on('message', onMessage);
  });
  worker.send({ type: 'snapshots', prefix });
  return withTimeout(written, 600_000, 'heap snapshots');
}

async function stopWorker(worker: ChildProcess): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  if (worker.connected) worker.send({ type: 'stop' });
  const timer = setTimeout(() => worker.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

interface Execution {
  runId: string;
  historyLength: number;
  start: Date;
  close: Date | undefined;
}

/** Every execution of a workflow id (the continue-as-new chain), oldest first, from visibility. */
async function executionsOf(client: Client, workflowId: string): Promise<Execution[]> {
  const found: Execution[] = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    found.push({ runId: run.runId, historyLength: run.historyLength, start: run.startTime, close: run.closeTime });
  }
  return found.sort((a, b) => a.start.getTime() - b.start.getTime());
}

/** Counts the events of an execution from its history (visibility's historyLength can lag). */
async function historyEvents(client: Client, workflowId: string, runId: string): Promise<number> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return history.events?.length ?? 0;
}

type HistoryEvent = NonNullable<Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>['events']>[number];

function eventMs(event: HistoryEvent): number {
  return optionalTsToMs(event.eventTime) ?? NaN;
}

/** Seconds per task kind, split into waiting (scheduled -> started: for a slot or a poller) and work (started -> closed). */
class TaskTimings {
  readonly waits = new Map<string, number[]>();
  readonly works = new Map<string, number[]>();
  readonly attempts = new Map<string, number[]>();
  /** Workflow tasks after an execution's first that went to the normal queue (not sticky: the run had to be replayed), and timed-out tasks by kind. */
  readonly counts = new Map<string, number>();

  private count(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  private push(map: Map<string, number[]>, key: string, value: number): void {
    const values = map.get(key);
    if (values) values.push(value);
    else map.set(key, [value]);
  }

  /** Adds one execution's activity tasks (by activity type) and workflow tasks. */
  add(events: HistoryEvent[]): void {
    const scheduled = new Map<string, { kind: string; at: number }>();
    const started = new Map<string, number>();
    let taskScheduledAt = NaN;
    let taskStartedAt = NaN;
    for (const event of events) {
      const at = eventMs(event);
      const id = String(event.eventId);
      const activityScheduled = event.activityTaskScheduledEventAttributes;
      const activityStarted = event.activityTaskStartedEventAttributes;
      const closed = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes;
      if (activityScheduled) scheduled.set(id, { kind: `activity ${activityScheduled.activityType?.name ?? '?'}`, at });
      else if (activityStarted) {
        const of = scheduled.get(String(activityStarted.scheduledEventId));
        started.set(String(activityStarted.scheduledEventId), at);
        if (of) {
          this.push(this.waits, of.kind, (at - of.at) / 1000);
          this.push(this.attempts, of.kind, activityStarted.attempt ?? 1);
        }
      } else if (closed) {
        const key = String(closed.scheduledEventId);
        const of = scheduled.get(key);
        const startedAt = started.get(key);
        if (of && startedAt !== undefined) this.push(this.works, of.kind, (at - startedAt) / 1000);
      } else if (event.workflowTaskScheduledEventAttributes) {
        taskScheduledAt = at;
        // A later task on the normal queue: the worker no longer had the run cached, or the sticky task timed out.
        if (event.eventId?.toString() !== '2' && event.workflowTaskScheduledEventAttributes.taskQueue?.kind !== temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_STICKY) this.count('workflow tasks on the normal queue after the first');
      } else if (event.workflowTaskTimedOutEventAttributes) {
        // SCHEDULE_TO_START: a sticky task no poller of the worker took in time (it goes to the normal queue).
        const sticky = event.workflowTaskTimedOutEventAttributes.timeoutType === temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_SCHEDULE_TO_START;
        this.count(`workflow task timed out (${sticky ? 'schedule-to-start, sticky' : 'start-to-close'})`);
        if (!sticky) this.push(this.works, 'workflow task', (at - taskStartedAt) / 1000);
      } else if (event.workflowTaskStartedEventAttributes) {
        taskStartedAt = at;
        this.push(this.waits, 'workflow task', (at - taskScheduledAt) / 1000);
      } else if (event.workflowTaskCompletedEventAttributes || event.workflowTaskFailedEventAttributes) {
        if (event.workflowTaskFailedEventAttributes) this.count('workflow task failed');
        this.push(this.works, 'workflow task', (at - taskStartedAt) / 1000);
      }
    }
  }

  /** Workflow tasks a run's worker took (WorkflowTaskStarted) before its job existed (createFineTuningJob completed) and after. */
  readonly tasksPerRun = { beforeJob: [] as number[], afterJob: [] as number[] };

  /** Adds one run chain's workflow tasks before and after its job was created (every execution, oldest first). */
  addRun(histories: HistoryEvent[][]): void {
    let before = 0;
    let after = 0;
    let jobCreated = false;
    for (const events of histories) {
      const jobActivities = new Set<string>();
      for (const event of events) {
        if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'createFineTuningJob') jobActivities.add(String(event.eventId));
        else if (event.activityTaskCompletedEventAttributes && jobActivities.has(String(event.activityTaskCompletedEventAttributes.scheduledEventId))) jobCreated = true;
        else if (event.workflowTaskStartedEventAttributes) {
          if (jobCreated) after++;
          else before++;
        }
      }
    }
    this.tasksPerRun.beforeJob.push(before);
    this.tasksPerRun.afterJob.push(after);
  }

  /** Workflow tasks per run, before and after the job existed (mean, p50, p95). */
  perRunLine(): string {
    const fmt = (values: number[]): string => {
      const sorted = [...values].sort((a, b) => a - b);
      return `mean ${(values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)).toFixed(1)}, p50 ${percentile(sorted, 50)}, p95 ${percentile(sorted, 95)}`;
    };
    return `workflow tasks per run: before the job existed ${fmt(this.tasksPerRun.beforeJob)}; after (training polls, collect) ${fmt(this.tasksPerRun.afterJob)}`;
  }

  lines(): string[] {
    const fmt = (values: number[] | undefined): string => {
      if (!values?.length) return '-';
      const sorted = [...values].sort((a, b) => a - b);
      return `p50 ${percentile(sorted, 50).toFixed(2)} p95 ${percentile(sorted, 95).toFixed(2)} max ${percentile(sorted, 100).toFixed(2)}`;
    };
    const counts = [...this.counts].map(([name, n]) => `  ${name}: ${n}`);
    return [...counts, ...[...this.waits.keys()].sort().map((kind) => {
      const attempts = this.attempts.get(kind);
      const retried = attempts ? attempts.filter((a) => a > 1).length : 0;
      return `  ${kind.padEnd(34)} x${String(this.waits.get(kind)!.length).padEnd(6)} wait ${fmt(this.waits.get(kind))} | work ${fmt(this.works.get(kind))}${retried ? ` | ${retried} started on a later attempt` : ''}`;
    })];
  }
}

/**
 * The admission queues' workflow tasks (every execution of every queue on the bench's server): how long a queue's task
 * waited for the worker, which is how long a join or a release waited before the queue saw it.
 */
async function admissionTasks(client: Client): Promise<{ summary: string; timings: TaskTimings }> {
  const timings = new TaskTimings();
  const queues = new Set<string>();
  let executions = 0;
  let events = 0;
  for await (const run of client.workflow.list({ query: `WorkflowType = '${ADMISSION_WORKFLOW_TYPE}'` })) {
    const history = (await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory()).events ?? [];
    timings.add(history);
    queues.add(run.taskQueue);
    executions++;
    events += history.length;
  }
  return { summary: `${executions} execution(s), ${events} events, on task queue ${[...queues].join(', ') || '-'}`, timings };
}

/** Where a poll cycle's real time goes, from history timestamps: timers, activities, workflow tasks (mean ms). */
async function cycleBreakdown(client: Client, workflowId: string, runIds: string[]): Promise<string> {
  const sums = { timer: { total: 0, n: 0 }, activity: { total: 0, n: 0 }, workflowTask: { total: 0, n: 0 } };
  const add = (key: keyof typeof sums, ms: number): void => {
    sums[key].total += ms;
    sums[key].n += 1;
  };
  for (const runId of runIds) {
    const events = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    let timerAt = NaN;
    let activityAt = NaN;
    let taskAt = NaN;
    for (const event of events) {
      if (event.timerStartedEventAttributes) timerAt = eventMs(event);
      else if (event.timerFiredEventAttributes) add('timer', eventMs(event) - timerAt);
      else if (event.activityTaskScheduledEventAttributes) activityAt = eventMs(event);
      else if (event.activityTaskCompletedEventAttributes) add('activity', eventMs(event) - activityAt);
      else if (event.workflowTaskScheduledEventAttributes) taskAt = eventMs(event);
      else if (event.workflowTaskCompletedEventAttributes) add('workflowTask', eventMs(event) - taskAt);
    }
  }
  const mean = ({ total, n }: { total: number; n: number }): string => (n ? `${(total / n).toFixed(0)} ms x${n}` : '-');
  return `timer started->fired ${mean(sums.timer)}; activity scheduled->completed ${mean(sums.activity)}; workflow task scheduled->completed ${mean(sums.workflowTask)}`;
}

interface JobTimes {
  createdAt: number;
  finishedAt: number;
}

function jobTimes(emulator: RunningEmulator): Map<string, JobTimes> {
  const times = new Map<string, JobTimes>();
  for (const job of emulator.control.dumpState().jobs) {
    if (typeof job.id === 'string' && typeof job.created_at === 'number' && typeof job.finished_at === 'number') {
      times.set(job.id, { createdAt: job.created_at, finishedAt: job.finished_at });
    }
  }
  return times;
}

function routeBreakdown(emulator: RunningEmulator, runs: number): { total: number; byRoute: [string, number][] } {
  const counts = new Map<string, number>();
  for (const entry of emulator.control.requests()) {
    if (entry.route.startsWith('admin.')) continue;
    counts.set(entry.route, (counts.get(entry.route) ?? 0) + 1);
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return { total: total / runs, byRoute: [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([route, n]) => [route, n / runs]) };
}

// ---------------------------------------------------------------- throughput

/** `--heap`: what one open run holds in each of the worker's heaps, from snapshots idle and `afterSeconds` after `started`. */
async function heapPerOpenRun(stack: Stack, idle: HeapSnapshots, dir: string, started: number, afterSeconds: number): Promise<string[]> {
  await sleep(Math.max(0, started + afterSeconds * 1000 - Date.now()));
  const { count } = await stack.client.workflow.count(`TaskQueue = '${stack.taskQueue}' AND ExecutionStatus = 'Running'`);
  const at = ((Date.now() - started) / 1000).toFixed(0);
  const open = await stack.writeSnapshots(join(dir, 'open'));
  const state = load();
  const live = (paths: string[]): number => paths.reduce((sum, path) => sum + liveBytes(path), 0);
  const mainGrowth = live([open.main]) - live([idle.main]);
  const workflowGrowth = live(open.workflows) - live(idle.workflows);
  const rest = open.rss - idle.rss - mainGrowth - workflowGrowth;
  const kib = (bytes: number): string => `${(bytes / count / 1024).toFixed(0)} KiB`;
  return [
    `heap per open run (${count} open, snapshots ${at} s after the start, ${state}): workflow thread ${kib(workflowGrowth)}, main thread ${kib(mainGrowth)}, the rest of the RSS growth ${kib(rest)} (RSS ${mb(idle.rss)} idle, ${mb(open.rss)} then, both just after writing snapshots, which allocates: a rough figure)   V8 heaps <= 1 MB per open run: ${verdict((mainGrowth + workflowGrowth) / count <= TARGET_BYTES_PER_OPEN_RUN)}`,
    `  by object kind: npx tsx bench/heap-diff.ts ${idle.workflows[0] ?? '-'} ${open.workflows[0] ?? '-'} --per ${count}   (main thread: ${idle.main} ${open.main})`,
  ];
}

interface OpenRunsSample {
  runs: number;
  rss: number;
  atSeconds: number;
  load: string;
}

/**
 * Every 5 s, how many of the bench's runs are open (visibility) and the worker's RSS; keeps the last sample with the
 * most open at once, for the memory per open run (cached workflows; most wait for a slot or between polls).
 */
function sampleOpenRuns(stack: Stack): { stop(): OpenRunsSample } {
  const started = Date.now();
  let best: OpenRunsSample = { runs: 0, rss: 0, atSeconds: 0, load: '' };
  let pending = false;
  const timer = setInterval(() => {
    if (pending) return;
    pending = true;
    void stack.client.workflow
      .count(`TaskQueue = '${stack.taskQueue}' AND ExecutionStatus = 'Running'`)
      .then(({ count }) => {
        // The last sample with the most runs open: by then they wait in a stage (training, or for a slot), not in start-up.
        if (count < best.runs) return;
        best = { runs: count, rss: vmRssBytes(stack.worker.pid!, 'VmRSS'), atSeconds: (Date.now() - started) / 1000, load: load() };
      })
      .catch(() => undefined)
      .finally(() => { pending = false; });
  }, 5_000);
  return {
    stop: () => {
      clearInterval(timer);
      return best;
    },
  };
}

/**
 * The arithmetic of the CPU a load needs, from the CPU the worker and the dev server used per run: a burst of N runs
 * started at once is N x (worker + server CPU-s per run) of work for the machine's cores, so its last runs cannot close
 * sooner than that after the first start and the overhead's p95 cannot be below about the same; runs that arrive at a
 * steady rate offer (runs per second) x (CPU-s per run) cores, and only below the cores the machine gives the stack do
 * they not queue for CPU.
 */
function cpuFloor({ runs, startOverSeconds, seconds, used, beforeTraining }: { runs: number; startOverSeconds: number; seconds: number; used: CpuUsed; beforeTraining: { seconds: number; used: CpuUsed } | undefined }): string[] {
  const cores = availableParallelism();
  const perRun = (used.worker + used.server) / runs;
  const floor = (runs * perRun) / cores;
  const got = (used.worker + used.server + used.bench) / seconds;
  const lines = [
    `CPU floor: ${runs} runs x ${perRun.toFixed(3)} CPU-s per run (worker ${(used.worker / runs).toFixed(3)} + dev server ${(used.server / runs).toFixed(3)}) / ${cores} cores = ${floor.toFixed(1)} s of the machine's whole CPU; the stack (worker, server, emulator, client) got ${got.toFixed(2)} cores on average over ${seconds.toFixed(0)} s (${load()})`,
  ];
  if (startOverSeconds > 0) {
    const offered = (runs / startOverSeconds) * perRun;
    lines.push(`  steady arrival: ${(runs / startOverSeconds).toFixed(2)} runs/s x ${perRun.toFixed(3)} CPU-s = ${offered.toFixed(2)} cores offered of ${cores} (${((offered / cores) * 100).toFixed(0)}% of the machine, ${((offered / Math.max(got, 1e-9)) * 100).toFixed(0)}% of what the stack got): the runs queue for CPU only near or above 100%`);
  } else if (beforeTraining) {
    // The p95 run's job exists only once 95% of the runs have done their work before training (and the others
    // whatever they did meanwhile): that CPU on every core of the machine is a floor of the p95 run's overhead.
    const before = beforeTraining.used.worker + beforeTraining.used.server;
    const preFloor = before / cores;
    const perRunBefore = before / Math.ceil(0.95 * runs);
    const needed = (TARGET_OVERHEAD_P95_SECONDS * cores) / Math.ceil(0.95 * runs);
    lines.push(`  burst: 95% of the jobs existed ${beforeTraining.seconds.toFixed(0)} s after the first start, after ${before.toFixed(1)} CPU-s of worker + server (${perRunBefore.toFixed(3)} per run): on all ${cores} cores that alone is ${preFloor.toFixed(1)} s, a floor of overhead p95 for a burst of ${runs}; p95 <= ${TARGET_OVERHEAD_P95_SECONDS} s needs <= ${needed.toFixed(3)} CPU-s per run before training: ${preFloor <= TARGET_OVERHEAD_P95_SECONDS ? 'possible on an idle machine' : `CANNOT be met on ${cores} cores (${(perRunBefore / needed).toFixed(1)}x too much CPU per run)`}`);
  }
  return lines;
}

/**
 * The moment `count` jobs had been created (Azure's answer to the create, from the emulator's request log, checked
 * every second) and the CPU used by then; undefined if fewer were.
 */
function watchJobsCreated(stack: Stack, count: number): { stop(): { at: number; cpu: CpuUsed } | undefined } {
  let reached: { at: number; cpu: CpuUsed } | undefined;
  const timer = setInterval(() => {
    if (stack.emulator.control.requests({ route: 'jobs.create' }).filter((e) => e.status >= 200 && e.status < 300).length < count) return;
    reached = { at: Date.now(), cpu: cpuNow(stack) };
    clearInterval(timer);
  }, 1_000);
  return {
    stop: () => {
      clearInterval(timer);
      return reached;
    },
  };
}

async function throughput(opts: Options): Promise<void> {
  const { runs, clockScale, pollSeconds, startOverSeconds } = opts;
  const runningPollSeconds = opts.runningPollSeconds ?? pollSeconds;
  const steady = startOverSeconds > 0;
  console.log(steady
    ? `# steady arrival: ${runs} runs started evenly over ${startOverSeconds} s (one every ${(startOverSeconds / runs).toFixed(2)} s), clock x${clockScale}, poll ${runningPollSeconds} s real while a job trains and ${pollSeconds} s near its finish, queued and before it starts, worker ${JSON.stringify(opts.tuning)}`
    : `# throughput: ${runs} concurrent runs, clock x${clockScale}, poll ${pollSeconds} s real (${(pollSeconds * clockScale).toFixed(0)} emulated s), worker ${JSON.stringify(opts.tuning)}${opts.heap ? `, heap snapshots in ${opts.heap}` : ''}`);
  console.log(opts.limits === 'high'
    ? `limits: high (the emulator profile's limits raised to ${JSON.stringify(HIGH_LIMITS)}: no run waits for Azure's job or file slots; the overhead is ftpipe's and Temporal's own)`
    : 'limits: azure (the emulator profile has Azure\'s default per-resource limits, src/admission/limits.ts: 3 running + 20 queued jobs, 100 files; runs beyond them wait in the admission queue, and that wait is part of the overhead)');
  const job = opts.jobSeconds === undefined ? undefined : fixedTraining(opts.jobSeconds * clockScale);
  if (opts.jobSeconds !== undefined) console.log(`job: trains for ${opts.jobSeconds} s real (${(opts.jobSeconds * clockScale).toFixed(0)} emulated s; ${JSON.stringify(job?.hyperparameters)}), beside Azure's validation and queue (emulator defaults)`);
  const stack = await startStack({ clockScale, timings: job?.timings ?? {}, tuning: opts.tuning, limits: opts.limits, cpuProfileDir: opts.cpuProfileDir, activationTimeout: opts.activationTimeout, basePort: opts.basePort });
  const deadline = Date.now() + (opts.timeoutMinutes * 60 + startOverSeconds) * 1000;
  try {
    const polling = { queuedIntervalSeconds: pollSeconds, runningIntervalSeconds: runningPollSeconds, nearFinishIntervalSeconds: pollSeconds, fileIntervalSeconds: Math.max(0.1, pollSeconds / 4) };
    const inputs: PipelineInputDraft[] = Array.from({ length: runs }, (_, i) => ({
      runName: `bench-${i}-${randomUUID().slice(0, 6)}`,
      profile: EMULATOR_PROFILE,
      baseModel: 'gpt-4.1-mini',
      training: { path: uniqueTrainingFile(stack.dataDir, i) },
      ...(job ? { hyperparameters: job.hyperparameters } : {}),
      seed: i,
      polling,
    }));
    if (opts.heap) mkdirSync(opts.heap, { recursive: true });
    const idleHeap = opts.heap ? await stack.writeSnapshots(join(opts.heap, 'idle')) : undefined;
    const started = Date.now();
    const cpuAtStart = cpuNow(stack);
    let done = 0;
    let begun = 0;
    const progress = setInterval(() => console.log(`  ${steady ? `${begun} started, ` : ''}${done}/${runs} closed after ${((Date.now() - started) / 1000).toFixed(0)} s; worker RSS peak so far ${mb(vmHwmBytes(stack.worker.pid!))} (${load()})`), 15_000);
    const openRuns = sampleOpenRuns(stack);
    const jobsCreated = watchJobsCreated(stack, Math.ceil(0.95 * runs));
    // Steady arrival: run i starts i * S / N seconds after the first, whatever the others are doing.
    const startRun = async (input: PipelineInputDraft, i: number): Promise<PipelineHandle> => {
      if (steady) await sleep(Math.max(0, started + (startOverSeconds * 1000 * i) / runs - Date.now()));
      // A start the loaded server did not answer in time is asked again, joining the run if the first one got through.
      for (let attempt = 1; ; attempt++) {
        try {
          const handle = await stack.ftpipe.startPipeline(input, attempt > 1 ? { ifRunning: 'join' } : {});
          begun++;
          return handle;
        } catch (err) {
          console.log(`  start of run ${i} failed (attempt ${attempt}): ${err instanceof Error ? err.message : String(err)}`);
          if (attempt >= 5) throw err;
          await sleep(2_000);
        }
      }
    };
    const handles = await withTimeout(Promise.all(inputs.map(startRun)), 120_000 + startOverSeconds * 1000, 'starting runs');
    const heapFigures = opts.heap && idleHeap ? heapPerOpenRun(stack, idleHeap, opts.heap, started, opts.snapshotAfterSeconds) : undefined;
    console.log(`started ${runs} runs in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    let peakBeforeExit = 0;
    const rssWatch = setInterval(() => { peakBeforeExit = Math.max(peakBeforeExit, vmHwmBytes(stack.worker.pid!) || 0); }, 1_000);
    const workerExit = new Promise<never>((_, reject) => {
      stack.worker.once('exit', (code, signal) => reject(new Error(`the worker process exited (code ${code}, signal ${signal}) ${((Date.now() - started) / 1000).toFixed(0)} s after the first start, with ${done}/${runs} runs closed; its peak RSS was ${mb(peakBeforeExit)} (${load()}); worker log: ${[...warningCounts].map(([name, n]) => `${name} ${n}`).join(', ')}`)));
    });
    const outcomes = await withTimeout(
      Promise.race([workerExit, Promise.all(
        handles.map(async (handle: PipelineHandle) => {
          try {
            return { handle, result: await handle.result() };
          } catch (err) {
            return { handle, error: err instanceof Error ? err.message : String(err) };
          } finally {
            done++;
          }
        }),
      )]),
      Math.max(1, deadline - Date.now()),
      'waiting for runs',
    ).finally(() => {
      clearInterval(progress);
      clearInterval(rssWatch);
    });
    const allClosed = Date.now();
    const cpuAtEnd = cpuNow(stack);
    const peakRss = vmHwmBytes(stack.worker.pid!);
    const open = openRuns.stop();
    const p95Created = jobsCreated.stop();

    const failures = outcomes.filter((o) => 'error' in o);
    for (const f of failures.slice(0, 5)) console.log(`  FAILED ${f.handle.workflowId}: ${'error' in f ? f.error : ''}`);
    const times = jobTimes(stack.emulator);
    const overheads: number[] = [];
    const trainings: number[] = [];
    const walls: number[] = [];
    const stageSeconds = new Map<string, number[]>();
    const timings = new TaskTimings();
    let maxPerExecution = 0;
    let maxPerChain = 0;
    let maxExecutions = 0;
    let firstStart = Infinity;
    let lastClose = 0;
    for (const outcome of outcomes) {
      const executions = await executionsOf(stack.client, outcome.handle.workflowId);
      const histories = await Promise.all(executions.map(async (e) => (await stack.client.workflow.getHandle(outcome.handle.workflowId, e.runId).fetchHistory()).events ?? []));
      for (const events of histories) timings.add(events);
      timings.addRun(histories);
      const lengths = histories.map((events) => events.length);
      maxPerExecution = Math.max(maxPerExecution, ...lengths);
      maxPerChain = Math.max(maxPerChain, lengths.reduce((a, b) => a + b, 0));
      maxExecutions = Math.max(maxExecutions, executions.length);
      const first = executions[0];
      const last = executions[executions.length - 1];
      const result: PipelineResult | undefined = outcome.result;
      if (!result?.jobId || !first || !last?.close) continue;
      const job = times.get(result.jobId);
      if (!job) continue;
      const wall = (last.close.getTime() - first.start.getTime()) / 1000;
      const training = (job.finishedAt - job.createdAt) / clockScale;
      firstStart = Math.min(firstStart, first.start.getTime());
      lastClose = Math.max(lastClose, last.close.getTime());
      walls.push(wall);
      trainings.push(training);
      // Time spent in each stage: from its timeline entry to the next one (the last stage to the run's close).
      result.timeline.forEach((entry, i) => {
        const end = result.timeline[i + 1]?.at;
        const seconds = ((end ? new Date(end).getTime() : last.close!.getTime()) - new Date(entry.at).getTime()) / 1000;
        stageSeconds.set(entry.stage, [...(stageSeconds.get(entry.stage) ?? []), seconds]);
      });
      overheads.push(wall - training);
    }
    overheads.sort((a, b) => a - b);
    walls.sort((a, b) => a - b);
    const calls = routeBreakdown(stack.emulator, runs);
    const span = (lastClose - firstStart) / 1000;

    console.log(`\n## results (${runs} runs, ${failures.length} failed)`);
    console.log(`runs/s:                       ${(overheads.length / span).toFixed(2)} (${overheads.length} succeeded runs, first start to last close ${span.toFixed(1)} s; client saw all closed ${((allClosed - started) / 1000).toFixed(1)} s after the first start call)`);
    console.log(`emulated job life (real s):   mean ${(trainings.reduce((a, b) => a + b, 0) / Math.max(1, trainings.length)).toFixed(2)} s (created_at..finished_at / ${clockScale})`);
    console.log(`run wall time:                p50 ${percentile(walls, 50).toFixed(2)} s, p95 ${percentile(walls, 95).toFixed(2)} s`);
    console.log(`overhead beyond training:     p50 ${percentile(overheads, 50).toFixed(2)} s, p95 ${percentile(overheads, 95).toFixed(2)} s, max ${percentile(overheads, 100).toFixed(2)} s (poll interval ${pollSeconds} s)`);
    console.log('time per stage (real s):');
    for (const [stage, values] of stageSeconds) {
      values.sort((a, b) => a - b);
      console.log(`  ${stage.padEnd(12)} p50 ${percentile(values, 50).toFixed(2)}, p95 ${percentile(values, 95).toFixed(2)}, max ${percentile(values, 100).toFixed(2)}`);
    }
    console.log('tasks from the runs\' histories (real s; wait = scheduled -> started: for a worker slot or poller, or an activity\'s retry backoff; work = started -> closed):');
    for (const line of timings.lines()) console.log(line);
    console.log(`  ${timings.perRunLine()}`);
    const admission = await admissionTasks(stack.client);
    console.log(`the admission queue's own tasks (${admission.summary}):`);
    for (const line of admission.timings.lines()) console.log(line);
    console.log(`worker log: ${[...warningCounts].map(([name, n]) => `${name} ${n}`).join(', ')}`);
    const at500 = (ok: boolean): string => (runs >= 500 ? verdict(ok) : 'n/a (fewer than 500 runs)');
    console.log(`overhead p95 target <= ${TARGET_OVERHEAD_P95_SECONDS} s at 500 runs: ${at500(percentile(overheads, 95) <= TARGET_OVERHEAD_P95_SECONDS)}`);
    const cpu = (key: keyof typeof cpuAtEnd): string => `${(cpuAtEnd[key] - cpuAtStart[key]).toFixed(1)} s (${((cpuAtEnd[key] - cpuAtStart[key]) / runs).toFixed(2)} s per run)`;
    console.log(`CPU from the first start to the last close: worker ${cpu('worker')}, Temporal dev server ${cpu('server')}, bench process (emulator + client) ${cpu('bench')}; ${(((cpuAtEnd.worker - cpuAtStart.worker) / ((allClosed - started) / 1000)) * 100).toFixed(0)}% of one core for the worker over ${((allClosed - started) / 1000).toFixed(0)} s`);
    const since = (at: CpuUsed): CpuUsed => ({ worker: at.worker - cpuAtStart.worker, server: at.server - cpuAtStart.server, bench: at.bench - cpuAtStart.bench });
    const beforeTraining = p95Created && { seconds: (p95Created.at - started) / 1000, used: since(p95Created.cpu) };
    for (const line of cpuFloor({ runs, startOverSeconds, seconds: (allClosed - started) / 1000, used: since(cpuAtEnd), beforeTraining })) console.log(line);
    console.log(`worker peak RSS (VmHWM):      ${mb(peakRss)} (idle after start ${mb(stack.idleRss)})   target <= ${mb(TARGET_RSS_BYTES)} at 500 runs: ${at500(peakRss <= TARGET_RSS_BYTES)}`);
    if (open.runs > 0) {
      const perRun = (open.rss - stack.idleRss) / open.runs;
      console.log(`memory per open run:          ${(perRun / 1024 ** 2).toFixed(2)} MB (RSS ${mb(open.rss)} with ${open.runs} runs open at once, ${open.atSeconds.toFixed(0)} s after the start, ${open.load}; an upper bound)   target <= 1 MB: ${verdict(perRun <= TARGET_BYTES_PER_OPEN_RUN)}`);
      if (heapFigures) for (const line of await heapFigures) console.log(`  ${line}`);
    } else {
      console.log('memory per open run:          no sample saw an open run');
    }
    console.log(`Azure calls per run:          ${calls.total.toFixed(2)}`);
    for (const [route, n] of calls.byRoute) console.log(`  ${route.padEnd(26)} ${n.toFixed(2)}`);
    console.log(`largest history per execution: ${maxPerExecution} events`);
    console.log(`largest run chain:            ${maxPerChain} events over at most ${maxExecutions} execution(s)`);
  } finally {
    await stack.stop();
  }
}

// ---------------------------------------------------------------- long run

async function longRun(opts: Options): Promise<void> {
  const poll = opts.longPollSeconds;
  const clockScale = REALISTIC_RUNNING_POLL_SECONDS / poll;
  const { timings, hyperparameters } = fixedTraining(LONG_TRAINING_SECONDS);
  const polling = {
    queuedIntervalSeconds: Math.max(0.1, REALISTIC_QUEUED_POLL_SECONDS / clockScale),
    runningIntervalSeconds: poll,
    // The schema's floor is 0.1 s, so near-finish polling is no faster than running polling at this scale.
    nearFinishIntervalSeconds: Math.max(0.1, 15 / clockScale),
    fileIntervalSeconds: Math.max(0.1, 10 / clockScale),
  };
  console.log(`# long run: 24 h emulated training, clock x${clockScale}, running poll ${poll} s real = ${REALISTIC_RUNNING_POLL_SECONDS} emulated s; ideal polls ${LONG_TRAINING_SECONDS / REALISTIC_RUNNING_POLL_SECONDS}; expected ~${(LONG_TRAINING_SECONDS / clockScale).toFixed(0)} s real`);
  const stack = await startStack({ clockScale, timings, tuning: opts.tuning, limits: opts.limits, cpuProfileDir: opts.cpuProfileDir, activationTimeout: opts.activationTimeout, basePort: opts.basePort });
  try {
    const input: PipelineInputDraft = {
      runName: `bench-long-${randomUUID().slice(0, 6)}`,
      profile: EMULATOR_PROFILE,
      baseModel: 'gpt-4.1-mini',
      training: { path: uniqueTrainingFile(stack.dataDir, 0) },
      hyperparameters,
      seed: 1,
      polling,
    };
    const handle = await stack.ftpipe.startPipeline(input);
    const started = Date.now();
    const progress = setInterval(() => {
      void handle.status().then(
        (s) => console.log(`  ${((Date.now() - started) / 1000).toFixed(0)} s: stage ${s.stage}, step ${s.progress.step ?? '-'}/${s.progress.totalSteps ?? '-'}, continuations ${s.continuations}`),
        () => undefined,
      );
    }, 20_000);
    const result = await withTimeout(handle.result(), opts.timeoutMinutes * 60_000, 'long run').finally(() => clearInterval(progress));
    const wall = (Date.now() - started) / 1000;
    // Map emulated time to real time with the clock's current anchor (the scale never changed during the run).
    const emuNowMs = stack.emulator.control.now().getTime();
    const realNowMs = Date.now();
    const job = result.jobId ? jobTimes(stack.emulator).get(result.jobId) : undefined;
    if (!job) throw new Error(`the emulator has no finished job ${result.jobId}`);
    const finishedRealMs = realNowMs - (emuNowMs - job.finishedAt * 1000) / clockScale;
    const collect = result.timeline.find((t) => t.stage === 'collect');
    if (!collect) throw new Error('the run has no collect stage in its timeline');
    // finished_at is whole emulated seconds: the true finish lies up to one emulated second later.
    const delay = (new Date(collect.at).getTime() - finishedRealMs) / 1000;
    const resolution = 1 / clockScale;

    // One job GET per poll; the events are listed only on some polls (see EVENTS_EVERY_POLLS).
    const polls = stack.emulator.control.requests({ route: 'jobs.get' }).length;
    const executions = await executionsOf(stack.client, handle.workflowId);
    const lengths = await Promise.all(executions.map((e) => historyEvents(stack.client, handle.workflowId, e.runId)));
    const largest = Math.max(...lengths);
    const total = lengths.reduce((a, b) => a + b, 0);
    const calls = routeBreakdown(stack.emulator, 1);

    console.log(`\n## results (outcome ${result.outcome}, wall ${wall.toFixed(1)} s)`);
    console.log(`emulated training:            ${((job.finishedAt - job.createdAt) / 3600).toFixed(2)} h created_at..finished_at (${((job.finishedAt - job.createdAt) / clockScale).toFixed(1)} s real)`);
    console.log(`polls made (jobs.get):        ${polls} (a real 24 h job polled every 60 s: ${LONG_TRAINING_SECONDS / REALISTIC_RUNNING_POLL_SECONDS})`);
    console.log(`executions (continue-as-new): ${executions.length}`);
    console.log(`largest history per execution: ${largest} events`);
    console.log(`total events in the chain:    ${total} (mean ${(total / executions.length).toFixed(0)} per execution, ${(total / Math.max(1, polls)).toFixed(1)} per poll)`);
    console.log(`reaction delay finished_at -> collect: ${delay.toFixed(3)} s real (+0/-${resolution.toFixed(4)} s) = ${(delay / poll).toFixed(2)} poll intervals   target <= 1 interval: ${verdict(delay <= poll)}`);
    console.log(`poll cycle, from history:     ${await cycleBreakdown(stack.client, handle.workflowId, executions.map((e) => e.runId))}`);
    console.log(`Azure calls:                  ${calls.total} (${calls.byRoute.map(([r, n]) => `${r} ${n}`).join(', ')})`);
  } finally {
    await stack.stop();
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  console.log(`machine: ${machine()} (shared: other jobs may run concurrently; ${load()}); code ${codeVersion()}`);
  if (opts.build) {
    console.log('building (npm run build) ...');
    if (spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' }).status !== 0) throw new Error('npm run build failed');
  }
  if (opts.long) await longRun(opts);
  else await throughput(opts);
  console.log(`done (${load()})`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
