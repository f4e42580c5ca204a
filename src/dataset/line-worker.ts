/**
 * Worker thread entry: checks and tokenizes batches of lines sent by the validator (see pool.ts), so tokenizing,
 * the dominant cost, runs on every core. A thread lives as long as its pool and serves every validation: each batch
 * says what to check it for, and the thread keeps one token counter per encoding, over the pool's piece cache for
 * that encoding, which every thread of the pool shares.
 */
import { parentPort } from 'node:worker_threads';
import type { TokenEncoding } from '../catalog';
import type { BatchResult } from './batch';
import { checkLines, type LineCheckOptions } from './lines';
import { SharedPieceCache } from './piece-cache';
import { createTokenCounter, type TokenCounter } from './tokens';

export interface BatchRequest {
  batch: number;
  data: Uint8Array<ArrayBuffer>;
  options: LineCheckOptions;
  /** The pool's piece cache for `options.encoding`: sent with the thread's first batch of that encoding only. */
  pieceCache?: SharedArrayBuffer;
}

export interface BatchResponse {
  batch: number;
  result: BatchResult;
}

const counters = new Map<TokenEncoding, TokenCounter>();

parentPort?.on('message', ({ batch, data, options, pieceCache }: BatchRequest) => {
  let counter = counters.get(options.encoding);
  if (!counter) {
    if (!pieceCache) throw new Error(`the first batch for ${options.encoding} came without its piece cache`);
    counter = createTokenCounter(options.encoding, new SharedPieceCache(pieceCache));
    counters.set(options.encoding, counter);
  }
  const result = checkLines(data, options, counter);
  const response: BatchResponse = { batch, result };
  const { kinds, wellFormed, tokens, contextTokens, trainableTokens, hashes } = result;
  parentPort?.postMessage(response, [kinds.buffer, wellFormed.buffer, tokens.buffer, contextTokens.buffer, trainableTokens.buffer, hashes.buffer]);
});
