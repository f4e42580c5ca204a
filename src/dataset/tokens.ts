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
import { get_encoding, type Tiktoken, type TiktokenEncoding } from 'tiktoken';

/** `<|im_start|>`, the role and its separator, `<|im_end|>`: three tokens around every message. */
export const TOKENS_PER_MESSAGE = 3;
/** A `name` adds one token beside its text. */
export const TOKENS_PER_NAME = 1;
/** Every example is primed with `<|im_start|>assistant<|message|>`. */
export const REPLY_PRIMING_TOKENS = 3;

/** Strings counted through the cache are ones that repeat across examples (system prompts, tool definitions). */
const CACHE_ENTRIES = 4096;

export interface TokenCounter {
  /** Exact token count of `text`; special-token text such as `<|endoftext|>` counts as ordinary text. */
  count(text: string): number;
  /** Same as `count`, memoized: for text that commonly repeats from example to example. */
  countRepeated(text: string): number;
  free(): void;
}

/**
 * tiktoken (OpenAI's Rust BPE compiled to WebAssembly) was the fastest exact library on the benchmark corpus
 * (bench/tokenizers.ts); `encode_ordinary` never treats text as special tokens, so no input can make it throw.
 */
export function createTokenCounter(encodingName: TiktokenEncoding): TokenCounter {
  const encoding: Tiktoken = get_encoding(encodingName);
  const cache = new Map<string, number>();
  const count = (text: string): number => (text.length === 0 ? 0 : encoding.encode_ordinary(text).length);
  return {
    count,
    countRepeated(text) {
      let tokens = cache.get(text);
      if (tokens === undefined) {
        if (cache.size >= CACHE_ENTRIES) cache.clear();
        tokens = count(text);
        cache.set(text, tokens);
      }
      return tokens;
    },
    free: () => encoding.free(),
  };
}
