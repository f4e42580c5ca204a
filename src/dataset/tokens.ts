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
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { get_encoding, init, type Tiktoken } from 'tiktoken/init';
import type { TokenEncoding } from '../catalog';
import { MAX_EXACT_PIECE_CHARS } from './limits';

/** `<|im_start|>`, the role and its separator, `<|im_end|>`: three tokens around every message. */
export const TOKENS_PER_MESSAGE = 3;
/** A `name` adds one token beside its text. */
export const TOKENS_PER_NAME = 1;
/** Every example is primed with `<|im_start|>assistant<|message|>`. */
export const REPLY_PRIMING_TOKENS = 3;

/** Entries per generation of the piece cache (two generations: a piece survives while it keeps being used). */
const PIECE_CACHE_ENTRIES = 1 << 16;
/** Longer pieces (long identifiers, unbroken CJK runs) seldom repeat, so are not worth a cache slot. */
const MAX_CACHED_PIECE_LENGTH = 48;
/** Whole texts counted through `countRepeated` (system prompts, tool definitions). */
const TEXT_CACHE_ENTRIES = 1024;

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
  free(): void;
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

/** A compiled WebAssembly module (opaque here: the project's TypeScript libs do not declare WebAssembly). */
export interface CompiledTokenizer {
  readonly compiledWasm: never;
}

/** The part of the WebAssembly global this module uses. */
const wasmApi = (globalThis as unknown as {
  WebAssembly: {
    compile(bytes: Uint8Array): Promise<CompiledTokenizer>;
    instantiate(module: CompiledTokenizer, imports: unknown): Promise<unknown>;
  };
}).WebAssembly;

/**
 * tiktoken's WebAssembly, compiled once by the main thread and handed to every worker: V8 shares the compiled code
 * between threads, which saves each worker its own copy (about 20 MB).
 */
export function compileTokenizer(): Promise<CompiledTokenizer> {
  return wasmApi.compile(readFileSync(require.resolve('tiktoken/tiktoken_bg.wasm')));
}

/** The encoding's `pat_str` from tiktoken's data file, read from its head rather than parsing megabytes of ranks. */
function readPatStr(encodingName: TokenEncoding): string {
  const file = openSync(require.resolve(`tiktoken/encoders/${encodingName}.json`), 'r');
  try {
    const head = Buffer.alloc(4096);
    const text = head.toString('utf8', 0, readSync(file, head, 0, head.length, 0));
    const literal = /"pat_str"\s*:\s*("(?:[^"\\]|\\.)*")/.exec(text)?.[1];
    if (literal === undefined) throw new Error(`tiktoken's ${encodingName} data has no pat_str`);
    return JSON.parse(literal) as string;
  } finally {
    closeSync(file);
  }
}

/**
 * Exact counts from tiktoken (OpenAI's Rust BPE, compiled to WebAssembly), made fast for natural text: BPE works on
 * each pre-token (the pieces the encoding's pattern splits text into) independently, so a text's count is the sum of
 * its pieces' counts, and the few thousand pieces that make up most text are counted once and then looked up.
 * `encode_ordinary` never treats text as special tokens, so no input can make it throw. bench/tokenizers.ts checks
 * these counts against tiktoken, js-tiktoken and gpt-tokenizer on the whole benchmark corpus.
 */
export async function createTokenCounter(encodingName: TokenEncoding, compiled?: CompiledTokenizer): Promise<TokenCounter> {
  const module = compiled ?? (await compileTokenizer());
  // Once per thread: later calls reuse the instance.
  await init((imports) => wasmApi.instantiate(module, imports) as ReturnType<Parameters<typeof init>[0]>);
  const encoding: Tiktoken = get_encoding(encodingName);
  const pattern = splitPattern(readPatStr(encodingName));
  let pieces = new Map<string, number>();
  let olderPieces = new Map<string, number>();
  const texts = new Map<string, number>();
  let slicedPieces = 0;

  const countLongPiece = (piece: string): number => {
    slicedPieces++;
    let tokens = 0;
    for (let start = 0; start < piece.length; ) {
      let end = Math.min(start + MAX_EXACT_PIECE_CHARS, piece.length);
      // Never split a surrogate pair.
      if (end < piece.length && /[\uDC00-\uDFFF]/.test(piece.charAt(end))) end++;
      tokens += encoding.encode_ordinary(piece.slice(start, end)).length;
      start = end;
    }
    return tokens;
  };

  const countPiece = (piece: string): number => {
    if (piece.length > MAX_EXACT_PIECE_CHARS) return countLongPiece(piece);
    let tokens = pieces.get(piece);
    if (tokens !== undefined) return tokens;
    tokens = olderPieces.get(piece) ?? encoding.encode_ordinary(piece).length;
    if (piece.length <= MAX_CACHED_PIECE_LENGTH) {
      if (pieces.size >= PIECE_CACHE_ENTRIES) {
        olderPieces = pieces;
        pieces = new Map();
      }
      // A regex match is a slice that keeps its whole parent text alive; cache a copy of just the piece.
      pieces.set(` ${piece}`.slice(1), tokens);
    }
    return tokens;
  };

  const count = (text: string): number => {
    if (text.length === 0) return 0;
    let tokens = 0;
    pattern.lastIndex = 0;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) tokens += countPiece(match[0]);
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
    free: () => encoding.free(),
  };
}
