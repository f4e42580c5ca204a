/**
 * What starting one workflow execution costs the worker before the workflow runs a line: the SDK evaluates the
 * bundle's modules again for every execution (each gets its own module instances in the reusable V8 context), except
 * the modules the bundle preloads (WORKFLOW_PRELOAD_MODULES), which are evaluated once per worker and shared.
 *
 * Measured on the built code (`npm run build`: dist/ and dist/workflow-bundle.js, what `ftpipe worker` loads) under
 * plain `node`, with the SDK's own executor (@temporalio/worker's ReusableVMWorkflowCreator, as a worker runs it in its
 * workflow thread): for each of N executions, the CPU time of `createWorkflow` (the SDK's initRuntime: activator,
 * workflow modules, interceptors) and the heap the N executions hold after a full GC (module instances only, no run
 * state yet). The same bundle without the preload is measured beside it, alternating, at the same load.
 *
 *   npx tsx bench/workflow-load.ts [--executions 200] [--rounds 3] [--no-build]
 *
 * The creator is an SDK internal (lib/workflow/reusable-vm): this benchmark may need a change on an SDK upgrade.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const BUILT_BUNDLE = join(ROOT, 'dist', 'workflow-bundle.js');
const UNSHARED_BUNDLE = join(__dirname, 'out', 'workflow-bundle-no-preload.js');
const UNTRACED_BUNDLE = join(__dirname, 'out', 'workflow-bundle-no-interceptors.js');
const TARGET_CPU_MS = 3;

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at > 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

function node(args: string[], what: string): string {
  const child = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (child.status !== 0) throw new Error(`${what} failed (${child.status}): ${child.stderr}`);
  return child.stdout;
}

/** Child program (plain JavaScript): creates N executions from one bundle and prints their costs as JSON. */
const MEASURE = `
const { readFileSync } = require('node:fs');
const [bundlePath, count] = process.argv.slice(1);
const { ReusableVMWorkflowCreator } = require('@temporalio/worker/lib/workflow/reusable-vm');
const { parseWorkflowCode } = require('@temporalio/worker/lib/worker');
const { TypedSearchAttributes } = require('@temporalio/common');
const cpuMs = (start) => { const used = process.cpuUsage(start); return (used.user + used.system) / 1000; };
(async () => {
  const bundle = parseWorkflowCode(readFileSync(bundlePath, 'utf8'), bundlePath);
  const loadStart = process.cpuUsage();
  const creator = await ReusableVMWorkflowCreator.create(bundle, 5000, new Set(), undefined);
  const loadMs = cpuMs(loadStart);
  const executions = [];
  const times = [];
  globalThis.gc();
  const heapBefore = process.memoryUsage().heapUsed;
  for (let i = 0; i < Number(count); i++) {
    const now = new Date();
    const info = {
      workflowId: 'bench-' + i, runId: 'run-' + i, workflowType: 'fineTunePipeline', searchAttributes: {}, typedSearchAttributes: new TypedSearchAttributes(),
      taskQueue: 'bench', namespace: 'default', firstExecutionRunId: 'run-' + i, originalExecutionRunId: 'run-' + i, startTime: now, runStartTime: now,
      taskTimeoutMs: 10000, attempt: 1, historyLength: 3, historySize: 0, continueAsNewSuggested: false, currentBuildId: '',
      unsafe: { now: () => Date.now(), isReplaying: false, isReplayingHistoryEvents: false, random: Math.random },
    };
    const start = process.cpuUsage();
    executions.push(await creator.createWorkflow({ info, randomnessSeed: [1, 2, 3, 4, 5, 6, 7, 8], now: now.getTime(), showStackTraceSources: false, failureExceptionTypeNames: [] }));
    times.push(cpuMs(start));
  }
  globalThis.gc();
  const heapPerExecution = (process.memoryUsage().heapUsed - heapBefore) / executions.length;
  console.log(JSON.stringify({ loadMs, times, heapPerExecution }));
})().catch((err) => { console.error(err); process.exit(1); });
`;

interface Measurement {
  loadMs: number;
  times: number[];
  heapPerExecution: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};
const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};
const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' / ');

function main(): void {
  const executions = Number(argument('--executions', '200'));
  const rounds = Number(argument('--rounds', '3'));
  console.log(`machine: ${cpus().length} CPUs, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}; load average (1/5/15 min) ${load()}`);
  if (!process.argv.includes('--no-build')) {
    console.log('building (npm run build) ...');
    const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
    if (build.status !== 0) throw new Error('npm run build failed');
  }
  if (!existsSync(BUILT_BUNDLE)) throw new Error(`no ${BUILT_BUNDLE}: run npm run build`);
  mkdirSync(join(__dirname, 'out'), { recursive: true });
  const bundler = JSON.stringify(join(ROOT, 'dist', 'src', 'stack', 'workflow-bundle.js'));
  node(['-e', `require(${bundler}).writeWorkflowBundle(${JSON.stringify(UNSHARED_BUNDLE)}, { preloadModules: [] })`], 'bundling without the preload');
  node(['-e', `require(${bundler}).writeWorkflowBundle(${JSON.stringify(UNTRACED_BUNDLE)}, { withoutInterceptors: true })`], 'bundling without the interceptors');

  const variants = [
    { name: 'preloaded (as built)', bundle: BUILT_BUNDLE },
    { name: 'without the preload', bundle: UNSHARED_BUNDLE },
    // The tracing interceptors' share: OpenTelemetry's API, core and tracing SDK are evaluated per execution.
    { name: 'without interceptors', bundle: UNTRACED_BUNDLE },
  ];
  const results = new Map<string, { measurements: Measurement[]; loads: string[] }>(variants.map((v) => [v.name, { measurements: [], loads: [] }]));
  for (let round = 1; round <= rounds; round++) {
    for (const variant of variants) {
      const at = load();
      const measurement = JSON.parse(node(['--expose-gc', '-e', MEASURE, variant.bundle, String(executions)], variant.name)) as Measurement;
      results.get(variant.name)!.measurements.push(measurement);
      results.get(variant.name)!.loads.push(at);
      console.log(`  round ${round}, ${variant.name}: createWorkflow CPU p50 ${median(measurement.times).toFixed(2)} ms, p90 ${percentile(measurement.times, 90).toFixed(2)} ms; heap ${(measurement.heapPerExecution / 1024).toFixed(0)} KiB per execution; bundle load ${measurement.loadMs.toFixed(0)} ms (load ${at})`);
    }
  }
  console.log(`\n## per execution start, ${executions} executions x ${rounds} rounds (medians over rounds)`);
  for (const [name, { measurements, loads }] of results) {
    const p50 = median(measurements.map((m) => median(m.times)));
    const heap = median(measurements.map((m) => m.heapPerExecution));
    const verdict = name.startsWith('preloaded') ? `   target <= ${TARGET_CPU_MS} ms: ${p50 <= TARGET_CPU_MS ? 'MET' : 'MISSED'}` : '';
    console.log(`${name.padEnd(22)} module evaluation CPU p50 ${p50.toFixed(2)} ms, heap ${(heap / 1024).toFixed(0)} KiB per execution; bundle load once ${median(measurements.map((m) => m.loadMs)).toFixed(0)} ms (loads ${loads.join('; ')})${verdict}`);
  }
}

main();
