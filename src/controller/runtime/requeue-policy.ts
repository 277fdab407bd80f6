import { backoffDelay, defaultBackoff, type BackoffOptions } from "../queue-backoff.ts";

/** Flux's spread for interval requeues: up to 5 % later, never earlier than the interval. */
export const INTERVAL_JITTER = 0.05;

/** How one reconcile ended, as far as scheduling the next one is concerned. */
export type RequeueResult = "success" | "failed" | "stalled" | "idle";

export interface RequeueInput {
  result: RequeueResult;
  /** The object's interval: how long after a success to look again. */
  intervalMs?: number;
  /** The longest wait between retries of a failure (an Application's retryInterval); default: the interval, at most 5 minutes. */
  retryMaxMs?: number;
  /** Failures of this object in a row before this one (0 for the first failure). */
  failures: number;
  backoff?: BackoffOptions;
}

/**
 * The one requeue policy of every kind, as a pure function so it can be tested with a seeded
 * random. A success comes back after its interval plus up to 5 % (1,000 objects with one
 * interval must not all fire together); a failure after an exponential backoff (1 s, 2 s,
 * 4 s ..., ±10 %) capped at the object's retry interval, so a transient error is retried at once
 * and a lasting one no more often than the user asked; a stalled object (bad input a retry
 * cannot fix) and an idle one (suspended, deleted) are not requeued at all: a spec change, a new
 * source revision or a reconcile request queues them. `random` is Math.random's contract, [0, 1).
 * Returns the delay in milliseconds, or undefined for "do not requeue".
 */
export function requeueDelay(input: RequeueInput, random: () => number): number | undefined {
  switch (input.result) {
    case "stalled":
    case "idle":
      return undefined;
    case "success":
      if (input.intervalMs === undefined) return undefined;
      return Math.round(input.intervalMs * (1 + INTERVAL_JITTER * random()));
    case "failed": {
      const backoff = input.backoff ?? defaultBackoff;
      // An explicit retry interval is the user's word, even above the usual 5-minute ceiling.
      const cap = Math.max(input.retryMaxMs ?? Math.min(input.intervalMs ?? backoff.maxMs, backoff.maxMs), backoff.baseMs);
      return backoffDelay(input.failures, { ...backoff, maxMs: cap }, random());
    }
  }
}

/** A seeded random in [0, 1) (mulberry32), for tests and reproducible schedules. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
