/**
 * A token bucket that may go into debt: a request is admitted while anything is left, and its
 * real cost, known only afterwards, is then taken. The debt delays the next admission, so the
 * long-run rate holds however costly single requests turn out to be.
 */
export class TokenBucket {
  private level: number;
  private updated: number;

  constructor(
    /** Tokens when full: the burst allowed after a quiet spell. */
    private readonly capacity: number,
    private readonly refillPerSecond: number,
    /** Milliseconds, monotonic. */
    private readonly now: () => number = () => performance.now(),
  ) {
    this.level = capacity;
    this.updated = now();
  }

  /** Undefined when a request may start now; otherwise how long until one may, in whole seconds (at least 1). */
  retryAfterSeconds(): number | undefined {
    this.refill();
    if (this.level > 0) return undefined;
    return Math.max(1, Math.ceil((-this.level + Number.EPSILON) / this.refillPerSecond));
  }

  take(tokens: number): void {
    this.refill();
    this.level -= tokens;
  }

  private refill(): void {
    const now = this.now();
    this.level = Math.min(this.capacity, this.level + ((now - this.updated) / 1000) * this.refillPerSecond);
    this.updated = now;
  }
}
