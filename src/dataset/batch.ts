/**
 * What a worker returns for a batch of lines: per-line numbers in typed arrays (transferred, not copied) and the
 * first issues. Kept apart from lines.ts so that the pool (pool.ts) does not load the tokenizer on the main thread.
 */
import type { LineIssue } from './issues';

export interface BatchIssue extends LineIssue {
  /** 0-based line index within the batch. */
  index: number;
}

export interface BatchResult {
  lineCount: number;
  /** Per line: LINE_BLANK, LINE_INVALID (not a parsable JSON value) or LINE_EXAMPLE. */
  kinds: Uint8Array<ArrayBuffer>;
  /** Per line: 1 when the example has no error. */
  wellFormed: Uint8Array<ArrayBuffer>;
  tokens: Uint32Array<ArrayBuffer>;
  contextTokens: Uint32Array<ArrayBuffer>;
  trainableTokens: Uint32Array<ArrayBuffer>;
  /** Per line: the first 8 bytes of the SHA-1 of the line's bytes (two uint32s), for duplicate detection. */
  hashes: Uint32Array<ArrayBuffer>;
  imageParts: number;
  /** The first `maxIssues` errors and the first `maxIssues` warnings, in line order; the rest are only counted. */
  issues: BatchIssue[];
  errorCount: number;
  warningCount: number;
}

export const LINE_BLANK = 0;
export const LINE_INVALID = 1;
export const LINE_EXAMPLE = 2;

/** The result for one line the reader skipped because it exceeds MAX_LINE_BYTES (see validate.ts). */
export function oversizedLine(bytes: number, maxBytes: number): BatchResult {
  return {
    lineCount: 1, kinds: new Uint8Array([LINE_INVALID]), wellFormed: new Uint8Array(1), tokens: new Uint32Array(1),
    contextTokens: new Uint32Array(1), trainableTokens: new Uint32Array(1), hashes: new Uint32Array(2), imageParts: 0,
    issues: [{ index: 0, path: null, code: 'LINE_TOO_LONG', message: `line of more than ${bytes.toLocaleString('en-US')} bytes; ftpipe reads lines of at most ${maxBytes.toLocaleString('en-US')}` }],
    errorCount: 1, warningCount: 0,
  };
}
