/**
 * Token counting the way chat fine-tuning counts: exact BPE counts of the text with the model's encoding, plus the
 * chat framing of OpenAI's cookbook (`num_tokens_from_messages` in examples/Chat_finetuning_data_prep.ipynb):
 *
 *   example = sum over messages of (TOKENS_PER_MESSAGE + tokens of each string value + TOKENS_PER_NAME if named)
 *             + REPLY_PRIMING_TOKENS
 *
 * The cookbook reads every value as a string (and so fails on `weight` or `tool_calls`); ftpipe counts what the model
 * reads: `role`, text content, `name`, `tool_call_id`, and the compact JSON of `tool_calls`, `function_call`, and the
 * example's `tools`/`functions` definitions. `weight` is a training flag, not text, and is not counted. Image parts are
 * billed by image size, which is unknown offline, so they are counted separately rather than as tokens.
 */
import type { TokenEncoding } from '../catalog';
import { countPieceTokens, loadEncodingData } from './bpe';
import { MAX_EXACT_PIECE_CHARS } from './limits';

/** `<|im_start|>`, the role and its separator, `<|im_end|>`: three tokens around every message. */
export const TOKENS_PER_MESSAGE = 3;
/** A `name` adds one token beside its text. */
export const TOKENS_PER_NAME = 1;
/** Every example is primed with `<|im_start|>assistant<|message|>`. */
export const REPLY_PRIMING_TOKENS = 3;

/** Whole texts counted through `countRepeated` (system prompts, tool definitions). */
const TEXT_CACHE_ENTRIES = 1024;
/**
 * Pieces of more than one token, per generation of their cache (two generations: a piece survives while it keeps
 * being used). About a tenth of the pieces of natural text, but most of the work: each needs a merge per token.
 */
const MERGED_PIECE_CACHE_ENTRIES = 1 << 16;

export interface TokenCounter {
  /**
   * Token count of `text`, exact except for runs longer than MAX_EXACT_PIECE_CHARS (see `slicedPieces`); special-token
   * text such as `<|endoftext|>` counts as ordinary text.
   */
  count(text: string): number;
  /** How many over-long pieces were counted in slices so far (so the caller can flag the examples holding one). */
  readonly slicedPieces: number;
  /** Same as `count`, memoized: for text that commonly repeats from example to example. */
  countRepeated(text: string): number;
}

/**
 * The encoding's pre-tokenizer pattern (tiktoken's own `pat_str`) as a JavaScript regular expression. Rust's regex
 * syntax differs in two places: inline case-insensitive groups `(?i:...)`, spelled out letter by letter here, and
 * `\s`, which in Rust is exactly Unicode White_Space while JavaScript's also matches U+FEFF and misses U+0085.
 */
