/**
 * Benchmark of `ftpipe validate`: generates a realistic chat dataset (bench/validate-corpus.ts) into bench/out/, then
 * runs, each in its own child process, the validator through the CLI and the floor (a bare line split and JSON.parse
 * of the same file), and prints MB/s and peak RSS of both.
 *
 *   npx tsx bench/validate.ts --size-mb 512 [--model gpt-4.1-mini] [--reuse (keep an earlier generated file)]
 *
 * The timings include each child's start-up (well under a second).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { writeChatCorpus } from './validate-corpus';

const MIB = 1024 * 1024;

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at > 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

/** The CLI compiled to JavaScript, as users run it (bin/ftpipe.js runs dist/); built into bench/out/ to leave dist/ alone. */
const COMPILED_CLI = join(__dirname, 'out', 'dist', 'src', 'cli', 'main.js');

function compileCli(): void {
  const root = resolve(__dirname, '..');
  // Type errors elsewhere in the tree do not stop tsc from emitting; only a missing output is fatal.
  spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', join(__dirname, 'out', 'dist')], { cwd: root, stdio: 'ignore' });
  if (!existsSync(COMPILED_CLI)) throw new Error(`compiling the CLI produced no ${COMPILED_CLI}`);
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

interface ChildRun {
  seconds: number;
  /** User and system CPU time of all the child's threads: with `seconds`, how many cores it kept busy. */
  cpuSeconds: number;
  peakRssMb: number;
  stdout: string;
  status: number | null;
}

function runChild(name: string, program: string, args: string[]): ChildRun {
  const started = process.hrtime.bigint();
  const child = spawnSync(process.execPath, ['-e', program, ...args], {
    cwd: resolve(__dirname, '..'), encoding: 'utf8', maxBuffer: 64 * MIB, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const usage = /peak-rss-kb=(\d+) cpu-us=(\d+)/.exec(child.stderr);
  if (!usage) throw new Error(`${name} run failed (status ${child.status}): ${child.stderr.slice(-2000)}`);
  return { seconds, peakRssMb: Number(usage[1]) / 1024, cpuSeconds: Number(usage[2]) / 1e6, stdout: child.stdout, status: child.status };
}

async function parent(): Promise<void> {
  const sizeMb = Number(argument('--size-mb', '64'));
  const model = argument('--model', 'gpt-4.1-mini');
  const outDir = join(__dirname, 'out');
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `chat-${sizeMb}mb.jsonl`);
  if (!existsSync(path) || !process.argv.includes('--reuse')) {
    const started = Date.now();
    await writeChatCorpus(path, sizeMb * MIB);
    console.log(`generated ${path} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const bytes = statSync(path).size;
  const megabytes = bytes / MIB;

  compileCli();
  // Other work on the machine slows both runs; the load average says how busy it was.
  const loadBefore = loadavg().map((n) => n.toFixed(2)).join(' ');
  const floor = runChild('floor', FLOOR_PROGRAM, [path]);
  const validator = runChild('ftpipe validate', CLI_PROGRAM, [path, '--model', model, '--json']);
  if (validator.status !== 0) throw new Error(`the benchmark corpus should be valid; ftpipe validate exited ${validator.status}: ${validator.stdout.slice(0, 2000)}`);
  const report = JSON.parse(validator.stdout) as { files: Array<{ examples: number; tokens: { totalTokens: number } }> };
  const training = report.files[0]!;

  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  console.log(`machine: ${cpus().length} cores (${cpuModel}), Node ${process.version}, load average before the runs ${loadBefore}`);
  console.log(`file: ${megabytes.toFixed(1)} MiB, ${training.examples.toLocaleString('en-US')} examples, ${training.tokens.totalTokens.toLocaleString('en-US')} tokens`);
  const row = (name: string, run: ChildRun): string =>
    `${name.padEnd(34)} ${run.seconds.toFixed(1).padStart(6)} s ${(megabytes / run.seconds).toFixed(1).padStart(7)} MiB/s   peak RSS ${run.peakRssMb.toFixed(0).padStart(4)} MiB   CPU ${run.cpuSeconds.toFixed(1)} s`;
  console.log(row('ftpipe validate (exact tokens)', validator));
  console.log(row('floor: line split + JSON.parse', floor));
}

void parent();
