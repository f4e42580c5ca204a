/**
 * The process's pool of line-checking worker threads: one per core, at most four, started on first use and kept for
 * the process's life, shared by every validation (each batch says what it is checked for). Threads keep their
 * tokenizers loaded and their caches warm between validations; an idle pool does not keep the process alive.
 */
import { availableParallelism } from 'node:os';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BatchRequest, BatchResponse } from './line-worker';
import type { BatchResult } from './batch';
import type { LineCheckOptions } from './lines';

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
const MAX_THREADS = 4;

/**
 * Each worker parses and drops a quarter megabyte of JSON per batch; a small young generation collects that garbage
 * early instead of letting every thread's heap grow (the peak-RSS target is 400 MB for a 512 MB file).
 */
const YOUNG_GENERATION_MB = 8;

/**
 * Starts the worker from the same kind of file as this module: compiled .js normally; under tsx (tests, benchmarks)
 * the .ts source, through tsx's CommonJS hook, which worker threads do not inherit from the parent's loader flags.
 */
function startWorker(): Worker {
  const script = join(__dirname, `line-worker${extname(__filename)}`);
  const options = { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } };
  if (extname(__filename) !== '.ts') return new Worker(script, options);
  const bootstrap = `require('tsx/cjs'); require(${JSON.stringify(script)});`;
  return new Worker(bootstrap, { ...options, eval: true });
}

export class LinePool {
  private readonly workers: Array<PoolWorker | undefined>;
  private nextBatch = 0;

  constructor(threads: number) {
    this.workers = Array.from({ length: Math.max(1, threads) }, () => undefined);
  }

  get size(): number {
    return this.workers.length;
  }

  /** The thread in `slot`, started (or restarted, after a crash) when needed. */
  private workerAt(slot: number): PoolWorker {
    const existing = this.workers[slot];
    if (existing) return existing;
    const entry: PoolWorker = { worker: startWorker(), pending: new Map() };
    entry.worker.unref();
    entry.worker.on('message', ({ batch, result }: BatchResponse) => {
      const pending = entry.pending.get(batch);
      entry.pending.delete(batch);
      // Only threads with batches in flight keep the process alive (the CLI exits when its validation is done).
      if (entry.pending.size === 0) entry.worker.unref();
      pending?.resolve(result);
    });
    const fail = (error: Error): void => {
      if (this.workers[slot] === entry) this.workers[slot] = undefined;
      for (const pending of entry.pending.values()) pending.reject(error);
      entry.pending.clear();
    };
    entry.worker.on('error', fail);
    entry.worker.on('exit', (code) => fail(new Error(`dataset worker exited with code ${code}`)));
    this.workers[slot] = entry;
    return entry;
  }

  /** Sends a batch (its buffer is transferred, not copied) to the least busy thread. */
  check(data: Uint8Array<ArrayBuffer>, options: LineCheckOptions): Promise<BatchResult> {
    let slot = 0;
    for (let i = 1; i < this.workers.length; i++) {
      if ((this.workers[i]?.pending.size ?? 0) < (this.workers[slot]?.pending.size ?? 0)) slot = i;
    }
    const entry = this.workerAt(slot);
    const batch = this.nextBatch++;
    return new Promise<BatchResult>((resolve, reject) => {
      entry.pending.set(batch, { resolve, reject });
      entry.worker.ref();
      const request: BatchRequest = { batch, data, options };
      entry.worker.postMessage(request, [data.buffer]);
    });
  }
}

let shared: LinePool | undefined;

/** The process's pool, created on first use: one thread per core, at most four. */
export function sharedLinePool(): LinePool {
  shared ??= new LinePool(Math.min(availableParallelism(), MAX_THREADS));
  return shared;
}
