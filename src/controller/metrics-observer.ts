import type { ControllerMetrics } from "./metrics.ts";
import type { ReconcileObserver } from "./runtime/report.ts";

/**
 * The controller's metrics as an observer of reconcile reports: the duration of every
 * reconcile by result, and drift reverts counted only when the revert succeeded (a failed one
 * goes to its own series, so the total says what it measures).
 */
export function metricsObserver(metrics: ControllerMetrics): ReconcileObserver {
  return (report) => {
    const { kind, namespace, name } = report.object;
    if (report.seconds !== undefined && report.result !== "idle") metrics.recordReconcile({ kind, namespace, name }, report.result === "success" ? "success" : "failure", report.seconds);
    for (let index = 0; index < report.driftReverts.length; index++) {
      if (report.result === "success") metrics.recordDriftRevert({ kind, namespace, name });
      else metrics.recordDriftRevertFailure({ kind, namespace, name });
    }
  };
}
