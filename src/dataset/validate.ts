/**
 * Validates a fine-tuning dataset before upload: reads each file once (reader.ts), the process's worker threads check
 * and tokenize the lines (pool.ts, lines.ts), or this thread does for a small file, and the results are folded back
 * here in line order.
 */
import { statSync } from 'node:fs';
import { BUILTIN_CATALOG, resolveModel, type Catalog, type FineTuningMethod, type ModelEntry, type TokenEncoding } from '../catalog';
import { LineHashIndex } from './hash-index';
import { severityOf, type Issue, type IssueCode } from './issues';
import { DEFAULT_MAX_ISSUES, INLINE_VALIDATION_MAX_BYTES, MAX_FILE_BYTES, MAX_LINE_BYTES, MIN_TRAINING_EXAMPLES, RECOMMENDED_TRAINING_EXAMPLES, UTF8_BOM } from './limits';
import { LINE_BLANK, LINE_EXAMPLE, oversizedLine, type BatchResult } from './batch';
import { checkLines, type LineCheckOptions } from './lines';
import { sharedLinePool, threadsToStart, type LinePool } from './pool';
import { createTokenCounter, sharedTokenCounter, type TokenCounter } from './tokens';
import { readLineBatches, readSmallFileBatches, type FileFacts, type LineBatch } from './reader';
import { autoEpochs, CountList, type TokenDistribution } from './statistics';

export interface ValidateDatasetOptions {
  /** Absent when the training data is not local (a URL Azure imports, or a file already on the account). */
  trainingFile?: string;
  validationFile?: string;
  /** Base model as the fine-tuning API takes it (`gpt-4.1-mini`, `gpt-4.1-mini-2025-04-14`, or a `.ft-` model). */
  model: string;
  method?: FineTuningMethod;
  /** Explicit `n_epochs`; when absent the service's automatic rule applies. */
  nEpochs?: number;
  catalog?: Catalog;
  /**
   * A method the catalogue does not list for the model: `refuse` (default) or `accept` (the pipeline, whose preflight
   * judged the plan against the dated catalogue: a warning, or a refusal under strict checks). The lines are checked
   * in the method's format either way.
   */
  unlistedMethod?: 'refuse' | 'accept';
  /** How many errors, and how many warnings, the report lists; the rest are counted. */
  maxIssues?: number;
  /** Files up to this many bytes are checked on the calling thread, larger ones on the worker threads (0: all on the threads). */
  inlineMaxBytes?: number;
  /**
   * The calling thread has nothing else to do (the CLI): it is one of the threads that check lines (so a file that
   * would start one worker thread, see threadsToStart in pool.ts, is checked here, without that thread's start), and
   * checks a batch itself whenever the worker threads have enough queued. Off in the worker, whose event loop serves
   * other activities.
   */
  callerThreadIdle?: boolean;
  /**
   * Threads that check a file's lines, the calling thread included when it is idle. Default: one per 4 MiB of the
   * file, no more than the cores the machine's load leaves idle (threadsToStart in pool.ts); a file up to
   * `inlineMaxBytes` is checked on the calling thread alone.
   */
  threads?: number;
  /** Called after each batch of lines is read (about every 256 KiB): an activity heartbeats from here. */
  onProgress?: (progress: ValidationProgress) => void;
  /** Stops validation between batches (the promise rejects with the signal's reason); workers are shut down. */
  signal?: AbortSignal;
}

export interface ValidationProgress {
  file: FileRole;
  bytesRead: number;
  bytes: number;
}

export type FileRole = 'training' | 'validation';

export interface TokenStatistics extends Partial<TokenDistribution> {
  /** Well-formed examples whose tokens were counted. */
  countedExamples: number;
  totalTokens: number;
  /** Tokens of assistant messages with weight 1 (supervised) or of both outputs (DPO). */
  trainableTokens: number;
  /** Image parts, which are billed by image size rather than as text tokens, so are not in the totals. */
  imageParts: number;
}

