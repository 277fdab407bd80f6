/**
 * What in a ReconcileReport is worth telling a person, each thing once: a sync that reached a
 * new revision, a failure (with its reason and message), a recovery, drift that was reverted,
 * render warnings that are new, and a kind's own notices (an image update pushed, old -> new tag). An idle reconcile, or a success that changed nothing, says
 * nothing. The event's shape follows Flux's (involvedObject, severity, reason, message,
 * metadata.revision) so the generic payload is Flux's event.
 */
import { describeChangedBy } from "../../history/entry.ts";
import { ConditionReason } from "../../api/types.ts";
import type { EventSeverity } from "../../api/notification-types.ts";
import type { ReconcileReport, ReportedObject } from "../runtime/report.ts";

export interface NotificationEvent {
  object: ReportedObject;
  severity: EventSeverity;
  reason: string;
  message: string;
  revision?: string;
  /** Set on failures only: identical failures are rate-limited per object and reason. */
  failure?: { object: string; reason: string };
  /** When the reconcile reported it. */
  timestamp: string;
}

/** Reasons that say "not yet", not "broken": waiting on a dependency is no error to page someone for. */
const WAITING_REASONS = new Set<string>([ConditionReason.DependencyNotReady, ConditionReason.SourceNotReady]);
/** Before these, a Ready success is no recovery: the object was waiting or starting, not failing. */
const NOT_FAILED_REASONS = new Set<string>([...WAITING_REASONS, ConditionReason.Progressing]);

function describeChanges(report: ReconcileReport): string {
  const count = (action: string) => report.changes.filter((change) => change.action === action).length;
  return `${count("created")} created, ${count("configured")} configured, ${count("deleted")} deleted`;
}

export function eventsOfReport(report: ReconcileReport, now: Date = new Date()): NotificationEvent[] {
  const timestamp = now.toISOString();
  const { object } = report;
  const base = { object, timestamp, ...(report.revision ? { revision: report.revision } : {}) };
  const events: NotificationEvent[] = [];
  if (report.result === "success") {
    const newRevision = report.revision !== undefined && report.revision !== report.previousRevision;
    // A first reconcile has no previous reason: becoming Ready then is a start, not a recovery.
    const recovered = !report.previousReady && report.previousReason !== undefined && !NOT_FAILED_REASONS.has(report.previousReason);
    if (newRevision || recovered) {
      const what = newRevision ? `Applied revision ${report.revision ?? ""}` : "Recovered";
      const changes = report.changes.length > 0 ? `: ${describeChanges(report)}` : "";
      const after = newRevision && recovered ? ` (recovered from ${report.previousReason ?? "a failure"})` : recovered ? ` from ${report.previousReason ?? "a failure"}` : "";
      events.push({ ...base, severity: "info", reason: recovered && !newRevision ? "Recovered" : report.reason, message: `${what}${after}${changes}` });
    }
    if (report.driftReverts.length > 0) {
      const what = report.driftReverts.map((drift) => `${drift.object} (changed by ${describeChangedBy(drift)})`).join(", ");
      events.push({ ...base, severity: "info", reason: "DriftReverted", message: `Reverted changes made in the cluster to ${what}` });
    }
  } else if (report.result === "failed" || report.result === "stalled") {
    const waiting = WAITING_REASONS.has(report.reason);
    events.push({ ...base, severity: waiting ? "info" : "error", reason: report.reason, message: report.message, failure: { object: `${object.kind}/${object.namespace}/${object.name}`, reason: report.reason } });
  }
  for (const notice of report.notices ?? []) {
    events.push({ object, timestamp, severity: "info", reason: notice.reason, message: notice.message, ...(notice.revision ? { revision: notice.revision } : {}) });
  }
  if (report.warnings.length > 0 && JSON.stringify(report.previousWarnings ?? []) !== JSON.stringify(report.warnings)) {
    events.push({ ...base, severity: "info", reason: "RenderWarning", message: report.warnings.join("\n") });
  }
  return events;
}
