/**
 * Compares o200k_base tokenizer libraries on the benchmark corpus: throughput of counting the tokens of every text
 * field, and whether all libraries agree on every count (exactness). Run: `npx tsx bench/tokenizers.ts [--size-mb 16]`.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { get_encoding } from 'tiktoken';
import { createTokenCounter } from '../src/dataset/tokens';
import { writeChatCorpus } from './validate-corpus';

const sizeArg = process.argv.indexOf('--size-mb');
const sizeMb = sizeArg > 0 ? Number(process.argv[sizeArg + 1]) : 16;

function collectTexts(value: unknown, into: string[]): void {
  if (typeof value === 'string') into.push(value);
  else if (Array.isArray(value)) for (const item of value) collectTexts(item, into);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) collectTexts(item, into);
}

async function main(): Promise<void> {
  const outDir = join(__dirname, 'out');
  mkdirSync(outDir, { recursive: true });
  const path = join(outDir, `tokenizers-${sizeMb}mb.jsonl`);
  await writeChatCorpus(path, sizeMb * 1024 * 1024, 7);
  const texts: string[] = [];
  for (const line of readFileSync(path, 'utf8').replace(/^\uFEFF/, '').split('\n')) if (line) collectTexts(JSON.parse(line), texts);
  const textBytes = texts.reduce((sum, t) => sum + Buffer.byteLength(t), 0);

  // js-tiktoken ships as an ES module only.
  const { getEncoding } = await import('js-tiktoken');
  const jsTiktoken = getEncoding('o200k_base');
  const wasmTiktoken = get_encoding('o200k_base');
  const ftpipe = createTokenCounter('o200k_base');
  const noSpecial = { disallowedSpecial: new Set<string>() };
  const candidates: Array<{ name: string; count: (text: string) => number }> = [
    { name: 'gpt-tokenizer countTokens', count: (t) => countTokens(t, noSpecial) },
    { name: 'js-tiktoken encode', count: (t) => jsTiktoken.encode(t, [], []).length },
    { name: 'tiktoken (wasm) encode_ordinary', count: (t) => wasmTiktoken.encode_ordinary(t).length },
    { name: 'ftpipe: BPE over tiktoken ranks', count: (t) => ftpipe.count(t) },
  ];

  console.log(`corpus: ${texts.length} text fields, ${(textBytes / 1e6).toFixed(1)} MB of text (${sizeMb} MiB of JSONL)`);
  let reference: Uint32Array | undefined;
  for (const { name, count } of candidates) {
    const counts = new Uint32Array(texts.length);
    const started = process.hrtime.bigint();
    for (let i = 0; i < texts.length; i++) counts[i] = count(texts[i]!);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const mismatches = reference ? counts.reduce((n, c, i) => n + (c === reference![i] ? 0 : 1), 0) : 0;
    reference ??= counts;
    const total = counts.reduce((a, b) => a + b, 0);
    console.log(`${name.padEnd(34)} ${(textBytes / 1e6 / seconds).toFixed(2).padStart(7)} MB/s of text  ${total} tokens  mismatches vs first: ${mismatches}`);
  }
  wasmTiktoken.free();
}

void main();
