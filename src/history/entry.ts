import { parseRevision } from "./revision.ts";

/**
 * One Application's history: what the cluster ran (syncs) and what people asked for (manual
 * operations), newest first. An entry names objects by kind and name only, never their content,
 * so no Secret value can reach it. Entries are read back from a ConfigMap anyone with edit
 * rights in the namespace can write, so parseEntries keeps only well-formed ones.
 */

/** What an entry records: a sync of a revision, or a manual operation someone asked for. */
export type HistoryAction = "sync" | "reconcile" | "suspend" | "resume" | "rollback";
export const OPERATION_ACTIONS: readonly HistoryAction[] = ["reconcile", "suspend", "resume", "rollback"];

/** applied: the revision runs; failed: it did not apply (see reason); health-timeout: applied, but not healthy in time. */
export type HistoryResult = "applied" | "failed" | "health-timeout" | "requested";

export interface HistoryChange {
  action: "created" | "configured" | "deleted";
  kind: string;
  name: string;
  namespace?: string;
}

export interface HistoryDriftRevert {
  object: string;
  /** Who changed it: the user when the admission webhook saw the request, else the field manager (e.g. `kubectl-edit`). */
  changedBy: string;
  /** The field manager, when `changedBy` names the user. */
  fieldManager?: string;
  at: string;
}

/** `alice (field manager kubectl-scale)`, or the field manager alone when nobody is known. */
export function describeChangedBy(revert: { changedBy: string; fieldManager?: string }): string {
  return revert.fieldManager ? `${revert.changedBy} (field manager ${revert.fieldManager})` : revert.changedBy;
}

export interface HistoryEntry {
  action: HistoryAction;
  /** The artifact revision (`main@sha1:<sha>`); for an operation, the revision applied when it was asked for. */
  revision: string;
  /** Commit author and committer, `Name <email>`. */
  author: string;
  committer: string;
  /** The commit message's first line. */
  subject: string;
  startedAt: string;
  finishedAt: string;
  result: HistoryResult;
  /** The Ready reason of a failure. */
  reason?: string;
  /** Who asked for a manual operation (the user the API server authenticated the CLI as); empty for syncs. */
  actor: string;
  /** A rollback's target: the revision whose content `fjord rollback` restored (`main@sha1:<sha>`). */
  target?: string;
  changes: HistoryChange[];
  /** Changes beyond MAX_CHANGES_PER_ENTRY, counted but not named. */
  changesOmitted?: number;
  driftReverts: HistoryDriftRevert[];
}

/** Objects named per entry: a sync of thousands of objects must not make one entry the size of the ConfigMap. */
export const MAX_CHANGES_PER_ENTRY = 100;
const MAX_DRIFT_REVERTS_PER_ENTRY = 50;
const MAX_TEXT = 512;

export interface HistoryBounds {
  /** Entries kept (newest first). */
  limit: number;
  /** Entries older than this (by finishedAt) are dropped. */
  maxAgeMs: number;
}

export const DEFAULT_HISTORY_BOUNDS: HistoryBounds = { limit: 100, maxAgeMs: 90 * 24 * 3600 * 1000 };

/** New entries before the stored ones, then the bounds: at most `limit`, none older than `maxAgeMs`. */
export function boundHistory(entries: readonly HistoryEntry[], bounds: HistoryBounds, now: Date): HistoryEntry[] {
  const oldest = now.getTime() - bounds.maxAgeMs;
  return entries.filter((entry) => Date.parse(entry.finishedAt) >= oldest).slice(0, bounds.limit);
}

/** The first line of a commit message, bounded. */
export function subjectOf(message: string | undefined): string {
  return clip((message ?? "").split("\n")[0] ?? "");
}

const clip = (text: string, max = MAX_TEXT) => (text.length > max ? `${text.slice(0, max - 3)}...` : text);

