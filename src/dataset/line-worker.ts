/**
 * Worker thread entry: checks and tokenizes batches of lines sent by the validator (see pool.ts), so tokenizing,
 * the dominant cost, runs on every core. A thread lives as long as its pool and serves every validation: each batch
 * says what to check it for, and the thread keeps one token counter per encoding.
 */
import { parentPort } from 'node:worker_threads';
import type { BatchResult } from './batch';
import { checkLines, type LineCheckOptions } from './lines';
import { sharedTokenCounter } from './tokens';

export interface BatchRequest {
  batch: number;
  data: Uint8Array<ArrayBuffer>;
  options: LineCheckOptions;
}

export interface BatchResponse {
  batch: number;
  result: BatchResult;
}

parentPort?.on('message', ({ batch, data, options }: BatchRequest) => {
  const result = checkLines(data, options, sharedTokenCounter(options.encoding));
  const response: BatchResponse = { batch, result };
  const { kinds, wellFormed, tokens, contextTokens, trainableTokens, hashes } = result;
  parentPort?.postMessage(response, [kinds.buffer, wellFormed.buffer, tokens.buffer, contextTokens.buffer, trainableTokens.buffer, hashes.buffer]);
});
