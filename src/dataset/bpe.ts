/**
 * tiktoken's byte-pair encoding, counting only, over the ranks that the `tiktoken` package ships
 * (`tiktoken/encoders/<name>.json`). It follows tiktoken's `CoreBPE::encode_ordinary` (src/lib.rs of openai/tiktoken)
 * step for step: a piece that is itself a token is one token; otherwise its bytes are merged pairwise, lowest rank
 * first (leftmost on a tie), and the count is the number of parts left. Why not tiktoken's own WebAssembly: it takes
 * 0.3-0.6 s of CPU to build an encoding, per thread, which dominated validating small files; these ranks load from
 * the build's prebuilt table (table-file.ts) in 10-30 ms, and counting needs no copy of each text into WebAssembly
 * memory. test/dataset/tokens.test.ts and bench/tokenizers.ts check the counts against tiktoken.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TokenEncoding } from '../catalog';
import { readTableFile, tokenTablesDir, writeTableFile, type TableFile, type TableSections } from './table-file';

/** Base64 digit values by character code (-1: not a digit). */
const BASE64 = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => {
  BASE64[c.charCodeAt(0)] = i;
});

const EMPTY = 0;
/** A slot holds rank + 1 in its low RANK_BITS bits and the token's length above them. */
const RANK_BITS = 18;
const RANK_LIMIT = 1 << RANK_BITS;
const RANK_MASK = RANK_LIMIT - 1;
const LENGTH_LIMIT = 1 << (31 - RANK_BITS);

/** Up to 4 bytes from bytes[start] as one little-endian Int32. */
function packedBytes(bytes: Uint8Array, start: number, count: number): number {
  let packed = 0;
  for (let i = 0; i < count; i++) packed |= bytes[start + i]! << (8 * i);
  return packed;
}

/** FNV-1a over bytes[start, end), as a signed 32-bit integer (what an Int32Array holds). */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h;
}

/** The filter's bit for a hash: 22 bits of another mix of it than the table's slot (its low bits). */
function presenceBit(hash: number): number {
  return Math.imul(hash, 0x9e3779b1) >>> 10;
}

export interface EncodingData {
  /** tiktoken's `pat_str`: the pre-tokenizer pattern, in Rust regex syntax. */
  patStr: string;
  ranks: BpeRanks;
}

/** The mergeable ranks of an encoding: token bytes by rank, and an open-addressing table from bytes to rank. */
export class BpeRanks {
  private readonly mask: number;

  private constructor(
    private readonly bytes: Uint8Array,
    /** Start of each rank's bytes in `bytes`; `starts[rank + 1]` is its end. */
    private readonly starts: Uint32Array,
    /**
     * Four Int32s a slot: the hash of a token's bytes; its rank + 1 (0: empty) | its length << 18; and, for tokens of
     * up to 8 bytes, the bytes themselves, little-endian. A probe compares hashes, lengths and short tokens' bytes in
     * the slot itself, one cache line, and reads a long token's bytes elsewhere only when its hash and length are the
     * same.
     */
    private readonly table: Int32Array,
    /**
     * One bit per value of another 22 bits of the hash, set for every token (a Bloom filter with one hash, 5% false
     * positives): two thirds of the lookups while merging find no token, and 512 KiB of bits stay in a core's cache
     * where the 4 MiB table does not.
     */
    private readonly present: Int32Array,
    /**
     * Two-byte tokens by their bytes (`first << 8 | second`; -1: none): the first round of every merge asks for each
     * adjacent pair, and an array read is several times cheaper than hashing and comparing.
     */
    private readonly pairs: Int32Array,
  ) {
    this.mask = table.length / 4 - 1;
  }

