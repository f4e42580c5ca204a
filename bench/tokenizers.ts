/**
 * Compares exact o200k_base token counting, one core each, on every text field of the benchmark corpus: ftpipe's
 * counter (compiled, on plain `node`), tiktoken's WebAssembly, gpt-tokenizer and js-tiktoken, and Python tiktoken's
 * `encode_ordinary` (native Rust). Throughput is MB of text per CPU-second; every count is compared with Python
 * tiktoken's, the reference. CPU time is the counting thread's own (Linux's per-thread schedstat for node, Python's
 * `time.thread_time`), so that a garbage collector or compiler thread of V8 running beside it is not counted as
 * counting, nor the load of the machine; the whole process's CPU is printed beside it. Each candidate runs beside its
 * own Python process, the two counting the corpus in lockstep, chunk by chunk (see runPair), so that the ratio compares
 * them under the same state of the machine. `--rounds N` repeats this N times and prints each ratio's spread (min,
 * median, max) and the candidate's fastest run with its Python beside it.
 * Run: `npx tsx bench/tokenizers.ts [--size-mb 16] [--candidates ftpipe,tiktoken-wasm] [--rounds 3]`
 * (default: all four JavaScript candidates, one round; Python tiktoken always runs).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pythonTiktoken } from './python-tiktoken';
import { writeChatCorpus } from './validate-corpus';

const sizeArg = process.argv.indexOf('--size-mb');
const sizeMb = sizeArg > 0 ? Number(process.argv[sizeArg + 1]) : 16;
const candidatesArg = process.argv.indexOf('--candidates');
const CANDIDATES = ['ftpipe', 'tiktoken-wasm', 'gpt-tokenizer', 'js-tiktoken'];
const candidates = candidatesArg > 0 ? (process.argv[candidatesArg + 1] ?? '').split(',') : CANDIDATES;
const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 1;
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a whole number >= 1');
for (const name of candidates) if (!CANDIDATES.includes(name)) throw new Error(`unknown candidate ${name}; known: ${CANDIDATES.join(', ')}`);
const ROOT = resolve(__dirname, '..');
const OUT = join(__dirname, 'out');
const COMPILED_TOKENS = join(OUT, 'dist', 'src', 'dataset', 'tokens.js');

/**
 * Each candidate in a child on plain node: loads the encoding and prints its CPU seconds as a JSON line, then counts
 * the texts of each chunk `<from> <to>` it reads on stdin and prints the CPU seconds that took (the main thread's,
 * from /proc/self/task/<pid>/schedstat in nanoseconds; the process's where there is no such file); on `end` it writes
 * the counts and prints the process's CPU seconds over all chunks.
 */
const NODE_PROGRAM = `
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const [name, textsFile, countsFile] = process.argv.slice(1);
const texts = JSON.parse(readFileSync(textsFile, 'utf8'));
(async () => {
  let count;
  const schedstat = '/proc/self/task/' + process.pid + '/schedstat';
  const processCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  // The file gives the running time the kernel last accounted, up to a scheduler tick old while the thread runs:
  // sleeping 10 us first accounts it up to now (without it, chunks read after a wait for stdin came out ~14% short).
  const settle = new Int32Array(new SharedArrayBuffer(4));
  const threadCpu = () => { Atomics.wait(settle, 0, 0, 0.01); return Number(readFileSync(schedstat, 'utf8').split(' ')[0]) / 1e9; };
  const cpu = existsSync(schedstat) ? threadCpu : processCpu;
  const started = cpu();
  if (name === 'ftpipe') { const c = require(${JSON.stringify(COMPILED_TOKENS)}).createTokenCounter('o200k_base'); count = (t) => c.count(t); }
  if (name === 'tiktoken-wasm') { const e = require('tiktoken').get_encoding('o200k_base'); count = (t) => e.encode_ordinary(t).length; }
  if (name === 'gpt-tokenizer') { const { countTokens } = require('gpt-tokenizer/encoding/o200k_base'); const o = { disallowedSpecial: new Set() }; count = (t) => countTokens(t, o); }
  if (name === 'js-tiktoken') { const e = (await import('js-tiktoken')).getEncoding('o200k_base'); count = (t) => e.encode(t, [], []).length; }
  process.stdout.write(JSON.stringify({ loadSeconds: cpu() - started }) + '\\n');
  const counts = new Array(texts.length);
  let processSeconds = 0;
  for await (const line of require('node:readline').createInterface({ input: process.stdin })) {
    if (line === 'end') break;
    const [from, to] = line.split(' ').map(Number);
    const before = cpu();
    const beforeProcess = processCpu();
    for (let i = from; i < to; i++) counts[i] = count(texts[i]);
    const seconds = cpu() - before;
    processSeconds += processCpu() - beforeProcess;
    process.stdout.write(seconds + '\\n');
  }
  writeFileSync(countsFile, JSON.stringify(counts));
  process.stdout.write(JSON.stringify({ processSeconds }) + '\\n');
})();`;