export interface FileReport {
  role: FileRole;
  path: string;
  /** Size on disk. */
  bytes: number;
  hasBom: boolean;
  /** Size of what the upload step sends (the file, with a BOM in front if it lacked one). */
  uploadBytes: number;
  /** SHA-256 (hex) of exactly those upload bytes: a content key for deduplicating uploads. */
  uploadSha256: string;
  lines: number;
  /** Non-blank lines. */
  examples: number;
  blankLines: number;
  duplicateExamples: number;
  errorCount: number;
  warningCount: number;
  tokens: TokenStatistics;
}

export interface ValidationReport {
  valid: boolean;
  /** The resolved catalogue model, e.g. `gpt-4.1-mini-2025-04-14`. */
  model: string;
  method: FineTuningMethod;
  trainingContextTokens: number | null;
  /** False for models whose tokenizer is not a tiktoken encoding (catalogue `approximateTokenCounts`). */
  exactTokenCounts: boolean;
  files: FileReport[];
  errorCount: number;
  warningCount: number;
  /** The first `maxIssues` errors in file and line order; `errorCount - errors.length` more were counted. */
  errors: Issue[];
  warnings: Issue[];
  epochs: { count: number; source: 'explicit' | 'auto' };
  /** Training tokens times epochs (each example capped at the context length); null for reinforcement, billed by training time. */
  billedTokensEstimate: number | null;
}

/** Bad arguments rather than bad data: unknown model, method the model lacks, missing file. The CLI exits 2. */
export class DatasetUsageError extends Error {
  override readonly name = 'DatasetUsageError';
}

/** Collects issues in order, keeping the first `max` errors and `max` warnings and counting all. */
class IssueList {
  readonly errors: Issue[] = [];
  readonly warnings: Issue[] = [];
  errorCount = 0;
  warningCount = 0;

  constructor(private readonly max: number) {}

  add(issue: Issue): void {
    if (severityOf(issue.code) === 'error') {
      if (this.errorCount++ < this.max) this.errors.push(issue);
    } else if (this.warningCount++ < this.max) this.warnings.push(issue);
  }

  /** Counts issues a worker found but did not send (beyond its own cap). */
  addUnsent(errors: number, warnings: number): void {
    this.errorCount += errors;
    this.warningCount += warnings;
  }
}

/** Checks batches of lines: on the process's worker threads, on the calling thread, or on both. */
interface LineChecker {
  /** How many batches may be in flight at once. */
  readonly parallelism: number;
  check(lines: Uint8Array<ArrayBuffer>): Promise<BatchResult>;
}

/** Batches queued per worker thread before the idle calling thread checks the next one itself. */
const QUEUED_PER_THREAD = 2;

/** The idle calling thread's counters over the pool's piece caches, so that a piece merged by one thread is a hit in all. */
const poolCounters = new Map<TokenEncoding, TokenCounter>();

function poolCounter(pool: LinePool, encoding: TokenEncoding): TokenCounter {
  let counter = poolCounters.get(encoding);
  if (!counter) {
    counter = createTokenCounter(encoding, pool.pieceCache(encoding));
    poolCounters.set(encoding, counter);
  }
  return counter;
}

function lineChecker(bytes: number, options: LineCheckOptions, context: Pick<FileScanContext, 'inlineMaxBytes' | 'callerThreadIdle' | 'threads'>): LineChecker {
  const threads = context.threads ?? (bytes <= context.inlineMaxBytes ? 0 : threadsToStart(bytes));
  // An idle calling thread is one of the threads: it checks a batch itself whenever the workers have enough queued.
  const workers = context.callerThreadIdle ? threads - 1 : threads;
  const inline = (tokens: TokenCounter): LineChecker['check'] => (lines) => Promise.resolve(checkLines(lines, options, tokens));
  if (workers <= 0) {
    // A thread hop and a second copy of the tokenizer would cost more than checking a small file here.
    return { parallelism: 1, check: inline(sharedTokenCounter(options.encoding)) };
  }
  const pool = sharedLinePool();
  const onWorkers = Math.min(workers, pool.size);
  if (!context.callerThreadIdle) return { parallelism: onWorkers * QUEUED_PER_THREAD, check: (lines) => pool.check(lines, options, workers) };
  const here = inline(poolCounter(pool, options.encoding));
  return {
    // Threads already running take batches too (see LinePool.check), however few this file may start.
    parallelism: (pool.size + 1) * QUEUED_PER_THREAD,
    check: (lines) => (pool.hasRoom(workers, QUEUED_PER_THREAD) ? pool.check(lines, options, workers) : here(lines)),
  };
}