export function splitPattern(patStr: string): RegExp {
  const caseless = patStr.replace(/\(\?i:([^()]*)\)/g, (_group, body: string) =>
    `(?:${body.replace(/[a-z]/gi, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`)})`);
  return new RegExp(caseless.replace(/\\s/g, '\\p{White_Space}').replace(/\\S/g, '\\P{White_Space}'), 'gu');
}

/**
 * Exact counts, as tiktoken's `encode_ordinary` gives them: the text is split into pieces with the encoding's pattern,
 * and each piece is counted by byte-pair encoding (bpe.ts), in the thread's one copy of the encoding's ranks.
 * `encode_ordinary` never treats text as special tokens, so no input can make it throw. Like tiktoken, a lone UTF-16
 * surrogate counts as U+FFFD. bench/tokenizers.ts checks these counts against tiktoken, js-tiktoken and gpt-tokenizer
 * on the whole benchmark corpus.
 */
export function createTokenCounter(encodingName: TokenEncoding): TokenCounter {
  const { patStr, ranks } = loadEncodingData(encodingName);
  const pattern = splitPattern(patStr);
  const texts = new Map<string, number>();
  let mergedPieces = new Map<string, number>();
  let olderMergedPieces = new Map<string, number>();
  let slicedPieces = 0;
  // A piece's UTF-8 bytes (at most 3 per UTF-16 unit), and the merge state of countPieceTokens.
  const bytes = new Uint8Array(3 * MAX_EXACT_PIECE_CHARS + 4);
  const scratch = new Int32Array(2 * (bytes.length + 1));

  const countPiece = (text: string, start: number, end: number): number => {
    let length = 0;
    for (let i = start; i < end; i++) {
      let c = text.charCodeAt(i);
      if (c < 0x80) {
        bytes[length++] = c;
        continue;
      }
      if (c < 0x800) {
        bytes[length++] = 0xc0 | (c >> 6);
        bytes[length++] = 0x80 | (c & 0x3f);
        continue;
      }
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
        const low = text.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          const point = ((c - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
          bytes[length++] = 0xf0 | (point >> 18);
          bytes[length++] = 0x80 | ((point >> 12) & 0x3f);
          bytes[length++] = 0x80 | ((point >> 6) & 0x3f);
          bytes[length++] = 0x80 | (point & 0x3f);
          i++;
          continue;
        }
      }
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      bytes[length++] = 0xe0 | (c >> 12);
      bytes[length++] = 0x80 | ((c >> 6) & 0x3f);
      bytes[length++] = 0x80 | (c & 0x3f);
    }
    if (length <= 1 || ranks.rank(bytes, 0, length) >= 0) return 1;
    const piece = text.slice(start, end);
    let tokens = mergedPieces.get(piece);
    if (tokens !== undefined) return tokens;
    tokens = olderMergedPieces.get(piece) ?? countPieceTokens(ranks, bytes, length, scratch);
    if (mergedPieces.size >= MERGED_PIECE_CACHE_ENTRIES) {
      olderMergedPieces = mergedPieces;
      mergedPieces = new Map();
    }
    // A slice keeps its whole parent text alive; cache a copy of just the piece.
    mergedPieces.set(` ${piece}`.slice(1), tokens);
    return tokens;
  };

  const countLongPiece = (piece: string): number => {
    slicedPieces++;
    let tokens = 0;
    for (let start = 0; start < piece.length; ) {
      let end = Math.min(start + MAX_EXACT_PIECE_CHARS, piece.length);
      // Never split a surrogate pair.
      if (end < piece.length && /[\uDC00-\uDFFF]/.test(piece.charAt(end))) end++;
      tokens += count(piece.slice(start, end));
      start = end;
    }
    return tokens;
  };

  const count = (text: string): number => {
    if (text.length === 0) return 0;
    let tokens = 0;
    let start = 0;
    // Every character starts some alternative of the encodings' patterns, so matches are contiguous: each ends
    // where the next begins.
    pattern.lastIndex = 0;
    while (pattern.test(text)) {
      const end = pattern.lastIndex;
      if (end - start > MAX_EXACT_PIECE_CHARS) {
        const piece = text.slice(start, end);
        tokens += countLongPiece(piece);
        pattern.lastIndex = end;
      } else {
        tokens += countPiece(text, start, end);
      }
      start = end;
    }
    return tokens;
  };

  return {
    count,
    get slicedPieces() {
      return slicedPieces;
    },
    countRepeated(text) {
      let tokens = texts.get(text);
      if (tokens === undefined) {
        if (texts.size >= TEXT_CACHE_ENTRIES) texts.clear();
        tokens = count(text);
        texts.set(text, tokens);
      }
      return tokens;
    },
  };
}

/** Counters by encoding, one per thread, shared by every validation on it, so their caches stay warm. */
const sharedCounters = new Map<TokenEncoding, TokenCounter>();

/** This thread's counter for the encoding, made on first use and kept for the thread's life. */
export function sharedTokenCounter(encodingName: TokenEncoding): TokenCounter {
  let counter = sharedCounters.get(encodingName);
  if (!counter) {
    counter = createTokenCounter(encodingName);
    sharedCounters.set(encodingName, counter);
  }
  return counter;
}