const PYTHON_PROGRAM = `
import json, sys, time
t0 = time.thread_time()
import tiktoken
encoding = tiktoken.get_encoding("o200k_base")
encoding.encode_ordinary("warm")
t1 = time.thread_time()
texts = json.load(open(sys.argv[1], encoding="utf-8"))
print(json.dumps({"loadSeconds": t1 - t0}), flush=True)
counts = [0] * len(texts)
process_seconds = 0.0
for line in sys.stdin:
    if line.strip() == "end":
        break
    start, end = map(int, line.split())
    t2 = time.thread_time()
    p2 = time.process_time()
    for i in range(start, end):
        counts[i] = len(encoding.encode_ordinary(texts[i]))
    t3 = time.thread_time()
    process_seconds += time.process_time() - p2
    print(t3 - t2, flush=True)
json.dump(counts, open(sys.argv[2], "w"))
print(json.dumps({"processSeconds": process_seconds}), flush=True)`;

/** Texts per chunk of the lockstep runs: some 10-30 ms of counting each. */
const CHUNK_TEXTS = 2000;

/** A counting child driven line by line over its stdin and stdout. */
class Counter {
  private readonly lines: AsyncIterator<string>;
  private readonly child: ChildProcess;
  private stderr = '';

  constructor(readonly name: string, command: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(command, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (data: Buffer) => {
      this.stderr += data.toString();
    });
    this.lines = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }

  async line(): Promise<string> {
    const next = await this.lines.next();
    if (next.done) throw new Error(`${this.name} failed: ${this.stderr}`);
    return next.value;
  }

  /** Counts texts [from, to) and answers the counting thread's CPU seconds. */
  async chunk(from: number, to: number): Promise<number> {
    this.child.stdin!.write(`${from} ${to}\n`);
    return Number(await this.line());
  }

  async end(): Promise<number> {
    this.child.stdin!.end('end\n');
    return (JSON.parse(await this.line()) as { processSeconds: number }).processSeconds;
  }
}

