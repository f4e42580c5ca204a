/**
 * Checks a batch of whole JSONL lines: UTF-8, blank lines, JSON syntax, the example format and its tokens, and a
 * hash of each line for duplicate detection. Runs inside the worker threads (see line-worker.ts), or on the calling
 * thread for small files (see validate.ts); pure otherwise.
 */
import { hash } from 'node:crypto';
import type { TokenEncoding } from '../catalog';
import { checkExample, type ExampleOptions, type ExampleResult } from './examples';
import { LINE_BLANK, LINE_EXAMPLE, LINE_INVALID, type BatchResult } from './batch';
import { severityOf, type IssueCode } from './issues';
import { MAX_EXACT_PIECE_CHARS } from './limits';
import type { TokenCounter } from './tokens';

/** What a batch is checked for: the example rules, the encoding its tokens are counted with, the issue cap. */
export interface LineCheckOptions extends Omit<ExampleOptions, 'tokens'> {
  encoding: TokenEncoding;
  /** Errors, and warnings, listed per batch; the rest are only counted. */
  maxIssues: number;
}

const NEWLINE = 0x0a;

const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Byte offset of the first invalid UTF-8 sequence in `bytes` (called only after a decode failed). */
function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0 || i + length > bytes.length) return i;
    const chunk = bytes.subarray(i, i + length);
    try {
      fatalDecoder.decode(chunk);
    } catch {
      return i;
    }
    i += length;
  }
  return i;
}

/** JSON.parse's message without the excerpt of the line that V8 quotes (training content stays out of reports). */
export function describeJsonError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const withoutExcerpt = message.replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '');
  // The offending character is content too: say where it is, not what it is.
  return withoutExcerpt.replace(/Unexpected token '.+?'/s, 'Unexpected character').replace(/ in JSON at position (\d+)(?: \(line \d+ column \d+\))?/, (_m, position: string) => ` at character ${Number(position) + 1}`);
}

function isBlank(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  return true;
}

export function checkLines(data: Uint8Array, check: LineCheckOptions, tokens: TokenCounter): BatchResult {
  const options: ExampleOptions = { method: check.method, model: check.model, allowImages: check.allowImages, tokens };
  const { maxIssues } = check;
  const starts: number[] = [];
  const ends: number[] = [];
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let start = 0; start < buffer.length; ) {
    const newline = buffer.indexOf(NEWLINE, start);
    const end = newline === -1 ? buffer.length : newline;
    starts.push(start);
    ends.push(end > start && buffer[end - 1] === 0x0d ? end - 1 : end);
    start = end + 1;
  }
  const lineCount = starts.length;
  const out: BatchResult = {
    lineCount,
    kinds: new Uint8Array(lineCount),
    wellFormed: new Uint8Array(lineCount),
    tokens: new Uint32Array(lineCount),
    contextTokens: new Uint32Array(lineCount),
    trainableTokens: new Uint32Array(lineCount),
    hashes: new Uint32Array(lineCount * 2),
    imageParts: 0,
    issues: [],
    errorCount: 0,
    warningCount: 0,
  };
  const report = (index: number, path: string | null, code: IssueCode, message: string): void => {
    const severity = severityOf(code);
    const seen = severity === 'error' ? out.errorCount++ : out.warningCount++;
    if (seen < maxIssues) out.issues.push({ index, path, code, message });
  };

  for (let i = 0; i < lineCount; i++) {
    const bytes = data.subarray(starts[i], ends[i]);
    if (isBlank(bytes)) {
      out.kinds[i] = LINE_BLANK;
      report(i, null, 'BLANK_LINE', 'blank line; every line must hold one JSON example');
      continue;
    }
    const digest = hash('sha1', bytes, 'buffer');
    out.hashes[2 * i] = digest.readUInt32LE(0);
    out.hashes[2 * i + 1] = digest.readUInt32LE(4);
    // Decoded line by line, not per batch, so that each line's strings die young (a small heap per worker).
    let text: string;
    try {
      text = fatalDecoder.decode(bytes);
    } catch {
      out.kinds[i] = LINE_INVALID;
      report(i, null, 'INVALID_UTF8', `invalid UTF-8 byte sequence at byte ${firstInvalidUtf8Offset(bytes) + 1} of the line; save the file as UTF-8`);
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      out.kinds[i] = LINE_INVALID;
      report(i, null, 'INVALID_JSON', `invalid JSON: ${describeJsonError(error)}`);
      continue;
    }
    out.kinds[i] = LINE_EXAMPLE;
    let checked: ExampleResult;
    const slicedBefore = options.tokens.slicedPieces;
    try {
      checked = checkExample(value, options);
    } catch (error) {
      // JSON.parse accepts deeper nesting than JSON.stringify (used to count tool definitions) can handle.
      if (!(error instanceof RangeError)) throw error;
      report(i, null, 'TOO_DEEPLY_NESTED', 'the example is nested too deeply to check');
      continue;
    }
    for (const issue of checked.issues) report(i, issue.path, issue.code, issue.message);
    if (options.tokens.slicedPieces > slicedBefore) {
      report(i, null, 'APPROXIMATE_TOKEN_COUNT', `a run of more than ${MAX_EXACT_PIECE_CHARS.toLocaleString('en-US')} characters without a space, digit or punctuation is counted in slices; its count may be high by about one token per ${MAX_EXACT_PIECE_CHARS.toLocaleString('en-US')} characters`);
    }
    out.wellFormed[i] = checked.wellFormed ? 1 : 0;
    out.tokens[i] = checked.tokens;
    out.contextTokens[i] = checked.contextTokens;
    out.trainableTokens[i] = checked.trainableTokens;
    out.imageParts += checked.imageParts;
  }
  return out;
}
