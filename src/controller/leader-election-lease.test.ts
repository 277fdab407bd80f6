import assert from "node:assert/strict";
import { test } from "node:test";
import {
  acquiredSpec,
  formatMicroTime,
  isLeaseFree,
  leaseRecord,
  observeLease,
  releasedSpec,
  renewedSpec,
  type LeaseObservation,
  type LeaseSpec,
} from "./leader-election-lease.ts";

const t0 = Date.parse("2026-03-01T10:00:00.123Z");

/** Whether a standby that saw `spec` at monotonic `observedAt` may take it at `now`. */
function freeAt(spec: LeaseSpec | undefined, observedAt: number, now: number): boolean {
  return isLeaseFree(leaseRecord(spec), observedAt, now);
}

/**
 * A standby polling a lease: each read is `[monotonic ms, spec]`; returns the decision after
 * the last one, the way LeaderElector.tryAcquire makes it.
 */
function standbyAfter(reads: [number, LeaseSpec | undefined][]): { free: boolean; observation: LeaseObservation | undefined } {
  let observation: LeaseObservation | undefined;
  let free = false;
  for (const [now, spec] of reads) {
    observation = observeLease(observation, spec, now);
    free = isLeaseFree(observation.record, observation.observedAt, now);
  }
  return { free, observation };
}

test("MicroTime has six fractional digits and round-trips", () => {
  assert.equal(formatMicroTime(t0), "2026-03-01T10:00:00.123000Z");
  assert.equal(Date.parse(formatMicroTime(t0)), t0);
});

test("a lease is free when it has no holder or was seen unchanged for its duration of local time", () => {
  const held = { holderIdentity: "a", leaseDurationSeconds: 15, renewTime: formatMicroTime(t0) };
  // Monotonic readings start near zero, nowhere near the wall-clock renewTime.
  const seen = 42;
  assert.equal(freeAt(undefined, seen, seen), true);
  assert.equal(freeAt({ ...held, holderIdentity: "" }, seen, seen), true);
  assert.equal(freeAt({ ...held, holderIdentity: null }, seen, seen), true);
  assert.equal(freeAt(held, seen, seen), false, "just seen");
  assert.equal(freeAt(held, seen, seen + 15_000), false, "still valid at the last instant");
  assert.equal(freeAt(held, seen, seen + 15_001), true);
  assert.equal(freeAt({ holderIdentity: "a", leaseDurationSeconds: 15 }, seen, seen + 1_000), false, "a missing renewTime is no reason to take over early");
  assert.equal(freeAt({ ...held, leaseDurationSeconds: 1 }, seen, seen + 1_001), true, "the duration is the one in the lease, as observed");
});

test("only the holder's fields count as a change of the lease, and absent equals empty", () => {
  const held = { holderIdentity: "a", leaseDurationSeconds: 15, acquireTime: "x", renewTime: "y", leaseTransitions: 2 };
  const first = observeLease(undefined, held, 100);
  assert.deepEqual(first, { record: held, observedAt: 100 });
  assert.equal(observeLease(first, { ...held }, 900), first, "an identical record keeps when it was first seen");
  for (const change of [
    { holderIdentity: "b" },
    { leaseDurationSeconds: 10 },
    { acquireTime: "z" },
    { renewTime: "z" },
    { leaseTransitions: 3 },
  ] satisfies Partial<LeaseSpec>[]) {
    assert.deepEqual(observeLease(first, { ...held, ...change }, 900), { record: { ...held, ...change }, observedAt: 900 }, JSON.stringify(change));
  }
  // Absent fields read back as null or missing depending on the writer; neither is a renewal.
  const bare = observeLease(undefined, { holderIdentity: "a" }, 100);
  assert.equal(observeLease(bare, { holderIdentity: "a", leaseTransitions: 0, renewTime: undefined }, 900), bare);
  assert.deepEqual(observeLease(undefined, undefined, 5), {
    record: { holderIdentity: "", leaseDurationSeconds: 0, acquireTime: "", renewTime: "", leaseTransitions: 0 },
    observedAt: 5,
  });
});

test("regression: expiry ignores the holder's clock, judging only how long the lease stood still", () => {
  const hour = 3_600_000;
  const renewal = (wallMs: number) => ({
    holderIdentity: "leader",
    leaseDurationSeconds: 15,
    acquireTime: formatMicroTime(wallMs),
    renewTime: formatMicroTime(wallMs),
    leaseTransitions: 0,
  });
  // The leader's clock is an hour behind: every renewTime it writes already looks long
  // expired. Comparing renewTime with the standby's clock took over at the first look; it
  // renews every 2 s, so the standby must keep waiting no matter how long it watches.
  const behind = (monotonic: number) => renewal(t0 - hour + monotonic);
  const reads: [number, LeaseSpec][] = [];
  for (let monotonic = 0; monotonic <= 120_000; monotonic += 2_000) reads.push([monotonic, behind(monotonic)]);
  assert.equal(standbyAfter(reads).free, false, "a lease being renewed is never free, however old its renewTime");

  // The leader's clock is an hour ahead and it dies at monotonic 10 s: its last renewTime
  // stays in the standby's future. Comparing renewTime would wait an hour and 15 s; the
  // standby must take over 15 s after it saw the last change, as with synchronised clocks.
  const ahead = (monotonic: number) => renewal(t0 + hour + monotonic);
  const dying: [number, LeaseSpec][] = [];
  for (let monotonic = 0; monotonic <= 40_000; monotonic += 1_000) dying.push([monotonic, ahead(Math.min(monotonic, 10_000))]);
  const at = (now: number) => standbyAfter(dying.filter(([monotonic]) => monotonic <= now));
  assert.equal(at(24_000).free, false);
  assert.equal(at(25_000).free, false, "still valid at the last instant");
  assert.equal(at(26_000).free, true, "free a lease duration after the last change, on the standby's clock");
  assert.equal(at(40_000).observation?.observedAt, 10_000);
});

test("taking over counts a transition only when the holder changes", () => {
  const previous = { holderIdentity: "a", leaseDurationSeconds: 15, renewTime: "x", acquireTime: "x", leaseTransitions: 4 };
  assert.deepEqual(acquiredSpec(previous, "b", 10, t0), {
    holderIdentity: "b",
    leaseDurationSeconds: 10,
    acquireTime: formatMicroTime(t0),
    renewTime: formatMicroTime(t0),
    leaseTransitions: 5,
  });
  assert.equal(acquiredSpec(previous, "a", 10, t0).leaseTransitions, 4);
  assert.equal(acquiredSpec(undefined, "a", 10, t0).leaseTransitions, 0, "creating the lease is no transition");
  assert.equal(acquiredSpec(releasedSpec(previous, t0), "a", 10, t0).leaseTransitions, 5, "re-acquiring a released lease is one");
});

test("renewing moves only renewTime; releasing frees the lease at once", () => {
  const held = { holderIdentity: "a", leaseDurationSeconds: 15, renewTime: "x", acquireTime: "y", leaseTransitions: 2 };
  assert.deepEqual(renewedSpec(held, 15, t0), { ...held, renewTime: formatMicroTime(t0) });
  const released = releasedSpec(held, t0);
  assert.equal(released.holderIdentity, "");
  assert.equal(released.leaseDurationSeconds, 1);
  assert.equal(released.leaseTransitions, 2);
  assert.equal(freeAt(released, 0, 0), true, "free at once, without waiting to see it unchanged");
});
