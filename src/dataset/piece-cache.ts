/**
 * Token counts of recently seen pieces, keyed by the piece's UTF-16 units: an open-addressing table over typed arrays
 * (no string is sliced, copied into a Map or kept alive), so a hit costs a hash and a compare of a few characters,
 * less than encoding the piece to UTF-8 and looking it up among the ranks, and far less than merging it. Its memory
 * is fixed when it is made (about 3.5 MiB per thread at the defaults); when either the entries or the characters
 * reach their limit the cache starts empty again, and the pieces still in use come back within a few examples.
 */
import { MAX_CACHED_PIECE_CHARS, PIECE_CACHE_CHARS, PIECE_CACHE_ENTRIES } from './limits';

/** Pieces of up to this many units are held in their slot itself; longer ones in `chars`. */
const INLINE_CHARS = 4;

export class PieceCache {
  /**
   * Four Int32s a slot, one cache line to read: the piece's hash (never 0; 0: empty slot), its length << 16 | its
   * token count, then its units packed two to an Int32 when it has at most INLINE_CHARS, else where they start in
   * `chars`.
   */
  private readonly slots: Int32Array;
  private readonly chars: Uint16Array;
  private readonly mask: number;
  private charsUsed = 0;
  private entries = 0;
  /** How many times the cache started empty again. */
  resets = 0;

  constructor(
    readonly maxEntries = PIECE_CACHE_ENTRIES,
    readonly maxChars = PIECE_CACHE_CHARS,
  ) {
    let slots = 1;
    // At most half full, so that probes stay short.
    while (slots < 2 * maxEntries) slots <<= 1;
    this.slots = new Int32Array(4 * slots);
    this.chars = new Uint16Array(maxChars);
    this.mask = slots - 1;
  }

  get size(): number {
    return this.entries;
  }

  /** FNV-1a over text[start, end)'s UTF-16 units; never 0. */
  static hash(text: string, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    return h === 0 ? 1 : h;
  }

  /** The token count of text[start, end) (hashed as `hash`), or -1 when it is not cached. */
  get(text: string, start: number, end: number, hash: number): number {
    const length = end - start;
    const slots = this.slots;
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = 4 * slot;
      const stored = slots[at]!;
      if (stored === 0) return -1;
      const meta = slots[at + 1]!;
      if (stored !== hash || meta >>> 16 !== length) continue;
      if (length <= INLINE_CHARS) {
        if (slots[at + 2] === packedUnits(text, start, Math.min(length, 2)) && slots[at + 3] === packedUnits(text, start + 2, length - 2)) return meta & 0xffff;
        continue;
      }
      const offset = slots[at + 2]!;
      let i = 0;
      while (i < length && this.chars[offset + i] === text.charCodeAt(start + i)) i++;
      if (i === length) return meta & 0xffff;
    }
  }

  /** Caches the count of text[start, end), a piece of at most MAX_CACHED_PIECE_CHARS units that `get` did not find. */
  set(text: string, start: number, end: number, hash: number, tokens: number): void {
    const length = end - start;
    if (length > MAX_CACHED_PIECE_CHARS || length > this.maxChars) return;
    if (this.entries >= this.maxEntries || this.charsUsed + length > this.maxChars) this.clear();
    let slot = hash & this.mask;
    while (this.slots[4 * slot] !== 0) slot = (slot + 1) & this.mask;
    const at = 4 * slot;
    this.slots[at] = hash;
    this.slots[at + 1] = (length << 16) | tokens;
    if (length <= INLINE_CHARS) {
      this.slots[at + 2] = packedUnits(text, start, Math.min(length, 2));
      this.slots[at + 3] = packedUnits(text, start + 2, length - 2);
    } else {
      this.slots[at + 2] = this.charsUsed;
      for (let i = 0; i < length; i++) this.chars[this.charsUsed + i] = text.charCodeAt(start + i);
      this.charsUsed += length;
    }
    this.entries++;
  }

  private clear(): void {
    this.slots.fill(0);
    this.charsUsed = 0;
    this.entries = 0;
    this.resets++;
  }
}

/** Up to two UTF-16 units from text[start] as one Int32 (0 for none). */
function packedUnits(text: string, start: number, count: number): number {
  if (count <= 0) return 0;
  return count === 1 ? text.charCodeAt(start) : text.charCodeAt(start) | (text.charCodeAt(start + 1) << 16);
}