  /** Builds the lookup tables of the tokens (`starts.length - 1` of them, in rank order) in `bytes`. */
  private static fromTokens(bytes: Uint8Array, starts: Uint32Array): BpeRanks {
    const tokens = starts.length - 1;
    if (tokens >= RANK_LIMIT) throw new Error(`tiktoken ranks: ${tokens} tokens, more than ${RANK_LIMIT - 1}`);
    let capacity = 1;
    // Up to 80% full (4 MiB for o200k): a probe reads neighbouring slots, mostly in the same cache line, and the
    // filter keeps most lookups of absent byte strings out of the table.
    while (capacity * 4 < tokens * 5) capacity <<= 1;
    const table = new Int32Array(4 * capacity);
    const present = new Int32Array(1 << 17);
    const pairs = new Int32Array(1 << 16).fill(-1);
    const mask = capacity - 1;
    for (let rank = 0; rank < tokens; rank++) {
      const start = starts[rank]!;
      const length = starts[rank + 1]! - start;
      if (length >= LENGTH_LIMIT) throw new Error(`tiktoken ranks: token ${rank} is ${length} bytes long`);
      const hash = hashBytes(bytes, start, start + length);
      let slot = hash & mask;
      while (table[4 * slot + 1] !== EMPTY) slot = (slot + 1) & mask;
      table[4 * slot] = hash;
      table[4 * slot + 1] = (rank + 1) | (length << RANK_BITS);
      if (length <= 8) {
        table[4 * slot + 2] = packedBytes(bytes, start, Math.min(length, 4));
        table[4 * slot + 3] = length > 4 ? packedBytes(bytes, start + 4, length - 4) : 0;
      }
      const bit = presenceBit(hash);
      present[bit >>> 5]! |= 1 << (bit & 31);
      if (length === 2) pairs[(bytes[start]! << 8) | bytes[start + 1]!] = rank;
    }
    return new BpeRanks(bytes, starts, table, present, pairs);
  }

  /** The arrays behind the lookups, as a prebuilt table file holds them (see table-file.ts). */
  sections(): TableSections {
    return { bytes: this.bytes, starts: this.starts, table: this.table, present: this.present, pairs: this.pairs };
  }

  /** The ranks from a prebuilt table file, its arrays viewed in place. */
  static fromTable(file: TableFile): BpeRanks {
    const int32 = (name: string): Int32Array => {
      const bytes = file.section(name);
      return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    };
    const starts = file.section('starts');
    return new BpeRanks(file.section('bytes'), new Uint32Array(starts.buffer, starts.byteOffset, starts.byteLength / 4), int32('table'), int32('present'), int32('pairs'));
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
    return BpeRanks.fromTokens(bytes.subarray(0, written), Uint32Array.from(starts));
  }

  /** The rank of bytes[start, end) as one token, or -1. */
  rank(bytes: Uint8Array, start: number, end: number): number {
    const length = end - start;
    const hash = hashBytes(bytes, start, end);
    const bit = presenceBit(hash);
    if ((this.present[bit >>> 5]! & (1 << (bit & 31))) === 0) return -1;
    const table = this.table;
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const entry = table[4 * slot + 1]!;
      if (entry === EMPTY) return -1;
      if (table[4 * slot] !== hash || entry >>> RANK_BITS !== length) continue;
      const rank = (entry & RANK_MASK) - 1;
      if (length <= 8) {
        if (table[4 * slot + 2] === packedBytes(bytes, start, Math.min(length, 4))
          && table[4 * slot + 3] === (length > 4 ? packedBytes(bytes, start + 4, length - 4) : 0)) return rank;
        continue;
      }
      const tokenStart = this.starts[rank]!;
      let i = 0;
      while (i < length && this.bytes[tokenStart + i] === bytes[start + i]) i++;
      if (i === length) return rank;
    }
  }
}

const NO_RANK = 0x7fffffff;

/** The rank of the bytes from part i to part i + 3, i.e. of parts i and i + 1 merged with part i + 2. */
function rankAfterMerge(ranks: BpeRanks, piece: Uint8Array, scratch: Int32Array, parts: number, i: number): number {
  if (i + 3 >= parts) return NO_RANK;
  const rank = ranks.rank(piece, scratch[2 * i]!, scratch[2 * (i + 3)]!);
  return rank < 0 ? NO_RANK : rank;
}

