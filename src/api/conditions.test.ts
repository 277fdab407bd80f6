import assert from "node:assert/strict";
import { test } from "node:test";
import { findCondition, formatTime, isReady, removeCondition, setCondition } from "./conditions.ts";
import type { Condition } from "./types.ts";

const t0 = new Date("2026-01-02T03:04:05.678Z");
const t1 = new Date("2026-01-02T03:09:00.000Z");

const ready = (status: Condition["status"], reason = "ReconciliationSucceeded", message = "applied") => ({ type: "Ready", status, reason, message });

test("a new condition is appended with the generation and a whole-second transition time", () => {
  const conditions = setCondition(undefined, ready("True"), 3, t0);
  assert.deepEqual(conditions, [
    { type: "Ready", status: "True", observedGeneration: 3, lastTransitionTime: "2026-01-02T03:04:05Z", reason: "ReconciliationSucceeded", message: "applied" },
  ]);
});

test("the same status keeps its transition time while reason, message and generation move on", () => {
  const first = setCondition([], ready("True"), 1, t0);
  const second = setCondition(first, ready("True", "ReconciliationSucceeded", "applied main@sha1:abc"), 2, t1);
  assert.equal(second[0]?.lastTransitionTime, "2026-01-02T03:04:05Z");
  assert.equal(second[0]?.message, "applied main@sha1:abc");
  assert.equal(second[0]?.observedGeneration, 2);
});

test("a status change moves the transition time", () => {
  const first = setCondition([], ready("True"), 1, t0);
  const second = setCondition(first, ready("False", "BuildFailed", "kustomize failed"), 1, t1);
  assert.equal(second[0]?.lastTransitionTime, "2026-01-02T03:09:00Z");
  assert.equal(second[0]?.reason, "BuildFailed");
});

test("other conditions keep their place and the input list is not modified", () => {
  const reconciling = { type: "Reconciling", status: "True" as const, lastTransitionTime: "2026-01-01T00:00:00Z", reason: "Progressing", message: "" };
  const before = [reconciling, { ...ready("False"), lastTransitionTime: "2026-01-01T00:00:00Z" }];
  const after = setCondition(before, ready("True"), 4, t1);
  assert.deepEqual(after.map((condition) => condition.type), ["Reconciling", "Ready"]);
  assert.equal(before[1]?.status, "False");
  assert.deepEqual(removeCondition(after, "Reconciling").map((condition) => condition.type), ["Ready"]);
});

test("without a generation, observedGeneration is left out", () => {
  assert.equal("observedGeneration" in (setCondition([], ready("True"), undefined, t0)[0] ?? {}), false);
});

test("findCondition and isReady", () => {
  const conditions = setCondition([], ready("True"), 2, t0);
  assert.equal(findCondition(conditions, "Ready")?.status, "True");
  assert.equal(findCondition(conditions, "Stalled"), undefined);
  assert.equal(isReady(conditions), true);
  assert.equal(isReady(conditions, 2), true);
  assert.equal(isReady(conditions, 3), false, "Ready for an older generation is stale");
  assert.equal(isReady(setCondition([], ready("Unknown"), 2, t0)), false);
  assert.equal(isReady(undefined), false);
});

test("formatTime drops fractional seconds", () => {
  assert.equal(formatTime(t0), "2026-01-02T03:04:05Z");
});

test("a message longer than a Condition may hold is cut, saying how much is missing", () => {
  const [condition] = setCondition([], { type: "Ready", status: "False", reason: "BuildFailed", message: `start ${"x".repeat(100_000)}` });
  assert.ok(condition!.message.length <= 32768);
  assert.match(condition!.message, /^start x+\n… \(\d+ more characters\)$/);
});
