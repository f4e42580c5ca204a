/**
 * Every limit the validator enforces, in one place. Per-model limits (training context length, modality, methods)
 * live in the catalogue (src/catalog); these are the service-wide ones.
 */

/** Azure: "Each file must be less than 512 MB in size" (how-to/fine-tuning, REST). Checked on the bytes uploaded, BOM included. */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;

/**
 * ftpipe's own guard: a longer line is reported and skipped rather than buffered, so no input can exhaust memory.
 * Far above any trainable example (the longest training context is 65,536 tokens; images are limited to 10 MB each).
 */
export const MAX_LINE_BYTES = 128 * 1024 * 1024;

/**
 * BPE takes time quadratic in a piece's length (10,000 letters without a break take 0.1 s, 100,000 take 9 s), so
 * longer pieces are counted in slices of this size, which keeps even a file of such runs at about 1 MB/s: the sum
 * can miss a merge at each slice boundary (about one token per slice too many), and such examples are flagged.
 * Prose, code and data with spaces, digits or punctuation break far more often than this.
 */
export const MAX_EXACT_PIECE_CHARS = 1_000;

/**
 * The token counter's cache of pieces (src/dataset/piece-cache.ts), per thread (the pool's threads share one of this
 * size per encoding, and each keeps one more once that is full): pieces of up to this many UTF-16 units
 * are cached (a word with its leading space; longer pieces are rare and are encoded each time), at most this many
 * pieces and this many units in all: about 3.5 MiB, whatever the data. When it is full it starts empty again.
 */
export const MAX_CACHED_PIECE_CHARS = 64;
export const PIECE_CACHE_ENTRIES = 1 << 17;
export const PIECE_CACHE_CHARS = 1 << 21;

/** Azure: "Fine-tuning jobs won't proceed without at least 10 training examples". */
export const MIN_TRAINING_EXAMPLES = 10;

/** Below this, warn: Azure's docs say 10 examples "isn't enough to noticeably influence model responses" and advise hundreds. */
export const RECOMMENDED_TRAINING_EXAMPLES = 100;

/** The UTF-8 byte-order mark Azure requires at the start of each training and validation file. */
export const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The automatic n_epochs rule of the fine-tuning service, as OpenAI publishes it in its cookbook
 * (examples/Chat_finetuning_data_prep.ipynb, "Pricing and default n_epochs estimate"): 3 epochs, raised so that
 * small datasets see at least 100 examples in total, lowered so that large ones see at most 25,000, within 1..25.
 */
export const AUTO_EPOCHS = {
  target: 3,
  minTargetExamples: 100,
  maxTargetExamples: 25_000,
  minEpochs: 1,
  maxEpochs: 25,
} as const;

/** Default number of errors and of warnings kept in a report (the rest are counted), so it stays small in Temporal history. */
export const DEFAULT_MAX_ISSUES = 20;

/**
 * Files up to this size are validated on the calling thread, without a hop to the worker threads: a thread's start
 * and tokenizer load cost more than checking them. Small enough that checking one blocks a worker's event loop for
 * only tens of milliseconds (about 3,000 chat examples of typical length, at 10 MB/s or more).
 */
export const INLINE_VALIDATION_MAX_BYTES = 1024 * 1024;
