import { describeChangedBy } from "../history/entry.ts";
import { API_VERSION, APPLICATION_KIND, ConditionReason } from "../api/types.ts";
import type { EventRecorder } from "./events.ts";
import type { ReconcileObserver, ReconcileReport } from "./runtime/report.ts";

/** `n created, n configured, n deleted` from a report's changes. */
function describeChanges(report: ReconcileReport): string {
  const count = (action: string) => report.changes.filter((change) => change.action === action).length;
  return `${count("created")} created, ${count("configured")} configured, ${count("deleted")} deleted`;
}

/**
 * An Application's Events as an observer of its reconcile reports, written only when something
 * changed: a sync that created, changed or pruned objects or recovered; drift it reverted; a
 * new or different failure; render warnings that differ from the last ones. Other kinds'
 * reports are ignored. Event writes never fail a reconcile (the recorder logs and goes on).
 */
export function applicationEvents(events: EventRecorder): ReconcileObserver {
  return (report) => void recordApplicationEvents(events, report);
}

/** The Events of one Application report, resolved once they are written (for callers that reconcile outside the manager). */
export async function recordApplicationEvents(events: EventRecorder, report: ReconcileReport): Promise<void> {
  {
    if (report.object.kind !== APPLICATION_KIND) return;
    const { namespace, name, uid } = report.object;
    const subject = { apiVersion: API_VERSION, kind: APPLICATION_KIND, name, namespace, ...(uid ? { uid } : {}) };
    const writes: Array<Promise<void>> = [];
    if (report.result === "success") {
      if (report.changes.length > 0 || !report.previousReady) writes.push(events.record(subject, "Normal", ConditionReason.ReconciliationSucceeded, `Applied revision ${report.revision ?? ""}: ${describeChanges(report)}`));
      if (report.driftReverts.length > 0) {
        const what = report.driftReverts.map((drift) => `${drift.object} (changed by ${describeChangedBy(drift)})`).join(", ");
        writes.push(events.record(subject, "Normal", "DriftReverted", `Reverted changes made in the cluster to ${what}`));
      }
    } else if (report.result === "failed" || report.result === "stalled") {
      if (report.previousReady || report.previousReason !== report.reason || report.previousMessage !== report.message) {
        writes.push(events.record(subject, report.reason === ConditionReason.DependencyNotReady ? "Normal" : "Warning", report.reason, report.message));
      }
    }
    if (report.warnings.length > 0 && JSON.stringify(report.previousWarnings ?? []) !== JSON.stringify(report.warnings)) {
      writes.push(events.record(subject, "Warning", "RenderWarning", report.warnings.join("\n")));
    }
    await Promise.all(writes);
  }
}
