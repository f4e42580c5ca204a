/** A fixed pool of line-checking worker threads: by default one per core, at most four. */
import { availableParallelism } from 'node:os';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BatchRequest, BatchResponse, LineWorkerData } from './line-worker';
import type { BatchResult } from './batch';
import { compileTokenizer } from './tokens';

interface Pending {
  resolve: (result: BatchResult) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  pending: Map<number, Pending>;
}

/**
 * Each worker costs about 80 MB (its tokenizer and caches): the cap keeps memory bounded on a large host, where four
 * workers already validate a 512 MB file in well under a minute.
 */
const DEFAULT_MAX_THREADS = 4;

/**
 * Each worker parses and drops a quarter megabyte of JSON per batch; a small young generation collects that garbage
 * early instead of letting every thread's heap grow (the peak-RSS target is 400 MB for a 512 MB file).
 */
const YOUNG_GENERATION_MB = 8;

/**
 * Starts the worker from the same kind of file as this module: compiled .js normally; under tsx (tests, benchmarks)
 * the .ts source, through tsx's CommonJS hook, which worker threads do not inherit from the parent's loader flags.
 */
function startWorker(config: LineWorkerData): Worker {
  const script = join(__dirname, `line-worker${extname(__filename)}`);
  const options = { workerData: config, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } };
  if (extname(__filename) !== '.ts') return new Worker(script, options);
  const bootstrap = `require('tsx/cjs'); require(${JSON.stringify(script)});`;
  return new Worker(bootstrap, { ...options, eval: true });
}

export class LinePool {
  private readonly workers: PoolWorker[];
  private nextBatch = 0;
  private failure: Error | undefined;

  /** Starts `threads` workers (one per core, at most DEFAULT_MAX_THREADS, by default), all sharing one compiled tokenizer. */
  static async start(config: Omit<LineWorkerData, 'tokenizer'>, threads = Math.min(availableParallelism(), DEFAULT_MAX_THREADS)): Promise<LinePool> {
    return new LinePool({ ...config, tokenizer: await compileTokenizer() }, threads);
  }

  private constructor(config: LineWorkerData, threads: number) {
    this.workers = Array.from({ length: Math.max(1, threads) }, () => {
      const entry: PoolWorker = { worker: startWorker(config), pending: new Map() };
      entry.worker.on('message', ({ batch, result }: BatchResponse) => {
        const pending = entry.pending.get(batch);
        entry.pending.delete(batch);
        pending?.resolve(result);
      });
      const fail = (error: Error): void => {
        this.failure ??= error;
        for (const pending of entry.pending.values()) pending.reject(error);
        entry.pending.clear();
      };
      entry.worker.on('error', fail);
      entry.worker.on('exit', (code) => {
        if (entry.pending.size > 0) fail(new Error(`dataset worker exited with code ${code}`));
      });
      return entry;
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /** Sends a batch (its buffer is transferred, not copied) to the least busy worker. */
  check(data: Uint8Array<ArrayBuffer>): Promise<BatchResult> {
    if (this.failure) return Promise.reject(this.failure);
    const entry = this.workers.reduce((best, w) => (w.pending.size < best.pending.size ? w : best));
    const batch = this.nextBatch++;
    return new Promise<BatchResult>((resolve, reject) => {
      entry.pending.set(batch, { resolve, reject });
      const request: BatchRequest = { batch, data };
      entry.worker.postMessage(request, [data.buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
