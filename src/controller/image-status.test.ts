import assert from "node:assert/strict";
import { test } from "node:test";
import { mergePatchBetween } from "./runtime/status-patch.ts";

test("a status patch nulls what disappeared and replaces arrays whole", () => {
  const previous = { latestRef: { name: "reg/app", tag: "1.0.0", digest: "sha256:aa" }, observedPolicies: { a: { tag: "1" }, b: { tag: "2" } }, conditions: [{ type: "Ready" }] };
  const next = { latestRef: { name: "reg/app", tag: "1.1.0" }, observedPolicies: { a: { tag: "3" } }, conditions: [] };
  assert.deepEqual(mergePatchBetween(previous, next), {
    latestRef: { name: "reg/app", tag: "1.1.0", digest: null },
    observedPolicies: { a: { tag: "3" }, b: null },
    conditions: [],
  });
});