/**
 * Pieces longer than this many bytes are merged with a heap (countLongPieceTokens): the linear scan for the lowest
 * rank costs a piece's length per merge, and text without spaces (Chinese, Japanese, Thai) makes pieces of hundreds
 * of bytes, whose merging then took most of the counting time.
 */
const HEAP_MERGE_MIN_BYTES = 24;

/** Heap entries order by rank, then by the part's start: the lowest rank, leftmost on a tie, as tiktoken merges. */
const START_BITS = 12;

/** Work arrays for merging a piece of up to `maxBytes` bytes, reused from piece to piece. */
export class MergeScratch {
  readonly parts: Int32Array;
  readonly next: Int32Array;
  readonly previous: Int32Array;
  readonly rankAt: Int32Array;
  readonly heap: Int32Array;

  constructor(readonly maxBytes: number) {
    if (maxBytes >= 1 << START_BITS) throw new Error(`pieces of up to ${(1 << START_BITS) - 1} bytes can be merged`);
    this.parts = new Int32Array(2 * (maxBytes + 1));
    this.next = new Int32Array(maxBytes + 1);
    this.previous = new Int32Array(maxBytes + 1);
    this.rankAt = new Int32Array(maxBytes + 1);
    // Each merge pushes at most two entries.
    this.heap = new Int32Array(3 * (maxBytes + 1));
  }
}

/** Token count of one piece (bytes[0, length) of `piece`, length <= scratch.maxBytes), as tiktoken's `byte_pair_encode` gives it. */
export function countPieceTokens(ranks: BpeRanks, piece: Uint8Array, length: number, scratch: MergeScratch): number {
  if (length <= 1 || ranks.rank(piece, 0, length) >= 0) return 1;
  return length > HEAP_MERGE_MIN_BYTES ? countLongPieceTokens(ranks, piece, length, scratch) : countShortPieceTokens(ranks, piece, length, scratch.parts);
}

/** tiktoken's `_byte_pair_merge`, step for step, for a piece of several tokens. */
function countShortPieceTokens(ranks: BpeRanks, piece: Uint8Array, length: number, scratch: Int32Array): number {
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
    if (at > 0) scratch[2 * (at - 1) + 1] = rankAfterMerge(ranks, piece, scratch, parts, at - 1);
    scratch[2 * at + 1] = rankAfterMerge(ranks, piece, scratch, parts, at);
    // Remove part at + 1 (a loop: copyWithin's call costs more than moving a few integers).
    for (let i = 2 * (at + 1); i < 2 * (parts - 1); i++) scratch[i] = scratch[i + 2]!;
    parts--;
  }
  return parts - 1;
}

/** Adds `key` to the binary min-heap heap[0, size); returns the new size. */
function heapPush(heap: Int32Array, size: number, key: number): number {
  let at = size;
  while (at > 0) {
    const parent = (at - 1) >> 1;
    if (heap[parent]! <= key) break;
    heap[at] = heap[parent]!;
    at = parent;
  }
  heap[at] = key;
  return size + 1;
}

/** Removes heap[0], the least key, from the heap of `size` keys; returns the new size. */
function heapPop(heap: Int32Array, size: number): number {
  const last = heap[--size]!;
  let at = 0;
  for (;;) {
    let child = 2 * at + 1;
    if (child >= size) break;
    if (child + 1 < size && heap[child + 1]! < heap[child]!) child++;
    if (heap[child]! >= last) break;
    heap[at] = heap[child]!;
    at = child;
  }
  heap[at] = last;
  return size;
}

/**
 * The same merges as countShortPieceTokens, in the same order, found with a binary heap of (rank, start) over a
 * linked list of parts instead of a scan: n log n instead of n^2. A part's entry is stale once the part is gone or
 * its rank changed; a part's candidate span only grows, so it never returns to an earlier rank, and an entry whose
 * rank is the part's current one is current. (The heap is kept by plain functions that take and return its size: as
 * closures over a mutable `let size` it would live in a V8 context object, a memory round trip at every access.)
 */