interface FileScanContext {
  model: ModelEntry;
  lineOptions: LineCheckOptions;
  inlineMaxBytes: number;
  callerThreadIdle: boolean;
  threads: number | undefined;
  issues: IssueList;
  trainingHashes: LineHashIndex | undefined;
  onProgress: ValidateDatasetOptions['onProgress'];
  signal: AbortSignal | undefined;
}

interface FileScan {
  report: FileReport;
  hashes: LineHashIndex;
  /** Sum over well-formed examples of their tokens, each capped at the training context length. */
  billableTokens: number;
}

/**
 * Slots for a file's line hashes to start with: about two per line of 64 bytes (the table grows when half full), from
 * 1,024 to 65,536, so that a small file does not allocate and clear the largest table (768 KiB) on every validation.
 */
function hashIndexCapacity(bytes: number): number {
  let capacity = 1024;
  while (capacity < 65_536 && capacity * 32 < bytes) capacity <<= 1;
  return capacity;
}

/**
 * The file's batches: a small file (checked on this thread) read at once, with a turn of the event loop between its
 * batches so that one validation blocks it for one batch at a time, as a streamed file does; a larger one streamed.
 */
async function* fileBatches(path: string, bytes: number, inlineMaxBytes: number, facts: FileFacts): AsyncGenerator<LineBatch> {
  if (bytes > inlineMaxBytes) {
    yield* readLineBatches(path, facts);
    return;
  }
  const batches = readSmallFileBatches(path, facts);
  for (let i = 0; i < batches.length; i++) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    yield batches[i]!;
  }
}

