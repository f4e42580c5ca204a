/**
 * Benchmarks of `ftpipe validate`, all on the compiled code and plain `node` (as `ftpipe` and `ftpipe worker` run):
 *
 * 1. cold start: `ftpipe validate` of a 12-line file, a new process each time (wall time, peak RSS);
 * 2. in a worker: `validateDataset` of a 100-example file in a long-lived process, warm (what the activity runs);
 * 3. throughput: realistic chat datasets (bench/validate-corpus.ts) of each size, validated by `ftpipe validate` (with
 *    its default threads and with --threads 2), by a port of the OpenAI cookbook's checks on Python tiktoken
 *    (bench/cookbook_checks.py), and by the floor (a bare line split and JSON.parse), each in its own child process,
 *    side by side.
 *
 *   npx tsx bench/validate.ts [--sizes 1,10,64] [--rounds 1 (throughput runs per size)] [--model gpt-4.1-mini] [--reuse (keep earlier generated files)]
 *
 * Every figure is printed with the machine's load average (os.loadavg) when it was taken.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pythonTiktoken } from './python-tiktoken';
import { writeChatCorpus } from './validate-corpus';

const MIB = 1024 * 1024;

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at > 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

/** The CLI compiled to JavaScript, as users run it (bin/ftpipe.js runs dist/); compiled into bench/out/ to leave dist/ alone. */
const COMPILED_CLI = join(__dirname, 'out', 'dist', 'src', 'cli', 'main.js');

function compileCli(): void {
  const root = resolve(__dirname, '..');
  // Type errors elsewhere in the tree do not stop tsc from emitting; only a missing output is fatal.
  spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(__dirname, 'out', 'dist')], { cwd: root, stdio: 'ignore' });
  if (!existsSync(COMPILED_CLI)) throw new Error(`compiling the CLI produced no ${COMPILED_CLI}`);
  // The tokenizer's prebuilt tables, as `npm run build` writes them (dist/token-tables/, which the compiled code reads).
  execFileSync(process.execPath, [join(__dirname, 'out', 'dist', 'scripts', 'build-token-tables.js')], { cwd: root, stdio: 'ignore' });
}

/** Child programs, plain JavaScript run by `node -e` so that no TypeScript loader adds to their time or memory. */
const REPORT_PEAK_RSS = `process.on('exit', () => {
  const usage = process.resourceUsage();
  process.stderr.write('\\npeak-rss-kb=' + usage.maxRSS + ' cpu-us=' + (usage.userCPUTime + usage.systemCPUTime) + '\\n');
});`;

/** The floor: stream the file, split lines, JSON.parse each; the least any validator must do. */
const FLOOR_PROGRAM = `${REPORT_PEAK_RSS}
(async () => {
  let carry = Buffer.alloc(0), lines = 0;
  for await (const read of require('node:fs').createReadStream(process.argv[1], { highWaterMark: ${MIB} })) {
    const chunk = carry.length > 0 ? Buffer.concat([carry, read]) : read;
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      const bom = lines === 0 && chunk[0] === 0xef ? 3 : 0;
      JSON.parse(chunk.toString('utf8', start + bom, newline));
      lines++;
      start = newline + 1;
    }
    carry = chunk.subarray(start);
  }
  process.stdout.write(JSON.stringify({ lines }));
})();`;

/** \`ftpipe validate\` itself, in-process so that its peak RSS (worker threads included) is the child's. */
const CLI_PROGRAM = `${REPORT_PEAK_RSS}
void require(${JSON.stringify(COMPILED_CLI)}).main(['node', 'ftpipe', 'validate', ...process.argv.slice(1)]);`;

/** A preload for the CLI runs: reports the process's peak RSS and CPU time on exit. */
const USAGE_PRELOAD = join(__dirname, 'out', 'report-usage.js');