function countLongPieceTokens(ranks: BpeRanks, piece: Uint8Array, length: number, scratch: MergeScratch): number {
  const { next, previous, rankAt, heap } = scratch;
  let size = 0;
  // Part i starts at byte i; part `length` is the end marker.
  for (let i = 0; i <= length; i++) {
    next[i] = i + 1;
    previous[i] = i - 1;
    rankAt[i] = NO_RANK;
  }
  for (let i = 0; i < length - 1; i++) {
    const rank = ranks.pairRank(piece[i]!, piece[i + 1]!);
    if (rank >= 0) {
      rankAt[i] = rank;
      size = heapPush(heap, size, (rank << START_BITS) | i);
    }
  }
  let parts = length;
  while (size > 0) {
    const key = heap[0]!;
    size = heapPop(heap, size);
    const at = key & ((1 << START_BITS) - 1);
    if (rankAt[at] !== key >>> START_BITS) continue;
    const merged = next[at]!;
    const after = next[merged]!;
    const before = previous[at]!;
    if (before >= 0) {
      const rank = ranks.rank(piece, before, after);
      rankAt[before] = rank < 0 ? NO_RANK : rank;
      if (rank >= 0) size = heapPush(heap, size, (rank << START_BITS) | before);
    }
    const rank = after < length ? ranks.rank(piece, at, next[after]!) : -1;
    rankAt[at] = rank < 0 ? NO_RANK : rank;
    if (rank >= 0) size = heapPush(heap, size, (rank << START_BITS) | at);
    next[at] = after;
    previous[after] = at;
    rankAt[merged] = -1;
    parts--;
  }
  return parts;
}

const loaded = new Map<TokenEncoding, EncodingData>();

/** What an encoding's table is built from: tiktoken's data file, by the package's version and the file's size. */
function rankSource(name: TokenEncoding): { path: string; key: { encoding: TokenEncoding; tiktoken: string; bytes: number } } {
  const path = require.resolve(`tiktoken/encoders/${name}.json`);
  const manifest = JSON.parse(readFileSync(join(dirname(path), '..', 'package.json'), 'utf8')) as { version: string };
  return { path, key: { encoding: name, tiktoken: manifest.version, bytes: statSync(path).size } };
}

/** An encoding's pattern and ranks decoded from tiktoken's data (what the build writes as its table). */
export function parseEncodingSource(name: TokenEncoding): EncodingData {
  const json = JSON.parse(readFileSync(rankSource(name).path, 'utf8')) as { pat_str: string; bpe_ranks: string };
  return { patStr: json.pat_str, ranks: BpeRanks.parse(json.bpe_ranks) };
}

const tablePath = (dir: string, name: TokenEncoding): string => join(dir, `${name}.bin`);

/** The encoding's prebuilt table in `dir`, or undefined when there is none built from the tiktoken data installed. */
export function readEncodingTable(name: TokenEncoding, dir = tokenTablesDir()): EncodingData | undefined {
  const file = readTableFile(tablePath(dir, name), rankSource(name).key);
  return file && { patStr: Buffer.from(file.section('pattern')).toString('utf8'), ranks: BpeRanks.fromTable(file) };
}

/** Writes the encoding's prebuilt table into `dir` (the build does, for every encoding). */
export function writeEncodingTable(name: TokenEncoding, dir = tokenTablesDir()): void {
  const { patStr, ranks } = parseEncodingSource(name);
  writeTableFile(tablePath(dir, name), rankSource(name).key, { pattern: Buffer.from(patStr, 'utf8'), ...ranks.sections() });
}

/** An encoding's pattern and ranks, once per thread: from the prebuilt table when it is current, else from tiktoken's data. */
export function loadEncodingData(name: TokenEncoding): EncodingData {
  let data = loaded.get(name);
  if (!data) {
    data = readEncodingTable(name) ?? parseEncodingSource(name);
    loaded.set(name, data);
  }
  return data;
}