/** Changes bounded to MAX_CHANGES_PER_ENTRY, the rest counted. */
export function boundedChanges(changes: readonly HistoryChange[]): Pick<HistoryEntry, "changes" | "changesOmitted"> {
  const kept = changes.slice(0, MAX_CHANGES_PER_ENTRY).map((change) => ({ action: change.action, kind: change.kind, name: change.name, ...(change.namespace ? { namespace: change.namespace } : {}) }));
  return { changes: kept, ...(changes.length > kept.length ? { changesOmitted: changes.length - kept.length } : {}) };
}

export function boundedDriftReverts(reverts: readonly HistoryDriftRevert[]): HistoryDriftRevert[] {
  return reverts.slice(0, MAX_DRIFT_REVERTS_PER_ENTRY).map(({ object, changedBy, fieldManager, at }) => ({ object, changedBy, ...(fieldManager ? { fieldManager } : {}), at }));
}

const isString = (value: unknown): value is string => typeof value === "string";
const RESULTS: readonly string[] = ["applied", "failed", "health-timeout", "requested"];
const CHANGE_ACTIONS: readonly string[] = ["created", "configured", "deleted"];

/** One stored entry, or undefined when it is not of the shape fjord writes (an edited ConfigMap). */
function parseEntry(value: unknown): HistoryEntry | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const entry = value as Record<string, unknown>;
  const { action, revision, author, committer, subject, startedAt, finishedAt, result, reason, actor, target, changes, changesOmitted, driftReverts } = entry;
  if (!isString(action) || !(action === "sync" || OPERATION_ACTIONS.includes(action as HistoryAction))) return undefined;
  if (![revision, author, committer, subject, startedAt, finishedAt, actor].every(isString) || !isString(result) || !RESULTS.includes(result)) return undefined;
  if (Number.isNaN(Date.parse(finishedAt as string)) || !Array.isArray(changes) || !Array.isArray(driftReverts)) return undefined;
  const parsedChanges: HistoryChange[] = [];
  for (const change of changes as unknown[]) {
    const c = change as Record<string, unknown> | null;
    if (!c || !isString(c.action) || !CHANGE_ACTIONS.includes(c.action) || !isString(c.kind) || !isString(c.name) || (c.namespace !== undefined && !isString(c.namespace))) return undefined;
    parsedChanges.push({ action: c.action as HistoryChange["action"], kind: c.kind, name: c.name, ...(c.namespace ? { namespace: c.namespace } : {}) });
  }
  const parsedReverts: HistoryDriftRevert[] = [];
  for (const revert of driftReverts as unknown[]) {
    const r = revert as Record<string, unknown> | null;
    if (!r || !isString(r.object) || !isString(r.changedBy) || !isString(r.at) || (r.fieldManager !== undefined && !isString(r.fieldManager))) return undefined;
    parsedReverts.push({ object: r.object, changedBy: clip(r.changedBy, 256), ...(r.fieldManager ? { fieldManager: clip(r.fieldManager, 128) } : {}), at: r.at });
  }
  return {
    action: action as HistoryAction,
    revision: clip(revision as string),
    author: clip(author as string),
    committer: clip(committer as string),
    subject: clip(subject as string),
    startedAt: startedAt as string,
    finishedAt: finishedAt as string,
    result: result as HistoryResult,
    ...(isString(reason) ? { reason: clip(reason, 128) } : {}),
    actor: clip(actor as string, 256),
    ...(action === "rollback" && isString(target) && parseRevision(target) !== undefined ? { target } : {}),
    ...boundedChanges(parsedChanges),
    ...(typeof changesOmitted === "number" && Number.isSafeInteger(changesOmitted) && changesOmitted > 0 ? { changesOmitted } : {}),
    driftReverts: boundedDriftReverts(parsedReverts),
  };
}

/** The entries of a stored history, malformed ones left out, newest first. */
export function parseEntries(value: unknown): HistoryEntry[] {
  const entries = (value as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries)) throw new Error("stored history has no entries list");
  return entries.flatMap((entry) => parseEntry(entry) ?? []).sort((a, b) => Date.parse(b.finishedAt) - Date.parse(a.finishedAt));
}
