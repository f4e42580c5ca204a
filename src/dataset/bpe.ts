/**
 * tiktoken's byte-pair encoding, counting only, over the ranks that the `tiktoken` package ships
 * (`tiktoken/encoders/<name>.json`). It follows tiktoken's `CoreBPE::encode_ordinary` (src/lib.rs of openai/tiktoken)
 * step for step: a piece that is itself a token is one token; otherwise its bytes are merged pairwise, lowest rank
 * first (leftmost on a tie), and the count is the number of parts left. Why not tiktoken's own WebAssembly: it takes
 * 0.3-0.6 s of CPU to build an encoding, per thread, which dominated validating small files; these ranks load in
 * about 30 ms, and counting needs no copy of each text into WebAssembly memory. test/dataset/tokens.test.ts and
 * bench/tokenizers.ts check the counts against tiktoken.
 */
import { readFileSync } from 'node:fs';
import type { TokenEncoding } from '../catalog';

/** Base64 digit values by character code (-1: not a digit). */
const BASE64 = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => {
  BASE64[c.charCodeAt(0)] = i;
});

const EMPTY = 0;

/** FNV-1a over bytes[start, end). */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

export interface EncodingData {
  /** tiktoken's `pat_str`: the pre-tokenizer pattern, in Rust regex syntax. */
  patStr: string;
  ranks: BpeRanks;
}

/** The mergeable ranks of an encoding: token bytes by rank, and an open-addressing table from bytes to rank. */
export class BpeRanks {
  /** Slot -> rank + 1 (0: empty). */
  private readonly table: Int32Array;
  private readonly mask: number;
  /**
   * Two-byte tokens by their bytes (`first << 8 | second`; -1: none): the first round of every merge asks for each
   * adjacent pair, and an array read is several times cheaper than hashing and comparing.
   */
  private readonly pairs = new Int32Array(1 << 16).fill(-1);

  private constructor(
    private readonly bytes: Uint8Array,
    /** Start of each rank's bytes in `bytes`; `starts[rank + 1]` is its end. */
    private readonly starts: Uint32Array,
  ) {
    const tokens = starts.length - 1;
    let capacity = 1;
    while (capacity < tokens * 2) capacity <<= 1;
    this.table = new Int32Array(capacity);
    this.mask = capacity - 1;
    for (let rank = 0; rank < tokens; rank++) {
      let slot = hashBytes(bytes, starts[rank]!, starts[rank + 1]!) & this.mask;
      while (this.table[slot] !== EMPTY) slot = (slot + 1) & this.mask;
      this.table[slot] = rank + 1;
      if (starts[rank + 1]! - starts[rank]! === 2) this.pairs[(bytes[starts[rank]!]! << 8) | bytes[starts[rank]! + 1]!] = rank;
    }
  }

  /** The rank of the two bytes `first`, `second` as one token, or -1. */
  pairRank(first: number, second: number): number {
    return this.pairs[(first << 8) | second]!;
  }

  /**
   * Decodes the `bpe_ranks` of tiktoken's npm data files: space-separated groups `! <first rank> <base64 token>...`,
   * each token ranked one above the one before it.
   */
  static parse(bpeRanks: string): BpeRanks {
    // One pass over the characters (no split): this runs at every start of a CLI or worker thread.
    const bytes = new Uint8Array(Math.ceil((bpeRanks.length * 3) / 4));
    const starts: number[] = [];
    let written = 0;
    let at = 0;
    const end = bpeRanks.length;
    while (at < end) {
      const c = bpeRanks.charCodeAt(at);
      if (c === 0x20 || c === 0x0a || c === 0x0d) {
        at++;
        continue;
      }
      if (c === 0x21 /* ! */) {
        // `! <first rank>`: ranks must continue where the last group ended.
        let next = at + 1;
        while (bpeRanks.charCodeAt(next) === 0x20) next++;
        let rank = 0;
        for (let d = bpeRanks.charCodeAt(next); d >= 0x30 && d <= 0x39; d = bpeRanks.charCodeAt(++next)) rank = rank * 10 + d - 0x30;
        if (rank !== starts.length) throw new Error(`tiktoken ranks are not contiguous at ${starts.length}`);
        at = next;
        continue;
      }
      starts.push(written);
      let bits = 0;
      let bitCount = 0;
      for (; at < end; at++) {
        const digit = BASE64[bpeRanks.charCodeAt(at)] ?? -1;
        if (digit < 0) break;
        bits = ((bits << 6) | digit) & 0xffffff;
        bitCount += 6;
        if (bitCount >= 8) {
          bitCount -= 8;
          bytes[written++] = (bits >> bitCount) & 0xff;
        }
      }
      // Skip the padding.
      while (at < end && bpeRanks.charCodeAt(at) === 0x3d) at++;
    }
    starts.push(written);
    return new BpeRanks(bytes.subarray(0, written), Uint32Array.from(starts));
  }

