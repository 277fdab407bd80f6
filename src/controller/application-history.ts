import { ConditionReason, type Application, type DriftRevert } from "../api/types.ts";
import { boundedChanges, boundedDriftReverts, subjectOf, type HistoryEntry, type HistoryResult } from "../history/entry.ts";
import { OPERATION_ANNOTATION, parseOperation } from "../history/operation.ts";
import { parseRevision, shortCommit } from "../history/revision.ts";
import type { ReportedChange } from "./runtime/report.ts";

/**
 * The history entries one reconcile of an Application adds: a manual operation someone asked
 * for through the CLI's annotation, and the sync, when it is one worth recording (the same rule
 * as status.history: something changed, the revision moved, or a new failure).
 */

/** The operation the Application's annotation asks to record (every reconcile sees it again; the recorder keeps each once). */
export function operationEntry(app: Application): HistoryEntry | undefined {
  const value = app.metadata.annotations?.[OPERATION_ANNOTATION];
  if (value === undefined) return undefined;
  const operation = parseOperation(value);
  if ("refused" in operation) return undefined;
  const target = operation.target === undefined ? undefined : parseRevision(operation.target);
  return {
    action: operation.action,
    revision: app.status?.lastAppliedRevision ?? "",
    author: "",
    committer: "",
    // What a table or an audit line shows for a rollback without a column of its own.
    subject: target ? `roll back to ${target.ref ? `${target.ref}@` : ""}${shortCommit(target.commit)}` : "",
    startedAt: operation.at,
    finishedAt: operation.at,
    result: "requested",
    actor: operation.actor,
    ...(operation.target !== undefined ? { target: operation.target } : {}),
    changes: [],
    driftReverts: [],
  };
}

export interface SyncFacts {
  revision: string;
  artifact: { author?: string; committer?: string; message?: string };
  startedAt: string;
  finishedAt: string;
  /** Undefined: applied. */
  failureReason?: string;
  changes: readonly ReportedChange[];
  driftReverts: readonly DriftRevert[];
}

/** Times in milliseconds (status keeps whole seconds), so a sync sorts after the request that caused it. */
export function syncEntry(facts: SyncFacts): HistoryEntry {
  const result: HistoryResult = facts.failureReason === undefined ? "applied" : facts.failureReason === ConditionReason.HealthCheckFailed ? "health-timeout" : "failed";
  return {
    action: "sync",
    revision: facts.revision,
    author: facts.artifact.author ?? "",
    committer: facts.artifact.committer ?? "",
    subject: subjectOf(facts.artifact.message),
    startedAt: facts.startedAt,
    finishedAt: facts.finishedAt,
    result,
    ...(facts.failureReason !== undefined ? { reason: facts.failureReason } : {}),
    actor: "",
    ...boundedChanges(facts.changes),
    driftReverts: boundedDriftReverts(facts.driftReverts),
  };
}
