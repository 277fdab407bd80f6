import assert from "node:assert/strict";
import { test } from "node:test";
import { acquiredSpec, formatMicroTime, isLeaseFree, releasedSpec, renewedSpec } from "./leader-election-lease.ts";

const t0 = Date.parse("2026-03-01T10:00:00.123Z");

test("MicroTime has six fractional digits and round-trips", () => {
  assert.equal(formatMicroTime(t0), "2026-03-01T10:00:00.123000Z");
  assert.equal(Date.parse(formatMicroTime(t0)), t0);
});

test("a lease is free when absent of a holder or not renewed within its duration", () => {
  const held = { holderIdentity: "a", leaseDurationSeconds: 15, renewTime: formatMicroTime(t0) };
  assert.equal(isLeaseFree(undefined, t0), true);
  assert.equal(isLeaseFree({ ...held, holderIdentity: "" }, t0), true);
  assert.equal(isLeaseFree({ holderIdentity: "a", leaseDurationSeconds: 15 }, t0), true, "never renewed");
  assert.equal(isLeaseFree(held, t0 + 15_000), false, "still valid at the last instant");
  assert.equal(isLeaseFree(held, t0 + 15_001), true);
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
  assert.equal(isLeaseFree(released, t0), true);
});