function collectTexts(value: unknown, into: string[]): void {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const item of value) collectTexts(item, into);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) collectTexts(item, into);
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(OUT, 'dist')], { cwd: ROOT, stdio: 'ignore' });
  // The prebuilt rank tables, as `npm run build` writes them (dist/token-tables/, which the compiled counter reads).
  execFileSync(process.execPath, [join(OUT, 'dist', 'scripts', 'build-token-tables.js')], { cwd: ROOT, stdio: 'ignore' });
  const path = join(OUT, `tokenizers-${sizeMb}mb.jsonl`);
  await writeChatCorpus(path, sizeMb * 1024 * 1024, 7);
  const texts: string[] = [];
  for (const line of readFileSync(path, 'utf8').replace(/^\uFEFF/, '').split('\n')) if (line) collectTexts(JSON.parse(line), texts);
  // Lone surrogates cannot be written as UTF-8 JSON for Python; the corpus has none.
  const textsFile = join(OUT, 'tokenizer-texts.json');
  writeFileSync(textsFile, JSON.stringify(texts));
  const megabytes = texts.reduce((sum, t) => sum + Buffer.byteLength(t), 0) / 1e6;
  console.log(`corpus: ${texts.length.toLocaleString('en-US')} text fields, ${megabytes.toFixed(1)} MB of text (${sizeMb} MiB of JSONL); MB/s is per CPU-second of the counting thread, one core`);

  const python = pythonTiktoken();
  interface Result { loadSeconds: number; countSeconds: number; processSeconds: number; counts: number[] }
  /**
   * Python tiktoken and one candidate, both loaded, count the corpus chunk by chunk in lockstep: each chunk by one,
   * then by the other (the first alternating), so that both are timed under the same state of this shared machine,
   * whose speed for the same code changes two- to three-fold within a minute.
   */
  const runPair = async (name: string): Promise<[Result, Result, string]> => {
    const counters = [
      new Counter('python-tiktoken', python.python, ['-c', PYTHON_PROGRAM, textsFile, join(OUT, 'tokenizer-counts-python-tiktoken.json')], python.env),
      new Counter(name, process.execPath, ['-e', NODE_PROGRAM, name, textsFile, join(OUT, `tokenizer-counts-${name}.json`)], process.env),
    ];
    const loadSeconds = await Promise.all(counters.map(async (c) => (JSON.parse(await c.line()) as { loadSeconds: number }).loadSeconds));
    const countSeconds = [0, 0];
    const loads: number[] = [];
    for (let from = 0, chunk = 0; from < texts.length; from += CHUNK_TEXTS, chunk++) {
      const to = Math.min(from + CHUNK_TEXTS, texts.length);
      for (const which of chunk % 2 === 0 ? [0, 1] : [1, 0]) countSeconds[which]! += await counters[which]!.chunk(from, to);
      loads.push(loadavg()[0]!);
    }
    const processSeconds = await Promise.all(counters.map((c) => c.end()));
    const results = counters.map((c, i): Result => ({
      loadSeconds: loadSeconds[i]!, countSeconds: countSeconds[i]!, processSeconds: processSeconds[i]!,
      counts: JSON.parse(readFileSync(join(OUT, `tokenizer-counts-${c.name}.json`), 'utf8')) as number[],
    }));
    return [results[0]!, results[1]!, `${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`];
  };
  const ratios = new Map<string, number[]>(candidates.map((name) => [name, []]));
  /** Each one's least counting CPU over the rounds: the run least slowed by the machine's other work. */
  const best = new Map<string, { seconds: number; python: number }>();
  const print = (name: string, result: Result, reference: Result, ratio: number, load: string): void => {
    const mismatches = result.counts.reduce((n, c, i) => n + (c === reference.counts[i] ? 0 : 1), 0);
    const total = result.counts.reduce((a, b) => a + b, 0);
    console.log(`${name.padEnd(16)} ${(megabytes / result.countSeconds).toFixed(2).padStart(6)} MB/s (${ratio.toFixed(2)}x Python; process ${(megabytes / result.processSeconds).toFixed(2)} MB/s)  load ${result.loadSeconds.toFixed(2)} s CPU  ${total.toLocaleString('en-US')} tokens  mismatches vs Python tiktoken: ${mismatches}   load avg ${load}`);
  };
  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1) console.log(`round ${round} of ${rounds}`);
    for (const name of candidates) {
      const [reference, result, load] = await runPair(name);
      const ratio = reference.countSeconds / result.countSeconds;
      ratios.get(name)!.push(ratio);
      if (result.countSeconds < (best.get(name)?.seconds ?? Infinity)) best.set(name, { seconds: result.countSeconds, python: reference.countSeconds });
      print('python-tiktoken', reference, reference, 1, load);
      print(name, result, reference, ratio, load);
    }
  }
  if (rounds > 1) {
    for (const [name, values] of ratios) {
      const sorted = [...values].sort((a, b) => a - b);
      const { seconds, python: pythonSeconds } = best.get(name)!;
      console.log(`${name.padEnd(16)} x Python over ${rounds} rounds: min ${sorted[0]!.toFixed(2)}, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)}, max ${sorted[sorted.length - 1]!.toFixed(2)}; its fastest run: ${(megabytes / seconds).toFixed(2)} MB/s beside Python's ${(megabytes / pythonSeconds).toFixed(2)} MB/s = ${(pythonSeconds / seconds).toFixed(2)}x`);
    }
  }
}

void main();
