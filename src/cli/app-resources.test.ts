import assert from "node:assert/strict";
import { test } from "node:test";
import type { Application, Condition } from "../api/types.ts";
import { isReconciling, stateOf } from "./app-resources.ts";

const app = (...conditions: Array<Pick<Condition, "type" | "status" | "reason">>) =>
  ({ apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "a", namespace: "n" }, spec: {}, status: { conditions: conditions.map((c) => ({ ...c, message: "", lastTransitionTime: "" })) } }) as unknown as Application;

test("the state shown by `fjord get` comes from the kstatus conditions", () => {
  assert.equal(stateOf(app({ type: "Ready", status: "True", reason: "ReconciliationSucceeded" })), "Ready");
  assert.equal(stateOf(app({ type: "Ready", status: "True", reason: "x" }, { type: "Reconciling", status: "True", reason: "Progressing" })), "Progressing");
  assert.equal(stateOf(app({ type: "Ready", status: "False", reason: "ApplyFailed" }, { type: "Reconciling", status: "True", reason: "ProgressingWithRetry" })), "Retrying");
  assert.equal(stateOf(app({ type: "Ready", status: "False", reason: "RenderFailed" }, { type: "Stalled", status: "True", reason: "RenderFailed" })), "Stalled");
  assert.equal(stateOf(app()), "Progressing", "never reconciled: in progress for kstatus");
  assert.equal(stateOf({ ...app(), spec: { suspend: true } }), "Unknown", "suspended before its first reconcile");
});

test("`fjord reconcile` waits while a reconcile is in progress, not while a failure waits for its retry", () => {
  assert.equal(isReconciling(app({ type: "Reconciling", status: "True", reason: "Progressing" })), true);
  assert.equal(isReconciling(app({ type: "Reconciling", status: "True", reason: "ProgressingWithRetry" })), false);
});
