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

/** Objects remembered at most; the oldest go first, so a flood of distinct failures cannot grow memory. */
const MAX_OBJECTS = 10_000;

export class FailureRateLimiter {
  /** Per object, per reason: when it was last sent and how many repeats were held back since. */
  private readonly seen = new Map<string, Map<string, { sentAt: number; suppressed: number }>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether the failure (`object`, `reason`) may be sent now, given at most one per `intervalMs`. */
  admit(object: string, reason: string, intervalMs: number): RateDecision {
    const now = this.now();
    let reasons = this.seen.get(object);
    const entry = reasons?.get(reason);
    if (entry && now - entry.sentAt < intervalMs) {
      entry.suppressed++;
      return { send: false, suppressed: entry.suppressed };
    }
    if (!reasons) {
      reasons = new Map();
      this.seen.set(object, reasons);
      if (this.seen.size > MAX_OBJECTS) {
        const oldest = this.seen.keys().next().value;
        if (oldest !== undefined) this.seen.delete(oldest);
      }
    }
    reasons.set(reason, { sentAt: now, suppressed: 0 });
    return { send: true, suppressed: entry?.suppressed ?? 0 };
  }

  /** The object recovered: its next failure is news again. */
  forget(object: string): void {
    this.seen.delete(object);
  }
}
