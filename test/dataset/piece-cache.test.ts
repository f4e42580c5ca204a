/**
 * The pool's shared piece cache (src/dataset/piece-cache.ts) and how many threads the pool starts (pool.ts): counts
 * through a cache that several threads fill at once stay exact, and a small file starts no more threads than asked.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { PieceCache, SharedPieceCache } from '../../src/dataset/piece-cache';
import { LinePool } from '../../src/dataset/pool';
import { createTokenCounter } from '../../src/dataset/tokens';
import { mulberry32 } from '../../src/emulator/faults';

const ALPHABETS = ['abcdefghij klmnop', 'Größe schön ß', 'привет мир', '的一是不了在人有我他', 'のにはをたがでて', 'ابتثجح', ' 0123456789', ',.!?;:()"\'', '\n\t  ', '👩‍👧🇳🇴'];

/** Mixed-script text that repeats words often, as prose does, with new ones throughout. */
function texts(seed: number, count: number): string[] {
  const random = mulberry32(seed);
  const word = (): string => {
    const alphabet = [...ALPHABETS[Math.floor(random() * ALPHABETS.length)]!];
    let out = '';
    for (let n = 1 + Math.floor(random() * 6); n > 0; n--) out += alphabet[Math.floor(random() * alphabet.length)];
    return out;
  };
  const vocabulary = Array.from({ length: 300 }, word);
  return Array.from({ length: count }, () => {
    let text = '';
    for (let n = 5 + Math.floor(random() * 40); n > 0; n--) text += (random() < 0.8 ? vocabulary[Math.floor(random() * vocabulary.length)] : word()) + (random() < 0.7 ? ' ' : '');
    return text;
  });
}

/** Counts `items` in a worker thread with a counter over the shared table `buffer`. */
function countInThread(buffer: SharedArrayBuffer, items: string[]): Promise<number[]> {
  const source = `require('tsx/cjs');
    const { parentPort, workerData } = require('node:worker_threads');
    const { SharedPieceCache } = require(${JSON.stringify(join(__dirname, '../../src/dataset/piece-cache.ts'))});
    const { createTokenCounter } = require(${JSON.stringify(join(__dirname, '../../src/dataset/tokens.ts'))});
    const counter = createTokenCounter('o200k_base', new SharedPieceCache(workerData.buffer));
    parentPort.postMessage(workerData.items.map((text) => counter.count(text)));`;
  const worker = new Worker(source, { eval: true, workerData: { buffer, items } });
  return new Promise((resolve, reject) => {
    worker.once('message', (counts: number[]) => {
      resolve(counts);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

describe('shared piece cache', () => {
  const reference = createTokenCounter('o200k_base', new PieceCache());

  it('gives every thread the same exact counts while three threads fill it at once', async () => {
    const items = texts(7, 1500);
    const expected = items.map((text) => reference.count(text));
    const cache = SharedPieceCache.create();
    // The same texts in three orders, so that the threads insert the same pieces at the same time.
    const orders = [items, [...items].reverse(), [...items.slice(750), ...items.slice(0, 750)]];
    const results = await Promise.all(orders.map((order) => countInThread(cache.buffer, order)));
    assert.deepEqual(results[0], expected);
    assert.deepEqual([...results[1]!].reverse(), expected);
    assert.deepEqual([...results[2]!.slice(750), ...results[2]!.slice(0, 750)], expected);
    assert.ok(cache.size > 1000, `${cache.size} pieces shared`);
    // Another view of the table (as a thread has) finds what the threads cached.
    const view = createTokenCounter('o200k_base', new SharedPieceCache(cache.buffer));
    assert.deepEqual(items.map((text) => view.count(text)), expected);
  });

  it('stays exact once the shared table is full, caching further pieces per thread', () => {
    const cache = SharedPieceCache.create(8, 64);
    const tiny = createTokenCounter('o200k_base', cache);
    for (const text of texts(11, 400)) assert.equal(tiny.count(text), reference.count(text), JSON.stringify(text));
    assert.equal(cache.size, 8);
  });
});

describe('line pool threads', () => {
  const options = { method: 'supervised' as const, model: 'gpt-4.1-mini', allowImages: false, encoding: 'o200k_base' as const, maxIssues: 10 };
  const batch = (): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from('{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello there"}]}\n'));

  it('starts no more threads than a file asks for, and more when one asks for more', async () => {
    const pool = new LinePool(2);
    const first = await Promise.all(Array.from({ length: 4 }, () => pool.check(batch(), options, 1)));
    assert.equal(pool.running, 1);
    const second = await Promise.all(Array.from({ length: 4 }, () => pool.check(batch(), options, 2)));
    assert.equal(pool.running, 2);
    for (const result of [...first, ...second]) assert.deepEqual([...result.tokens], [first[0]!.tokens[0]]);
  });
});