/** The cookbook port, with its peak RSS and CPU time reported in the same form as the Node children. */
const COOKBOOK_PROGRAM = `import resource, runpy, sys
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    u = resource.getrusage(resource.RUSAGE_SELF)
    sys.stderr.write("\\npeak-rss-kb=%d cpu-us=%d\\n" % (u.ru_maxrss, (u.ru_utime + u.ru_stime) * 1e6))`;

/**
 * validateDataset in one long-lived process: once cold, then warm, one validation after another, each followed by the
 * worker's activity validateTrainingData (data-root checks, the validation, the summary, in the SDK's activity
 * context) on the same file, so that both are timed under the same machine state. After each warm pair, a busy loop
 * of the validation's CPU time, timed the same way: its wall time is what that much CPU costs at the machine's load,
 * so the validation's wall time can be read against it (on a busy machine both are mostly waiting).
 */
const WORKER_PROGRAM = `${REPORT_PEAK_RSS}
const { validateDataset } = require(${JSON.stringify(join(__dirname, 'out', 'dist', 'src', 'dataset'))});
const { MockActivityEnvironment } = require('@temporalio/testing');
const { datasetActivities } = require(${JSON.stringify(join(__dirname, 'out', 'dist', 'activities', 'dataset'))});
const { validateTrainingData } = datasetActivities({ config: { dataRoots: [require('node:path').dirname(process.argv[1])] }, logger: console, version: 'bench' });
const cpuMs = (since) => { const used = process.cpuUsage(since); return (used.user + used.system) / 1e3; };
(async () => {
  const times = [], cpu = [], spins = [], activity = [], activityCpu = [];
  for (let i = 0; i <= ${'${WARM_RUNS}'}; i++) {
    let started = process.hrtime.bigint();
    let cpuBefore = process.cpuUsage();
    const report = await validateDataset({ trainingFile: process.argv[1], model: 'gpt-4.1-mini', maxIssues: 10 });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    cpu.push(cpuMs(cpuBefore));
    if (report.files[0].examples !== 100) throw new Error('expected 100 examples, got ' + report.files[0].examples);
    started = process.hrtime.bigint();
    cpuBefore = process.cpuUsage();
    const summary = await new MockActivityEnvironment().run(validateTrainingData, { trainingPath: process.argv[1], model: 'gpt-4.1-mini', method: 'supervised' });
    activity.push(Number(process.hrtime.bigint() - started) / 1e6);
    activityCpu.push(cpuMs(cpuBefore));
    if (summary.examples.training !== 100) throw new Error('expected 100 examples, got ' + summary.examples.training);
    if (i === 0) continue;
    started = process.hrtime.bigint();
    cpuBefore = process.cpuUsage();
    for (let x = 0; cpuMs(cpuBefore) < cpu[i]; ) for (let j = 0; j < 1000; j++) x += Math.sqrt(j);
    spins.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  process.stdout.write(JSON.stringify({ times, cpu, spins, activity, activityCpu }));
})();`;

const WARM_RUNS = 40;

const load = (): string => loadavg().map((n) => n.toFixed(2)).join(' ');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

interface ChildRun {
  seconds: number;
  /** User and system CPU time of all the child's threads: with `seconds`, how many cores it kept busy. */
  cpuSeconds: number;
  peakRssMb: number;
  stdout: string;
  status: number | null;
}