async function scanFile(path: string, bytes: number, role: FileRole, context: FileScanContext): Promise<FileScan> {
  const { model, trainingHashes } = context;
  const issues = context.issues;
  const errorsBefore = issues.errorCount;
  const warningsBefore = issues.warningCount;
  const checker = lineChecker(bytes, context.lineOptions, context);
  const hashes = new LineHashIndex(hashIndexCapacity(bytes));
  const counts = new CountList();
  const limit = model.trainingContextTokens;
  const report: FileReport = {
    role, path, bytes, hasBom: false, uploadBytes: bytes, uploadSha256: '', lines: 0, examples: 0, blankLines: 0, duplicateExamples: 0,
    errorCount: 0, warningCount: 0, tokens: { countedExamples: 0, totalTokens: 0, trainableTokens: 0, imageParts: 0 },
  };
  let billableTokens = 0;
  let nextLine = 1;

  const fold = (batch: BatchResult): void => {
    const firstLine = nextLine;
    nextLine += batch.lineCount;
    const found: Issue[] = batch.issues.map(({ index, path: keyPath, code, message }) => ({ file: path, line: firstLine + index, path: keyPath, code, message }));
    const add = (line: number, code: IssueCode, message: string): void => {
      found.push({ file: path, line, path: null, code, message });
    };
    for (let i = 0; i < batch.lineCount; i++) {
      const line = firstLine + i;
      if (batch.kinds[i] === LINE_BLANK) {
        report.blankLines++;
        continue;
      }
      report.examples++;
      if (batch.kinds[i] !== LINE_EXAMPLE) continue;
      const high = batch.hashes[2 * i]!;
      const low = batch.hashes[2 * i + 1]!;
      const earlier = hashes.add(high, low, line);
      if (earlier !== 0) {
        report.duplicateExamples++;
        add(line, 'DUPLICATE_EXAMPLE', `same example as line ${earlier}`);
      }
      const inTraining = trainingHashes?.get(high, low) ?? 0;
      if (inTraining !== 0) add(line, 'IN_TRAINING_AND_VALIDATION', `same example as line ${inTraining} of the training file`);
      if (batch.wellFormed[i] !== 1) continue;
      const tokens = batch.tokens[i]!;
      const contextTokens = batch.contextTokens[i]!;
      if (limit !== null && contextTokens > limit) {
        add(line, 'EXAMPLE_TOO_LONG', `example has ${contextTokens.toLocaleString('en-US')} tokens; ${model.id} trains on at most ${limit.toLocaleString('en-US')} per example`);
      }
      counts.push(tokens);
      report.tokens.totalTokens += tokens;
      report.tokens.trainableTokens += batch.trainableTokens[i]!;
      billableTokens += limit === null ? tokens : Math.min(tokens, limit);
    }
    report.tokens.imageParts += batch.imageParts;
    found.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    for (const issue of found) issues.add(issue);
    // Counted after the listed ones, so that they are not mistaken for the overflow.
    const sentErrors = batch.issues.filter((i) => severityOf(i.code) === 'error').length;
    issues.addUnsent(batch.errorCount - sentErrors, batch.warningCount - (batch.issues.length - sentErrors));
  };

  // Batches in reading order; folding the oldest when enough are in flight keeps both the workers and memory bounded.
  const inFlight: Promise<BatchResult>[] = [];
  const facts: FileFacts = { hasBom: false, utf16: false, uploadSha256: '' };
  try {
    let bytesRead = 0;
    for await (const batch of fileBatches(path, bytes, context.inlineMaxBytes, facts)) {
      context.signal?.throwIfAborted();
      if ('lines' in batch) {
        bytesRead += batch.lines.length;
        inFlight.push(checker.check(batch.lines));
      } else {
        bytesRead += batch.oversizedLineBytes;
        inFlight.push(Promise.resolve(oversizedLine(batch.oversizedLineBytes, MAX_LINE_BYTES)));
      }
      if (inFlight.length >= checker.parallelism) fold(await inFlight.shift()!);
      context.onProgress?.({ file: role, bytesRead, bytes });
    }
    while (inFlight.length > 0) fold(await inFlight.shift()!);
  } finally {
    // A failed batch must not leave its siblings' rejections unhandled.
    for (const pending of inFlight) pending.catch(() => undefined);
  }

  report.lines = nextLine - 1;
  report.hasBom = facts.hasBom;
  report.uploadBytes = bytes + (facts.hasBom ? 0 : UTF8_BOM.length);
  report.uploadSha256 = facts.uploadSha256;
  const distribution = counts.distribution();
  report.tokens.countedExamples = counts.length;
  if (distribution) Object.assign(report.tokens, distribution);

  const fileIssue = (code: IssueCode, message: string): void => issues.add({ file: path, line: null, path: null, code, message });
  if (facts.utf16) fileIssue('INVALID_UTF8', 'the file starts with a UTF-16 byte-order mark; save it as UTF-8 (with BOM)');
  else if (!facts.hasBom) fileIssue('BOM_MISSING', 'no UTF-8 byte-order mark; Azure requires one, and the upload step adds it');
  if (report.uploadBytes >= MAX_FILE_BYTES) {
    fileIssue('FILE_TOO_LARGE', `the upload is ${report.uploadBytes.toLocaleString('en-US')} bytes; Azure takes files under ${MAX_FILE_BYTES.toLocaleString('en-US')} bytes (512 MiB); split it or import it from Blob Storage`);
  }
  if (report.examples === 0) fileIssue('EMPTY_FILE', 'the file holds no examples');
  else if (role === 'training' && report.examples < MIN_TRAINING_EXAMPLES) {
    fileIssue('TOO_FEW_EXAMPLES', `${report.examples} examples; fine-tuning jobs need at least ${MIN_TRAINING_EXAMPLES}`);
  } else if (role === 'training' && report.examples < RECOMMENDED_TRAINING_EXAMPLES) {
    fileIssue('FEW_EXAMPLES', `${report.examples} examples; Azure's docs say so few examples aren't enough to noticeably influence the model, and advise hundreds or thousands`);
  }
  report.errorCount = issues.errorCount - errorsBefore;
  report.warningCount = issues.warningCount - warningsBefore;
  return { report, hashes, billableTokens };
}

