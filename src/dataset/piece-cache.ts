/**
 * Token counts of recently seen pieces, keyed by the piece's UTF-16 units: an open-addressing table over typed arrays
 * (no string is sliced, copied into a Map or kept alive), so a hit costs a hash and a compare of a few characters,
 * less than encoding the piece to UTF-8 and looking it up among the ranks, and far less than merging it. Its memory
 * is fixed when it is made; when either the entries or the characters reach their limit the cache starts empty
 * again, and the pieces still in use come back within a few examples.
 *
 * SharedPieceCache is the same table in shared memory, filled by every thread of the validation pool (pool.ts), so
 * a piece merged by one thread is a hit in the others: without it each thread merged every distinct piece of a file
 * again.
 */
import { MAX_CACHED_PIECE_CHARS, PIECE_CACHE_CHARS, PIECE_CACHE_ENTRIES } from './limits';

/** Pieces of up to this many units are held in their slot itself; longer ones in `chars`. */
const INLINE_CHARS = 4;

/** Int32s per slot. */
const SLOT_WORDS = 4;

/** Slots for `maxEntries` entries: a power of two, at most half full, so that probes stay short. */
function slotCount(maxEntries: number): number {
  let slots = 1;
  while (slots < 2 * maxEntries) slots <<= 1;
  return slots;
}

export class PieceCache {
  /**
   * Four Int32s a slot, one cache line to read: the piece's hash (never 0 or SHARED_SLOT_BUSY; 0: empty slot), its
   * length << 16 | its token count, then its units packed two to an Int32 when it has at most INLINE_CHARS, else
   * where they start in `chars`.
   */
  protected readonly slots: Int32Array;
  protected readonly chars: Uint16Array;
  protected readonly mask: number;
  private charsUsed = 0;
  private entries = 0;
  /** How many times the cache started empty again. */
  resets = 0;

  constructor(
    readonly maxEntries = PIECE_CACHE_ENTRIES,
    readonly maxChars = PIECE_CACHE_CHARS,
    memory?: { slots: Int32Array; chars: Uint16Array },
  ) {
    const slots = slotCount(maxEntries);
    this.slots = memory?.slots ?? new Int32Array(SLOT_WORDS * slots);
    this.chars = memory?.chars ?? new Uint16Array(maxChars);
    this.mask = slots - 1;
  }

  get size(): number {
    return this.entries;
  }

  /** FNV-1a over text[start, end)'s UTF-16 units; never 0 (an empty slot) or 1 (a shared slot being written). */
  static hash(text: string, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return h === 0 || h === SHARED_SLOT_BUSY ? h + 2 : h;
  }

  /** The token count of text[start, end) (hashed as `hash`), or -1 when it is not cached. */
  get(text: string, start: number, end: number, hash: number): number {
    const length = end - start;
    const slots = this.slots;
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = SLOT_WORDS * slot;
      const stored = slots[at]!;
      if (stored === 0) return -1;
      if (stored !== hash) continue;
      const tokens = this.match(at, text, start, length);
      if (tokens >= 0) return tokens;
    }
  }

  /** Caches the count of text[start, end), a piece of at most MAX_CACHED_PIECE_CHARS units that `get` did not find. */
  set(text: string, start: number, end: number, hash: number, tokens: number): void {
    const length = end - start;
    if (length > MAX_CACHED_PIECE_CHARS || length > this.maxChars) return;
    if (this.entries >= this.maxEntries || this.charsUsed + length > this.maxChars) this.clear();
    let slot = hash & this.mask;
    while (this.slots[SLOT_WORDS * slot] !== 0) slot = (slot + 1) & this.mask;
    const at = SLOT_WORDS * slot;
    this.fill(at, text, start, length, tokens, this.charsUsed);
    this.slots[at] = hash;
    if (length > INLINE_CHARS) this.charsUsed += length;
    this.entries++;
  }

  /** The slot at `at` (its hash equal to the piece's) holds text[start, start + length): its tokens, else -1. */
  protected match(at: number, text: string, start: number, length: number): number {
    const slots = this.slots;
    const meta = slots[at + 1]!;
    if (meta >>> 16 !== length) return -1;
    if (length <= INLINE_CHARS) {
      return slots[at + 2] === packedUnits(text, start, Math.min(length, 2)) && slots[at + 3] === packedUnits(text, start + 2, length - 2) ? meta & 0xffff : -1;
    }
    const offset = slots[at + 2]!;
    for (let i = 0; i < length; i++) if (this.chars[offset + i] !== text.charCodeAt(start + i)) return -1;
    return meta & 0xffff;
  }

  /** Writes everything of the slot at `at` but its hash (the piece's units at `charsAt` when not inline). */
  protected fill(at: number, text: string, start: number, length: number, tokens: number, charsAt: number): void {
    this.slots[at + 1] = (length << 16) | tokens;
    if (length <= INLINE_CHARS) {
      this.slots[at + 2] = packedUnits(text, start, Math.min(length, 2));
      this.slots[at + 3] = packedUnits(text, start + 2, length - 2);
    } else {
      this.slots[at + 2] = charsAt;
      for (let i = 0; i < length; i++) this.chars[charsAt + i] = text.charCodeAt(start + i);
    }
  }

  private clear(): void {
    this.slots.fill(0);
    this.charsUsed = 0;
    this.entries = 0;
    this.resets++;
  }
}

