import { API_VERSION, APPLICATION_KIND } from "../api/types.ts";
import type { HistoryEntry } from "../history/entry.ts";
import { auditLines } from "../history/query.ts";
import type { HistoryOwner } from "../history/store.ts";
import type { Logger } from "../util/logger.ts";
import type { EventRecorder } from "./events.ts";

/** The reason of the Event a manual operation (reconcile, suspend, resume, rollback) leaves on its Application. */
export const OPERATION_EVENT_REASON = "OperationRequested";

/**
 * The audit trail outside the history ConfigMap: once entries are stored, each becomes one
 * structured log line holding exactly the fields of a `fjord audit -o json` line (under `audit`),
 * so a log pipeline sees what the auditor's command sees. Syncs and drift reverts already have
 * their Events (application-events.ts); a manual operation gets one naming who asked, since
 * nothing else in the cluster records that person.
 */
export function auditTrail(logger: Logger, events: EventRecorder): (owner: HistoryOwner, entries: readonly HistoryEntry[]) => void {
  return (owner, entries) => {
    for (const line of auditLines(owner.namespace, owner.name, [...entries].reverse(), {})) logger.info({ audit: line }, "audit");
    const subject = { apiVersion: API_VERSION, kind: APPLICATION_KIND, name: owner.name, namespace: owner.namespace, ...(owner.uid ? { uid: owner.uid } : {}) };
    for (const entry of entries) {
      if (entry.action !== "sync") void events.record(subject, "Normal", OPERATION_EVENT_REASON, operationMessage(entry));
    }
  };
}

/** `suspend requested by alice at 2026-12-07T10:00:00.000Z (running main@sha1:...)`; a rollback names its target: `rollback to main@sha1:... requested by ...`. */
function operationMessage(entry: HistoryEntry): string {
  const running = entry.revision ? ` (running ${entry.revision})` : "";
  const target = entry.target ? ` to ${entry.target}` : "";
  return `${entry.action}${target} requested by ${entry.actor || "an unknown user"} at ${entry.startedAt}${running}`;
}