function runChild(name: string, program: string, args: string[], command: { file: string; args: string[]; env?: NodeJS.ProcessEnv } = { file: process.execPath, args: ['-e', program] }): ChildRun {
  const started = process.hrtime.bigint();
  const child = spawnSync(command.file, [...command.args, ...args], {
    cwd: resolve(__dirname, '..'), encoding: 'utf8', maxBuffer: 64 * MIB, stdio: ['ignore', 'pipe', 'pipe'], env: command.env ?? process.env,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const usage = /peak-rss-kb=(\d+) cpu-us=(\d+)/.exec(child.stderr);
  if (!usage) throw new Error(`${name} run failed (status ${child.status}): ${child.stderr.slice(-2000)}`);
  return { seconds, peakRssMb: Number(usage[1]) / 1024, cpuSeconds: Number(usage[2]) / 1e6, stdout: child.stdout, status: child.status };
}

async function parent(): Promise<void> {
  const sizes = argument('--sizes', '1,10,64').split(',').map(Number);
  const model = argument('--model', 'gpt-4.1-mini');
  const rounds = Number(argument('--rounds', '1'));
  const outDir = join(__dirname, 'out');
  mkdirSync(outDir, { recursive: true });
  compileCli();
  writeFileSync(USAGE_PRELOAD, REPORT_PEAK_RSS);
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  console.log(`machine: ${cpus().length} cores (${cpuModel}), Node ${process.version}; "load" is the load average (1, 5, 15 min) before each figure`);

  // 1. Cold start of the CLI on a 12-line file.
  const small = join(__dirname, '..', 'test', 'dataset', 'fixtures', 'supervised', 'bom-missing.jsonl');
  const cold: ChildRun[] = [];
  const coldLoad = load();
  for (let i = 0; i < 7; i++) cold.push(runChild('cold ftpipe validate', '', [small, '--model', model], { file: process.execPath, args: ['-r', USAGE_PRELOAD, COMPILED_CLI, 'validate'] }));
  const walls = cold.map((r) => r.seconds);
  console.log(`cold \`ftpipe validate\` of a 12-line file, 7 new processes: wall median ${median(walls).toFixed(2)} s (${Math.min(...walls).toFixed(2)}-${Math.max(...walls).toFixed(2)}), CPU median ${median(cold.map((r) => r.cpuSeconds)).toFixed(2)} s, peak RSS median ${median(cold.map((r) => r.peakRssMb)).toFixed(0)} MiB   load ${coldLoad}`);

  // 2. A 100-example file in a long-lived process.
  const corpus1 = join(outDir, 'chat-1mb.jsonl');
  if (!existsSync(corpus1) || !process.argv.includes('--reuse')) await writeChatCorpus(corpus1, MIB);
  const hundred = join(outDir, 'chat-100-examples.jsonl');
  writeFileSync(hundred, readFileSync(corpus1, 'utf8').split('\n').slice(0, 100).join('\n') + '\n');
  const workerLoad = load();
  const { times, cpu, spins, activity, activityCpu } = JSON.parse(runChild('worker', WORKER_PROGRAM.replaceAll('${WARM_RUNS}', String(WARM_RUNS)), [hundred]).stdout) as { times: number[]; cpu: number[]; spins: number[]; activity: number[]; activityCpu: number[] };
  const warm = times.slice(1);
  console.log(`validateDataset of 100 examples (${(statSync(hundred).size / 1024).toFixed(0)} KiB) in one process: first ${times[0]!.toFixed(1)} ms, then ${WARM_RUNS} warm: median ${median(warm).toFixed(1)} ms, p90 ${quantile(warm, 0.9).toFixed(1)} ms, max ${Math.max(...warm).toFixed(1)} ms; CPU per validation (process-wide) first ${cpu[0]!.toFixed(1)} ms, warm median ${median(cpu.slice(1)).toFixed(1)} ms; a busy loop of each one's CPU time took median ${median(spins).toFixed(1)} ms wall (what that CPU costs at this load); the worker's activity validateTrainingData (data-root checks, validation, summary) after each, ${WARM_RUNS} warm: median ${median(activity.slice(1)).toFixed(1)} ms wall, CPU median ${median(activityCpu.slice(1)).toFixed(1)} ms   load ${workerLoad}`);

  // 3. Throughput against the cookbook's checks and the floor.
  const python = pythonTiktoken();
  console.log('size        runner                          wall      MiB/s   CPU     peak RSS   load');
  for (const sizeMb of sizes) {
    const path = join(outDir, `chat-${sizeMb}mb.jsonl`);
    if (!existsSync(path) || !process.argv.includes('--reuse')) await writeChatCorpus(path, sizeMb * MIB);
    const megabytes = statSync(path).size / MIB;
    const row = (name: string, run: ChildRun, before: string): string =>
      `${`${megabytes.toFixed(0)} MiB`.padEnd(11)} ${name.padEnd(31)} ${run.seconds.toFixed(2).padStart(6)} s ${(megabytes / run.seconds).toFixed(1).padStart(7)} ${run.cpuSeconds.toFixed(2).padStart(6)} s ${run.peakRssMb.toFixed(0).padStart(6)} MiB   ${before}`;
    // Rounds alternate the runners, so that each round's runs saw about the same load; the spread is printed. ftpipe
    // runs twice: with its default threads (one per 4 MiB of the file, at most the cores the load leaves idle: one on a
    // machine whose load average is 1 or more) and with --threads 2 (the calling thread and one worker thread).
    const variants = [{ name: 'ftpipe validate (exact tokens)', args: [] as string[] }, { name: 'ftpipe validate --threads 2', args: ['--threads', '2'] }];
    const ratios = variants.map(() => [] as Array<{ wall: number; cpu: number }>);
    for (let round = 1; round <= rounds; round++) {
      const validators: ChildRun[] = [];
      for (const variant of variants) {
        const before = load();
        const validator = runChild(variant.name, CLI_PROGRAM, [path, '--model', model, '--json', ...variant.args]);
        if (validator.status !== 0) throw new Error(`the benchmark corpus should be valid; ftpipe validate exited ${validator.status}: ${validator.stdout.slice(0, 2000)}`);
        console.log(row(variant.name, validator, before));
        validators.push(validator);
      }
      let before = load();
      const cookbook = runChild('cookbook', COOKBOOK_PROGRAM, [join(__dirname, 'cookbook_checks.py'), path], { file: python.python, args: ['-c', COOKBOOK_PROGRAM], env: python.env });
      if (cookbook.status !== 0) throw new Error(`the cookbook port failed (${cookbook.status})`);
      console.log(row('cookbook checks (Python tiktoken)', cookbook, before));
      before = load();
      console.log(row('floor: line split + JSON.parse', runChild('floor', FLOOR_PROGRAM, [path]), before));
      const reports = validators.map((validator) => JSON.parse(validator.stdout) as { files: Array<{ examples: number; tokens: { totalTokens: number } }> });
      if (JSON.stringify(reports[1]) !== JSON.stringify(reports[0])) throw new Error('ftpipe validate --threads 2 reported differently from its default');
      const book = JSON.parse(cookbook.stdout) as { examples: number; total_tokens: number };
      validators.forEach((validator, v) => ratios[v]!.push({ wall: cookbook.seconds / validator.seconds, cpu: cookbook.cpuSeconds / validator.cpuSeconds }));
      console.log(`${''.padEnd(11)} ftpipe ${ratios[0]!.at(-1)!.wall.toFixed(1)}x the cookbook's speed in wall time, ${ratios[0]!.at(-1)!.cpu.toFixed(1)}x in CPU time (--threads 2: ${ratios[1]!.at(-1)!.wall.toFixed(1)}x, ${ratios[1]!.at(-1)!.cpu.toFixed(1)}x; the same report); ${reports[0]!.files[0]!.examples.toLocaleString('en-US')} examples; tokens ftpipe ${reports[0]!.files[0]!.tokens.totalTokens.toLocaleString('en-US')}, cookbook ${book.total_tokens.toLocaleString('en-US')} (it counts JSON keys and weight differently)`);
    }
    if (rounds > 1) {
      const spread = (values: number[]): string => `median ${median(values).toFixed(2)}x (${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)}x)`;
      variants.forEach((variant, v) => {
        console.log(`${`${megabytes.toFixed(0)} MiB`.padEnd(11)} over ${rounds} rounds: ${variant.name} vs the cookbook in CPU time ${spread(ratios[v]!.map((r) => r.cpu))}, in wall time ${spread(ratios[v]!.map((r) => r.wall))}`);
      });
    }
  }
}

void parent();
