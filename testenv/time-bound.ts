import assert from "node:assert/strict";
import os from "node:os";

/**
 * The time bound of the linear-time attack tests (hostile patterns, inputs built to make a
 * backtracking engine explode). The figure, 50 ms on an idle machine, is what
 * `npm run bench -- patterns` prints; a test must not turn red because other test files keep
 * the cores busy, so the bound grows with the machine's load (1-minute load average per core).
 * A blow-up still fails: the engines these tests guard against take seconds to forever.
 */
export function timeBoundMs(idleBoundMs = 50): number {
  const loadPerCore = (os.loadavg()[0] ?? 0) / os.availableParallelism();
  return idleBoundMs * Math.max(1, loadPerCore);
}

/** Fails when `elapsedMs` is past the (load-scaled) bound, naming what was timed. */
export function assertWithinTimeBound(what: string, elapsedMs: number, idleBoundMs = 50): void {
  const bound = timeBoundMs(idleBoundMs);
  assert.ok(elapsedMs < bound, `${what} took ${elapsedMs.toFixed(1)} ms (bound ${bound.toFixed(0)} ms at this machine's load)`);
}
