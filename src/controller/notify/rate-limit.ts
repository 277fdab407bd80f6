/**
 * Repeated identical failures, rate-limited: a failing object is retried with backoff and
 * every retry reports the same failure; a person wants it once per interval, with a count of
 * how often it happened meanwhile (Flux's notification-controller does the same per event).
 */
export interface RateDecision {
  send: boolean;
  /** Repeats suppressed since the last one sent (0 on the first). */
  suppressed: number;
}

/** Keys remembered at most; the oldest go first, so a flood of distinct failures cannot grow memory. */
const MAX_KEYS = 10_000;

export class FailureRateLimiter {
  private readonly seen = new Map<string, { sentAt: number; suppressed: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether the failure `key` may be sent now, given at most one per `intervalMs`. */
  admit(key: string, intervalMs: number): RateDecision {
    const now = this.now();
    const entry = this.seen.get(key);
    if (entry && now - entry.sentAt < intervalMs) {
      entry.suppressed++;
      return { send: false, suppressed: entry.suppressed };
    }
    const suppressed = entry?.suppressed ?? 0;
    this.seen.delete(key);
    this.seen.set(key, { sentAt: now, suppressed: 0 });
    if (this.seen.size > MAX_KEYS) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return { send: true, suppressed };
  }

  /** The object recovered: its next failure is news again. */
  forget(prefix: string): void {
    for (const key of this.seen.keys()) if (key.startsWith(prefix)) this.seen.delete(key);
  }
}
