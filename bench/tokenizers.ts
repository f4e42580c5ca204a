/**
 * Compares exact o200k_base token counting, one core each, on every text field of the benchmark corpus: ftpipe's
 * counter (compiled, on plain `node`), tiktoken's WebAssembly, gpt-tokenizer and js-tiktoken, and Python tiktoken's
 * `encode_ordinary` (native Rust). Throughput is MB of text per CPU-second; every count is compared with Python
 * tiktoken's, the reference. CPU time is the counting thread's own (Linux's per-thread schedstat for node, Python's
 * `time.thread_time`), so that a garbage collector or compiler thread of V8 running beside it is not counted as
 * counting, nor the load of the machine; the whole process's CPU is printed beside it. `--rounds N` runs Python and
 * the candidates one after the other N times and prints each ratio's spread (min, median, max) and the ratio of each
 * one's best run.
 * Run: `npx tsx bench/tokenizers.ts [--size-mb 16] [--candidates ftpipe,tiktoken-wasm] [--rounds 3]`
 * (default: all four JavaScript candidates, one round; Python tiktoken always runs).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
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
 * Each candidate in a child on plain node: counts every text (a JSON array file), prints CPU seconds (the main
 * thread's, from /proc/self/task/<pid>/schedstat in nanoseconds; the process's where there is no such file) and
 * writes counts.
 */
const NODE_PROGRAM = `
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const [name, textsFile, countsFile] = process.argv.slice(1);
const texts = JSON.parse(readFileSync(textsFile, 'utf8'));
(async () => {
  let count;
  const schedstat = '/proc/self/task/' + process.pid + '/schedstat';
  const processCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
  const cpu = existsSync(schedstat) ? () => Number(readFileSync(schedstat, 'utf8').split(' ')[0]) / 1e9 : processCpu;
  const started = cpu();
  if (name === 'ftpipe') { const c = require(${JSON.stringify(COMPILED_TOKENS)}).createTokenCounter('o200k_base'); count = (t) => c.count(t); }
  if (name === 'tiktoken-wasm') { const e = require('tiktoken').get_encoding('o200k_base'); count = (t) => e.encode_ordinary(t).length; }
  if (name === 'gpt-tokenizer') { const { countTokens } = require('gpt-tokenizer/encoding/o200k_base'); const o = { disallowedSpecial: new Set() }; count = (t) => countTokens(t, o); }
  if (name === 'js-tiktoken') { const e = (await import('js-tiktoken')).getEncoding('o200k_base'); count = (t) => e.encode(t, [], []).length; }
  const loaded = cpu();
  const loadedProcess = processCpu();
  const counts = texts.map((t) => count(t));
  const done = cpu();
  const doneProcess = processCpu();
  writeFileSync(countsFile, JSON.stringify(counts));
  process.stdout.write(JSON.stringify({ loadSeconds: loaded - started, countSeconds: done - loaded, processSeconds: doneProcess - loadedProcess }));
})();`;

const PYTHON_PROGRAM = `
import json, sys, time
t0 = time.thread_time()
import tiktoken
encoding = tiktoken.get_encoding("o200k_base")
encoding.encode_ordinary("warm")
t1 = time.thread_time()
texts = json.load(open(sys.argv[1], encoding="utf-8"))
t2 = time.thread_time()
p2 = time.process_time()
counts = [len(encoding.encode_ordinary(t)) for t in texts]
t3 = time.thread_time()
p3 = time.process_time()
json.dump(counts, open(sys.argv[2], "w"))
print(json.dumps({"loadSeconds": t1 - t0, "countSeconds": t3 - t2, "processSeconds": p3 - p2}))`;

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
  interface Result { loadSeconds: number; countSeconds: number; processSeconds: number; counts: number[]; load: string }
  const run = (name: string): Result => {
    const countsFile = join(OUT, `tokenizer-counts-${name}.json`);
    const load = loadavg().map((n) => n.toFixed(2)).join(' ');
    const child = name === 'python-tiktoken'
      ? spawnSync(python.python, ['-c', PYTHON_PROGRAM, textsFile, countsFile], { encoding: 'utf8', env: python.env, maxBuffer: 1 << 26 })
      : spawnSync(process.execPath, ['-e', NODE_PROGRAM, name, textsFile, countsFile], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
    if (child.status !== 0) throw new Error(`${name} failed: ${child.stderr}`);
    return { ...(JSON.parse(child.stdout) as { loadSeconds: number; countSeconds: number; processSeconds: number }), counts: JSON.parse(readFileSync(countsFile, 'utf8')) as number[], load };
  };
  const ratios = new Map<string, number[]>(candidates.map((name) => [name, []]));
  /** Each one's least counting CPU over the rounds: the run least slowed by the machine's other work. */
  const best = new Map<string, number>();
  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1) console.log(`round ${round} of ${rounds}`);
    const reference = run('python-tiktoken');
    const rows = [['python-tiktoken', reference] as const, ...candidates.map((name) => [name, run(name)] as const)];
    for (const [name, result] of rows) {
      const mismatches = result.counts.reduce((n, c, i) => n + (c === reference.counts[i] ? 0 : 1), 0);
      const total = result.counts.reduce((a, b) => a + b, 0);
      const ratio = reference.countSeconds / result.countSeconds;
      ratios.get(name)?.push(ratio);
      best.set(name, Math.min(best.get(name) ?? Infinity, result.countSeconds));
      console.log(`${name.padEnd(16)} ${(megabytes / result.countSeconds).toFixed(2).padStart(6)} MB/s (${ratio.toFixed(2)}x Python; process ${(megabytes / result.processSeconds).toFixed(2)} MB/s)  load ${result.loadSeconds.toFixed(2)} s CPU  ${total.toLocaleString('en-US')} tokens  mismatches vs Python tiktoken: ${mismatches}   load avg ${result.load}`);
    }
  }
  if (rounds > 1) {
    for (const [name, values] of ratios) {
      const sorted = [...values].sort((a, b) => a - b);
      const bestRatio = best.get('python-tiktoken')! / best.get(name)!;
      console.log(`${name.padEnd(16)} x Python over ${rounds} rounds: min ${sorted[0]!.toFixed(2)}, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)}, max ${sorted[sorted.length - 1]!.toFixed(2)}; best run of each: ${(megabytes / best.get(name)!).toFixed(2)} vs ${(megabytes / best.get('python-tiktoken')!).toFixed(2)} MB/s = ${bestRatio.toFixed(2)}x`);
    }
  }
}

void main();