/** The file's size; a synchronous stat, like the small file's read (see reader.ts). */
function requireFile(path: string, role: FileRole): number {
  const info = statSync(path, { throwIfNoEntry: false });
  if (!info) throw new DatasetUsageError(`${role} file not found: ${path}`);
  if (!info.isFile()) throw new DatasetUsageError(`${role} file is not a regular file: ${path}`);
  return info.size;
}

/** Validates the training (and validation) file for fine-tuning `model` with `method`; never uploads or changes anything. */
export async function validateDataset(options: ValidateDatasetOptions): Promise<ValidationReport> {
  const catalog = options.catalog ?? BUILTIN_CATALOG;
  const method = options.method ?? 'supervised';
  const resolved = resolveModel(options.model, catalog);
  if (!resolved) throw new DatasetUsageError(`unknown model '${options.model}'; known: ${catalog.models.map((m) => m.id).join(', ')}`);
  const model = resolved.entry;
  if (!model.methods.includes(method) && options.unlistedMethod !== 'accept') {
    throw new DatasetUsageError(`${model.id} does not support ${method} fine-tuning; it supports ${model.methods.join(', ')}`);
  }
  if (options.nEpochs !== undefined && (!Number.isInteger(options.nEpochs) || options.nEpochs < 1)) {
    throw new DatasetUsageError(`n_epochs must be a positive integer, got ${options.nEpochs}`);
  }
  options.signal?.throwIfAborted();
  if (options.trainingFile === undefined && options.validationFile === undefined) throw new DatasetUsageError('no dataset file to validate');
  const trainingBytes = options.trainingFile === undefined ? 0 : requireFile(options.trainingFile, 'training');
  const validationBytes = options.validationFile === undefined ? 0 : requireFile(options.validationFile, 'validation');

  const issues = new IssueList(options.maxIssues ?? DEFAULT_MAX_ISSUES);
  if (method === 'reinforcement' && options.trainingFile !== undefined && options.validationFile === undefined) {
    issues.add({ file: options.trainingFile, line: null, path: null, code: 'VALIDATION_FILE_REQUIRED', message: 'reinforcement fine-tuning needs a validation file too' });
  }
  const lineOptions: LineCheckOptions = {
    method, model: model.id, allowImages: model.modality === 'text+vision', encoding: model.encoding, maxIssues: options.maxIssues ?? DEFAULT_MAX_ISSUES,
  };
  const scan = { model, lineOptions, inlineMaxBytes: options.inlineMaxBytes ?? INLINE_VALIDATION_MAX_BYTES, callerThreadIdle: options.callerThreadIdle ?? false, threads: options.threads, issues, onProgress: options.onProgress, signal: options.signal };
  const training = options.trainingFile === undefined ? undefined : await scanFile(options.trainingFile, trainingBytes, 'training', { ...scan, trainingHashes: undefined });
  const validation = options.validationFile === undefined
    ? undefined
    : await scanFile(options.validationFile, validationBytes, 'validation', { ...scan, trainingHashes: training?.hashes });
  const epochs = options.nEpochs === undefined
    ? { count: autoEpochs(training?.report.examples ?? 0), source: 'auto' as const }
    : { count: options.nEpochs, source: 'explicit' as const };
  return {
    valid: issues.errorCount === 0,
    model: `${model.id}-${model.version}`,
    method,
    trainingContextTokens: model.trainingContextTokens,
    exactTokenCounts: !model.approximateTokenCounts,
    files: [training, validation].flatMap((scanned) => (scanned ? [scanned.report] : [])),
    errorCount: issues.errorCount,
    warningCount: issues.warningCount,
    errors: issues.errors,
    warnings: issues.warnings,
    epochs,
    billedTokensEstimate: method === 'reinforcement' || !training ? null : training.billableTokens * epochs.count,
  };
}
