/**
 * Emulated time. Every duration in the emulator (file processing, queueing, training steps, deployments) is
 * measured on this clock, which runs `scale` emulated seconds per real second and can be advanced by hand, so
 * a job that takes hours at scale 1 finishes in seconds in a test.
 */
export class EmulatedClock {
  private anchorReal: number;
  private anchorEmulated: number;

  constructor(
    startEmulatedMs: number,
    private scale: number,
  ) {
    if (!(scale >= 0)) throw new Error(`clock scale must be a number >= 0, got ${scale}`);
    this.anchorReal = Date.now();
    this.anchorEmulated = startEmulatedMs;
  }

  /** Emulated now, in ms since the Unix epoch. */
  now(): number {
    return this.anchorEmulated + (Date.now() - this.anchorReal) * this.scale;
  }

  get currentScale(): number {
    return this.scale;
  }

  setScale(scale: number): void {
    if (!(scale >= 0)) throw new Error(`clock scale must be a number >= 0, got ${scale}`);
    this.anchorEmulated = this.now();
    this.anchorReal = Date.now();
    this.scale = scale;
  }

  advance(seconds: number): void {
    if (!(seconds >= 0)) throw new Error(`cannot advance the clock by ${seconds} s`);
    this.anchorEmulated += seconds * 1000;
  }
}
