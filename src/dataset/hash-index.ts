/**
 * A compact set of 64-bit line hashes mapped to the line where each first occurred: open addressing over one
 * Uint32Array (12 bytes a slot), so millions of examples cost tens of MB, and no training content is kept.
 */
export class LineHashIndex {
  private slots: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(capacity = 1 << 16) {
    this.slots = new Uint32Array(capacity * 3);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The line first recorded with this hash, or 0 when none. */
  get(high: number, low: number): number {
    const [h, l] = LineHashIndex.key(high, low);
    for (let slot = l & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = slot * 3;
      const line = this.slots[at + 2]!;
      if (line === 0) return 0;
      if (this.slots[at] === h && this.slots[at + 1] === l) return line;
    }
  }

  /** Records `line` (>= 1) for this hash unless the hash is already present; returns the line already recorded, or 0. */
  add(high: number, low: number, line: number): number {
    const existing = this.get(high, low);
    if (existing !== 0) return existing;
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    this.insert(...LineHashIndex.key(high, low), line);
    this.count++;
    return 0;
  }

  private static key(high: number, low: number): [number, number] {
    return [high >>> 0, low >>> 0];
  }

  private insert(h: number, l: number, line: number): void {
    for (let slot = l & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = slot * 3;
      if (this.slots[at + 2] === 0) {
        this.slots[at] = h;
        this.slots[at + 1] = l;
        this.slots[at + 2] = line;
        return;
      }
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.mask = (this.mask << 1) | 1;
    for (let at = 0; at < old.length; at += 3) if (old[at + 2] !== 0) this.insert(old[at]!, old[at + 1]!, old[at + 2]!);
  }
}
