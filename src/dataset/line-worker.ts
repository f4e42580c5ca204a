/**
 * Worker thread entry: checks and tokenizes batches of lines sent by the validator (see pool.ts), so tokenizing,
 * the dominant cost, runs on every core.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FineTuningMethod, TokenEncoding } from '../catalog';
import type { BatchResult } from './batch';
import { checkLines } from './lines';
import { createTokenCounter, type CompiledTokenizer } from './tokens';

export interface LineWorkerData {
  method: FineTuningMethod;
  model: string;
  allowImages: boolean;
  encoding: TokenEncoding;
  maxIssues: number;
  /** tiktoken's compiled WebAssembly, shared by all workers (see compileTokenizer). */
  tokenizer: CompiledTokenizer;
}

export interface BatchRequest {
  batch: number;
  data: Uint8Array<ArrayBuffer>;
}

export interface BatchResponse {
  batch: number;
  result: BatchResult;
}

const config = workerData as LineWorkerData;
// Batches that arrive while the tokenizer loads wait on this promise, and run in arrival order.
const ready = createTokenCounter(config.encoding, config.tokenizer).then((tokens) => ({
  method: config.method, model: config.model, allowImages: config.allowImages, tokens,
}));

parentPort?.on('message', ({ batch, data }: BatchRequest) => {
  void ready.then((options) => {
    const result = checkLines(data, options, config.maxIssues);
    const response: BatchResponse = { batch, result };
    const { kinds, wellFormed, tokens: counts, contextTokens, trainableTokens, hashes } = result;
    parentPort?.postMessage(response, [kinds.buffer, wellFormed.buffer, counts.buffer, contextTokens.buffer, trainableTokens.buffer, hashes.buffer]);
  });
});
