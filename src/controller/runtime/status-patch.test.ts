import assert from "node:assert/strict";
import { test } from "node:test";
import { statusDiffers } from "./status-patch.ts";

const ready = (message: string, at: string) => ({ type: "Ready", status: "True", reason: "ReconciliationSucceeded", message, lastTransitionTime: at });

test("statuses that differ only in timestamps are the same status", () => {
  const before = { observedGeneration: 2, conditions: [ready("ok", "2026-01-01T00:00:00Z")], artifact: { revision: "main@sha1:a", lastUpdateTime: "2026-01-01T00:00:00Z" } };
  const after = { artifact: { lastUpdateTime: "2026-01-02T00:00:00Z", revision: "main@sha1:a" }, conditions: [ready("ok", "2026-01-02T00:00:00Z")], observedGeneration: 2 };
  assert.equal(statusDiffers(before, after), false);
});

test("a new message, generation, field or removed field is a change", () => {
  const before = { observedGeneration: 2, conditions: [ready("ok", "t")] };
  assert.equal(statusDiffers(before, { observedGeneration: 3, conditions: [ready("ok", "t")] }), true);
  assert.equal(statusDiffers(before, { observedGeneration: 2, conditions: [ready("other", "t")] }), true);
  assert.equal(statusDiffers(before, { observedGeneration: 2, conditions: [ready("ok", "t")], lastHandledReconcileAt: "now" }), true);
  assert.equal(statusDiffers(before, { conditions: [ready("ok", "t")] }), true);
  assert.equal(statusDiffers(undefined, {}), false);
});
