import assert from "node:assert/strict";
import { test } from "node:test";
import { createControllerMetrics } from "./metrics.ts";
import { metricsObserver } from "./metrics-observer.ts";
import { reportOf } from "./runtime/report.ts";

const drift = [{ object: "apps/v1/Deployment/shop/web", changedBy: "kubectl-scale", at: "2026-01-01T00:00:00Z" }];
const report = (result: "success" | "failed") =>
  reportOf({ object: { kind: "Application", namespace: "shop", name: "web" }, result, reason: result === "success" ? "ReconciliationSucceeded" : "ApplyFailed", message: "", ready: result === "success", previousReady: true, driftReverts: drift, seconds: 0.5 });

test("regression: fjord_drift_reverts_total counts only reverts that succeeded; failed ones have their own series", async () => {
  const metrics = createControllerMetrics();
  const observe = metricsObserver(metrics);
  observe(report("failed"));
  let text = await metrics.registry.metrics();
  assert.doesNotMatch(text, /^fjord_drift_reverts_total\{/m, "a failed revert is not counted as a revert");
  assert.match(text, /^fjord_drift_revert_failures_total\{kind="Application",name="web",namespace="shop"\} 1$/m);
  observe(report("success"));
  text = await metrics.registry.metrics();
  assert.match(text, /^fjord_drift_reverts_total\{kind="Application",name="web",namespace="shop"\} 1$/m);
  assert.match(text, /^fjord_reconcile_duration_seconds_count\{kind="Application",name="web",namespace="shop",result="failure"\} 1$/m);
});
