import { describeChangedBy, type HistoryEntry } from "./entry.ts";

/**
 * The questions an auditor asks of histories: what ran at a moment, and one trail of every
 * change across Applications that a script or a spreadsheet can read line by line.
 */

/** A time from the command line: RFC 3339 (`2026-12-07T10:00:00Z`) or a duration before now (`2h`, `90m`). */
export function parseTime(text: string, now: Date, parseDuration: (text: string) => number): Date {
  if (/^\d+(\.\d+)?(ms|s|m|h)/.test(text.trim())) return new Date(now.getTime() - parseDuration(text));
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new Error(`${JSON.stringify(text)} is not a time: use RFC 3339 (2026-12-07T10:00:00Z) or a duration before now (2h)`);
  return new Date(at);
}

/** Whether the sync left this revision running: applied, or applied but not healthy in time. */
const ran = (entry: HistoryEntry) => entry.action === "sync" && (entry.result === "applied" || entry.result === "health-timeout");

/** The sync whose revision was running at `at` (its finishedAt is "since"), or undefined when the history does not reach back that far. */
export function runningAt(entries: readonly HistoryEntry[], at: Date): HistoryEntry | undefined {
  return [...entries].sort((a, b) => Date.parse(b.finishedAt) - Date.parse(a.finishedAt)).find((entry) => ran(entry) && Date.parse(entry.finishedAt) <= at.getTime());
}

/** One self-contained line of the audit trail. */
export interface AuditLine {
  time: string;
  namespace: string;
  application: string;
  action: HistoryEntry["action"];
  /** Who asked (manual operations); for a sync, the commit's author is in `author`. */
  actor: string;
  result: HistoryEntry["result"];
  revision: string;
  author: string;
  subject: string;
  /** `created Deployment/shop/web`, ... (kinds and names only). */
  objects: string[];
}

export function auditLines(namespace: string, application: string, entries: readonly HistoryEntry[], window: { since?: Date; until?: Date }): AuditLine[] {
  return entries
    .filter((entry) => (!window.since || Date.parse(entry.finishedAt) >= window.since.getTime()) && (!window.until || Date.parse(entry.finishedAt) <= window.until.getTime()))
    .map((entry) => ({
      time: entry.finishedAt,
      namespace,
      application,
      action: entry.action,
      actor: entry.actor,
      result: entry.result,
      revision: entry.revision,
      author: entry.author,
      subject: entry.subject,
      objects: [
        ...entry.changes.map((change) => `${change.action} ${change.kind}/${change.namespace ? `${change.namespace}/` : ""}${change.name}`),
        ...(entry.changesOmitted ? [`and ${entry.changesOmitted} more`] : []),
        ...entry.driftReverts.map((revert) => `reverted ${revert.object} (changed by ${describeChangedBy(revert)})`),
      ],
    }));
}

export const AUDIT_COLUMNS = ["time", "namespace", "application", "action", "actor", "result", "revision", "author", "subject", "objects"] as const;

/**
 * One CSV cell (RFC 4180). Commit subjects and names come from Git: a cell starting with
 * `=`, `+`, `-`, `@` or a tab would run as a formula in a spreadsheet, so it is prefixed with `'`.
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(line: AuditLine): string {
  return AUDIT_COLUMNS.map((column) => csvCell(column === "objects" ? line.objects.join("; ") : line[column])).join(",");
}
