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
import { countPieceTokens, loadEncodingData, MergeScratch } from './bpe';
import { MAX_CACHED_PIECE_CHARS, MAX_EXACT_PIECE_CHARS } from './limits';
import { PieceCache } from './piece-cache';
import { pieceSplitter } from './pretokenize';

/** `<|im_start|>`, the role and its separator, `<|im_end|>`: three tokens around every message. */
export const TOKENS_PER_MESSAGE = 3;
/** A `name` adds one token beside its text. */
export const TOKENS_PER_NAME = 1;
/** Every example is primed with `<|im_start|>assistant<|message|>`. */
export const REPLY_PRIMING_TOKENS = 3;

/** Whole texts counted through `countRepeated` (system prompts, tool definitions). */
const TEXT_CACHE_ENTRIES = 1024;

/** Pieces of up to this many UTF-16 units (nine pieces in ten) are looked up in the counter's front cache first. */
const FRONT_CHARS = 8;
/** Slots of the front cache (a power of two), 8 Int32s each: 128 KiB. */
const FRONT_SLOTS = 4096;
const FRONT_SLOT_BITS = 12;

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
 * Exact counts, as tiktoken's `encode_ordinary` gives them: the text is split into pieces by the encoding's
 * pre-tokenizer (pretokenize.ts, equal to tiktoken's pattern), and each piece is counted by byte-pair encoding
 * (bpe.ts) in the thread's one copy of the encoding's ranks, unless the piece cache knows it already: natural text
 * repeats its pieces (words with their leading space) so heavily that most are encoded once per cache generation.
 * `encode_ordinary` never treats text as special tokens, so no input can make it throw. Like tiktoken, a lone UTF-16
 * surrogate counts as U+FFFD. bench/tokenizers.ts checks these counts against tiktoken, js-tiktoken and gpt-tokenizer
 * on the whole benchmark corpus.
 */
export function createTokenCounter(encodingName: TokenEncoding, pieces = new PieceCache()): TokenCounter {
  const { patStr, ranks } = loadEncodingData(encodingName);
  const pieceEnd = pieceSplitter(patStr);
  const texts = new Map<string, number>();
  let slicedPieces = 0;
  // A piece's UTF-8 bytes (at most 3 per UTF-16 unit), and the merge state of countPieceTokens.
  const bytes = new Uint8Array(3 * MAX_EXACT_PIECE_CHARS + 4);
  const scratch = new MergeScratch(bytes.length);

  /** Byte-pair encoding of text[start, end), through its UTF-8 bytes. */
  const encodePiece = (text: string, start: number, end: number): number => {
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
    // countPieceTokens first asks whether the whole piece is one token.
    return countPieceTokens(ranks, bytes, length, scratch);
  };

  /**
   * A direct-mapped cache of short pieces in front of `pieces`: per slot, length << 16 | tokens, then the units two to
   * an Int32. The common pieces stay in its 128 KiB, in a core's cache, where each lookup in the piece cache (megabytes)
   * hashes the units in a loop and reads a slot that is often out of the core's cache. A slot's key is the whole piece,
   * so a hit is exact; a slot another piece took is refilled from `pieces`.
   */
  const front = new Int32Array(8 * FRONT_SLOTS);

  const countPiece = (text: string, start: number, end: number): number => {
    const length = end - start;
    // One ASCII character is always one token.
    if (length === 1 && text.charCodeAt(start) < 0x80) return 1;
    if (length > FRONT_CHARS) return countCachedPiece(text, start, end);
    const w0 = text.charCodeAt(start) | (length > 1 ? text.charCodeAt(start + 1) << 16 : 0);
    const w1 = length > 2 ? text.charCodeAt(start + 2) | (length > 3 ? text.charCodeAt(start + 3) << 16 : 0) : 0;
    const w2 = length > 4 ? text.charCodeAt(start + 4) | (length > 5 ? text.charCodeAt(start + 5) << 16 : 0) : 0;
    const w3 = length > 6 ? text.charCodeAt(start + 6) | (length > 7 ? text.charCodeAt(start + 7) << 16 : 0) : 0;
    const mixed = Math.imul(w0 ^ Math.imul(w1, 0x85ebca6b) ^ Math.imul(w2, 0xc2b2ae35) ^ Math.imul(w3 ^ length, 0x27d4eb2f), 0x9e3779b1);
    const slot = (mixed >>> (32 - FRONT_SLOT_BITS)) << 3;
    const meta = front[slot]!;
    if (meta >>> 16 === length && front[slot + 1] === w0 && front[slot + 2] === w1 && front[slot + 3] === w2 && front[slot + 4] === w3) return meta & 0xffff;
    const tokens = countCachedPiece(text, start, end);
    front[slot] = (length << 16) | tokens;
    front[slot + 1] = w0;
    front[slot + 2] = w1;
    front[slot + 3] = w2;
    front[slot + 4] = w3;
    return tokens;
  };

  const countCachedPiece = (text: string, start: number, end: number): number => {
    if (end - start > MAX_CACHED_PIECE_CHARS) return encodePiece(text, start, end);
    const hash = PieceCache.hash(text, start, end);
    let tokens = pieces.get(text, start, end, hash);
    if (tokens < 0) {
      tokens = encodePiece(text, start, end);
      pieces.set(text, start, end, hash, tokens);
    }
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
    let tokens = 0;
    for (let start = 0; start < text.length; ) {
      const end = pieceEnd(text, start);
      tokens += end - start > MAX_EXACT_PIECE_CHARS ? countLongPiece(text.slice(start, end)) : countPiece(text, start, end);
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
