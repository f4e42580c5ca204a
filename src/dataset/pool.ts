/**
 * The process's pool of line-checking worker threads: one per core, at most four, started on first use and kept for
 * the process's life, shared by every validation (each batch says what it is checked for). Threads keep their
 * tokenizers loaded and their caches warm between validations; an idle pool does not keep the process alive.
 */
import { availableParallelism, loadavg } from 'node:os';
import { extname, join } from 'node:path';
import type * as WorkerThreads from 'node:worker_threads';
import type { TokenEncoding } from '../catalog';
import type { BatchRequest, BatchResponse } from './line-worker';
import type { BatchResult } from './batch';
import type { LineCheckOptions } from './lines';
import { SharedPieceCache } from './piece-cache';

interface Pending {
  resolve: (result: BatchResult) => void;
  reject: (error: Error) => void;
}

type Worker = WorkerThreads.Worker;

interface PoolWorker {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Encodings whose piece cache this thread has been sent. */
  caches: Set<TokenEncoding>;
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
 * A thread's start costs 0.1-0.2 s of CPU (Node's bootstrap of a worker, the modules and token tables, a cold JIT):
 * as much as checking 1-2 MB. A file starts one thread per this many bytes, so that a thread's start is a small part
 * of its share; threads already running take any file's batches.
 */
const BYTES_PER_NEW_THREAD = 4 * 1024 * 1024;

/**
 * How many threads a file of `bytes` may start: one per BYTES_PER_NEW_THREAD, and no more than the cores the
 * machine's load average leaves idle (at least one): on a busy machine another thread only adds its start and
 * competes for the same cores (measured: a 10 MiB file took 2.2 s of CPU on two new threads, 1.5 s on one).
 */
export function threadsToStart(bytes: number): number {
  const idleCores = Math.max(1, availableParallelism() - Math.floor(loadavg()[0]!));
  return Math.max(1, Math.min(MAX_THREADS, Math.ceil(bytes / BYTES_PER_NEW_THREAD), idleCores));
}

/**
 * Starts the worker from the same kind of file as this module: compiled .js normally; under tsx (tests, benchmarks)
 * the .ts source, through tsx's CommonJS hook, which worker threads do not inherit from the parent's loader flags.
 */
function startWorker(): Worker {
  // Loaded here, not at the top: a file checked on the calling thread (every file up to 1 MiB, and in the CLI every
  // file that would start one thread) starts no thread, and node:worker_threads cost 2-5 ms of a cold start's CPU.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Worker } = require('node:worker_threads') as typeof WorkerThreads;
  const script = join(__dirname, `line-worker${extname(__filename)}`);
  const options = { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } };
  if (extname(__filename) !== '.ts') return new Worker(script, options);
  const bootstrap = `require('tsx/cjs'); require(${JSON.stringify(script)});`;
  return new Worker(bootstrap, { ...options, eval: true });
}

export class LinePool {
  private readonly workers: Array<PoolWorker | undefined>;
  /** One piece cache per encoding, shared by the threads (a thread restarted after a crash gets it again). */
  private readonly pieceCaches = new Map<TokenEncoding, SharedPieceCache>();
  private nextBatch = 0;

  constructor(threads: number) {
    this.workers = Array.from({ length: Math.max(1, threads) }, () => undefined);
  }

  get size(): number {
    return this.workers.length;
  }

  /** The threads' piece cache for `encoding`, made on first use; the calling thread may count over it too. */
  pieceCache(encoding: TokenEncoding): SharedPieceCache {
    let cache = this.pieceCaches.get(encoding);
    if (!cache) {
      cache = SharedPieceCache.create();
      this.pieceCaches.set(encoding, cache);
    }
    return cache;
  }

  /** Threads started and not exited. */
  get running(): number {
    return this.workers.filter((worker) => worker !== undefined).length;
  }

  /** The thread in `slot`, started (or restarted, after a crash) when needed. */
  private workerAt(slot: number): PoolWorker {
    const existing = this.workers[slot];
    if (existing) return existing;
    const entry: PoolWorker = { worker: startWorker(), pending: new Map(), caches: new Set() };
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

  /**
   * Whether `check` would hand a batch to a thread that can start on it soon: a running thread with fewer than
   * `depth` batches queued, or a thread not started yet when fewer than `threads` (at most the pool's size) run.
   */
  hasRoom(threads: number, depth: number): boolean {
    let running = 0;
    for (const worker of this.workers) {
      if (!worker) continue;
      running++;
      if (worker.pending.size < depth) return true;
    }
    return running < Math.min(threads, this.workers.length);
  }

  /**
   * Sends a batch (its buffer is transferred, not copied) to the least busy running thread, or starts another one
   * when every running thread has work and fewer than `threads` (at most the pool's size) run.
   */
  check(data: Uint8Array<ArrayBuffer>, options: LineCheckOptions, threads = this.workers.length): Promise<BatchResult> {
    let slot = -1;
    let running = 0;
    for (let i = 0; i < this.workers.length; i++) {
      const worker = this.workers[i];
      if (!worker) continue;
      running++;
      if (slot === -1 || worker.pending.size < this.workers[slot]!.pending.size) slot = i;
    }
    if (slot === -1 || (this.workers[slot]!.pending.size > 0 && running < Math.min(threads, this.workers.length))) {
      slot = this.workers.findIndex((worker) => worker === undefined);
    }
    const entry = this.workerAt(slot);
    const batch = this.nextBatch++;
    const request: BatchRequest = { batch, data, options };
    if (!entry.caches.has(options.encoding)) {
      request.pieceCache = this.pieceCache(options.encoding).buffer;
      entry.caches.add(options.encoding);
    }
    return new Promise<BatchResult>((resolve, reject) => {
      entry.pending.set(batch, { resolve, reject });
      entry.worker.ref();
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