/** The hash word of a shared slot that a thread has claimed and is still writing. */
const SHARED_SLOT_BUSY = 1;

/** Header of a shared table, in Int32s: entries reserved, units reserved, maxEntries, maxChars. */
const HEADER_WORDS = 4;

/**
 * A PieceCache in a SharedArrayBuffer, read and written by several threads at once. A writer reserves its entry and
 * its units with atomic adds, claims an empty slot by compare-and-exchange (marking it SHARED_SLOT_BUSY), writes the
 * slot and then publishes its hash with an atomic store; a reader loads each hash atomically, so a slot whose hash
 * it sees is complete, and skips busy ones (at worst it merges a piece another thread is caching, and caches it
 * twice: the same count). Slots are never rewritten, so the shared table never starts empty: once it is full, each
 * thread caches further pieces in its own resetting PieceCache (`overflow`).
 */
export class SharedPieceCache extends PieceCache {
  private readonly header: Int32Array;
  private overflow: PieceCache | undefined;

  /** A new empty table of `maxEntries` pieces and `maxChars` units, to pass to other threads as `buffer`. */
  static create(maxEntries = PIECE_CACHE_ENTRIES, maxChars = PIECE_CACHE_CHARS): SharedPieceCache {
    const bytes = 4 * (HEADER_WORDS + SLOT_WORDS * slotCount(maxEntries)) + 2 * maxChars;
    const buffer = new SharedArrayBuffer(bytes);
    const header = new Int32Array(buffer, 0, HEADER_WORDS);
    header[2] = maxEntries;
    header[3] = maxChars;
    return new SharedPieceCache(buffer);
  }

  /** This thread's view of a table made by `create` (in any thread). */
  constructor(readonly buffer: SharedArrayBuffer) {
    const header = new Int32Array(buffer, 0, HEADER_WORDS);
    const maxEntries = header[2]!;
    const maxChars = header[3]!;
    const slotWords = SLOT_WORDS * slotCount(maxEntries);
    super(maxEntries, maxChars, {
      slots: new Int32Array(buffer, 4 * HEADER_WORDS, slotWords),
      chars: new Uint16Array(buffer, 4 * (HEADER_WORDS + slotWords), maxChars),
    });
    this.header = header;
  }

  /** Entries in the shared table (reserved ones included), not counting this thread's overflow. */
  override get size(): number {
    return Math.min(Atomics.load(this.header, 0), this.maxEntries);
  }

  override get(text: string, start: number, end: number, hash: number): number {
    const length = end - start;
    const slots = this.slots;
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = SLOT_WORDS * slot;
      const stored = Atomics.load(slots, at);
      if (stored === 0) return this.overflow ? this.overflow.get(text, start, end, hash) : -1;
      if (stored !== hash) continue;
      const tokens = this.match(at, text, start, length);
      if (tokens >= 0) return tokens;
    }
  }

  override set(text: string, start: number, end: number, hash: number, tokens: number): void {
    const length = end - start;
    if (length > MAX_CACHED_PIECE_CHARS || length > this.maxChars) return;
    if (this.overflow) return this.overflow.set(text, start, end, hash, tokens);
    const units = length > INLINE_CHARS ? length : 0;
    const charsAt = units > 0 ? Atomics.add(this.header, 1, units) : 0;
    if (Atomics.add(this.header, 0, 1) >= this.maxEntries || charsAt + units > this.maxChars) {
      this.overflow = new PieceCache();
      return this.overflow.set(text, start, end, hash, tokens);
    }
    const slots = this.slots;
    let slot = hash & this.mask;
    // At most maxEntries of the slots are ever claimed, fewer than half: an empty one is always found.
    while (Atomics.compareExchange(slots, SLOT_WORDS * slot, 0, SHARED_SLOT_BUSY) !== 0) slot = (slot + 1) & this.mask;
    const at = SLOT_WORDS * slot;
    this.fill(at, text, start, length, tokens, charsAt);
    Atomics.store(slots, at, hash);
  }
}

/** Up to two UTF-16 units from text[start] as one Int32 (0 for none). */
function packedUnits(text: string, start: number, count: number): number {
  if (count <= 0) return 0;
  return count === 1 ? text.charCodeAt(start) : text.charCodeAt(start) | (text.charCodeAt(start + 1) << 16);
}
