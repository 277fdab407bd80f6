export interface BackoffOptions {
  baseMs: number;
  factor: number;
  maxMs: number;
  /** Spread around the nominal delay, as a fraction: 0.1 means ±10 %. */
  jitter: number;
}

export const defaultBackoff: BackoffOptions = { baseMs: 1_000, factor: 2, maxMs: 5 * 60_000, jitter: 0.1 };

/**
 * The delay before retry number `failures + 1`: base · factor^failures, jittered so keys
 * that failed together do not retry together, and never above the maximum. `random` is
 * Math.random's contract, [0, 1).
 */
export function backoffDelay(failures: number, options: BackoffOptions, random: number): number {
  // Capping the exponent first keeps factor^failures from overflowing to Infinity.
  const nominal = Math.min(options.baseMs * options.factor ** Math.min(failures, 64), options.maxMs);
  const jittered = nominal * (1 + options.jitter * (2 * random - 1));
  return Math.min(Math.max(0, Math.round(jittered)), options.maxMs);
}

/** Per-key failure counts behind exponential backoff. */
export class KeyBackoff {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly options: BackoffOptions = defaultBackoff,
    private readonly random: () => number = Math.random,
  ) {}

  /** Records one more failure of `key` and returns how long to wait before retrying it. */
  next(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    return backoffDelay(failures, this.options, this.random());
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}