  /** The rank of bytes[start, end) as one token, or -1. */
  rank(bytes: Uint8Array, start: number, end: number): number {
    const length = end - start;
    let slot = hashBytes(bytes, start, end) & this.mask;
    for (;;) {
      const entry = this.table[slot]!;
      if (entry === EMPTY) return -1;
      const tokenStart = this.starts[entry - 1]!;
      if (this.starts[entry]! - tokenStart === length) {
        let same = true;
        for (let i = 0; i < length; i++) {
          if (this.bytes[tokenStart + i] !== bytes[start + i]) {
            same = false;
            break;
          }
        }
        if (same) return entry - 1;
      }
      slot = (slot + 1) & this.mask;
    }
  }
}

const NO_RANK = 0x7fffffff;

/**
 * Token count of one piece (bytes[0, length) of `piece`), as tiktoken's `byte_pair_encode` gives it. `scratch` holds
 * at least 2 * (length + 1) integers.
 */
export function countPieceTokens(ranks: BpeRanks, piece: Uint8Array, length: number, scratch: Int32Array): number {
  if (length <= 1 || ranks.rank(piece, 0, length) >= 0) return 1;
  // parts: start offsets at even slots, the rank of merging a part with the next one at odd slots (tiktoken's `parts`).
  let parts = length + 1;
  for (let i = 0; i < length - 1; i++) {
    scratch[2 * i] = i;
    const rank = ranks.pairRank(piece[i]!, piece[i + 1]!);
    scratch[2 * i + 1] = rank < 0 ? NO_RANK : rank;
  }
  scratch[2 * (length - 1)] = length - 1;
  scratch[2 * (length - 1) + 1] = NO_RANK;
  scratch[2 * length] = length;
  scratch[2 * length + 1] = NO_RANK;
  // The rank of the bytes from part i to part i + 3, i.e. of parts i and i + 1 merged with part i + 2.
  const rankAfterMerge = (i: number): number => {
    if (i + 3 >= parts) return NO_RANK;
    const rank = ranks.rank(piece, scratch[2 * i]!, scratch[2 * (i + 3)]!);
    return rank < 0 ? NO_RANK : rank;
  };
  for (;;) {
    let minRank = NO_RANK;
    let at = -1;
    for (let i = 0; i < parts - 1; i++) {
      const rank = scratch[2 * i + 1]!;
      if (rank < minRank) {
        minRank = rank;
        at = i;
      }
    }
    if (at < 0) break;
    if (at > 0) scratch[2 * (at - 1) + 1] = rankAfterMerge(at - 1);
    scratch[2 * at + 1] = rankAfterMerge(at);
    // Remove part at + 1.
    scratch.copyWithin(2 * (at + 1), 2 * (at + 2), 2 * parts);
    parts--;
  }
  return parts - 1;
}

const loaded = new Map<TokenEncoding, EncodingData>();

/** An encoding's pattern and ranks from tiktoken's npm data, read once per thread. */
export function loadEncodingData(name: TokenEncoding): EncodingData {
  let data = loaded.get(name);
  if (!data) {
    const json = JSON.parse(readFileSync(require.resolve(`tiktoken/encoders/${name}.json`), 'utf8')) as { pat_str: string; bpe_ranks: string };
    data = { patStr: json.pat_str, ranks: BpeRanks.parse(json.bpe_ranks) };
    loaded.set(name, data);
  }
  return data;
}
