/**
 * What one reconcile did, for whoever wants to know: the manager hands a ReconcileReport to its
 * observers after every reconcile (metrics today; history, audit and notifications next). It is
 * small, typed and holds no Secret values: a change names objects, never their content.
 */

/** success: the object is reconciled; failed: retried with backoff; stalled: bad input, not retried until it changes; idle: nothing to do (suspended, deleted, skipped while stalled). */
export type ReconcileResultKind = "success" | "failed" | "stalled" | "idle";

export interface ReportedObject {
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

/** One object a sync created, configured or pruned (names and kinds only). */
export interface ReportedChange {
  action: "created" | "configured" | "deleted";
  kind: string;
  name: string;
  namespace?: string;
}

/** A change made outside Git that this reconcile reverted (or tried to). */
export interface ReportedDriftRevert {
  object: string;
  /** The user when the admission webhook saw the change, else the field manager. */
  changedBy: string;
  fieldManager?: string;
  at: string;
}

/** News a reconcile has beyond its result, told as is (an image update pushed: which tags moved). */
export interface ReportedNotice {
  reason: string;
  message: string;
  /** The revision the notice is about (the commit pushed). */
  revision?: string;
}

export interface ReconcileReport {
  object: ReportedObject;
  result: ReconcileResultKind;
  /** The Ready condition's reason (a ConditionReason), or the kind's own for kinds without one. */
  reason: string;
  message: string;
  /** The revision reconciled (an Application's artifact, a GitRepository's new artifact). */
  revision?: string;
  /** The revision applied before this reconcile. */
  previousRevision?: string;
  /** Objects created, configured or pruned; unchanged objects are left out. */
  changes: readonly ReportedChange[];
  /** Drift this reconcile reverted; with result "failed" the reverts failed. */
  driftReverts: readonly ReportedDriftRevert[];
  /** Non-fatal findings, e.g. files the render did not read. */
  warnings: readonly string[];
  notices?: readonly ReportedNotice[];
  ready: boolean;
  previousReady: boolean;
  /** The Ready reason and message before this reconcile, so an observer can tell a new failure from a repeated one. */
  previousReason?: string;
  previousMessage?: string;
  /** The warnings the last reconcile reported. */
  previousWarnings?: readonly string[];
  /** The failure, with its cause chain (Error.cause), when result is failed or stalled. */
  error?: Error;
  /** Seconds the reconcile took (set by the manager). */
  seconds?: number;
}

export type ReconcileObserver = (report: ReconcileReport) => void;

/** A report with the empty lists filled in, so reconcilers name only what they know. */
export function reportOf(fields: Omit<ReconcileReport, "changes" | "driftReverts" | "warnings"> & Partial<Pick<ReconcileReport, "changes" | "driftReverts" | "warnings">>): ReconcileReport {
  return { changes: [], driftReverts: [], warnings: [], ...fields };
}

/** The error's message followed by its causes', so a log line or a condition keeps the whole chain without repeating it. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 8; depth++) {
    const message = current instanceof Error ? current.message : typeof current === "string" ? current : JSON.stringify(current);
    if (!parts.some((part) => part.includes(message))) parts.push(message);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(": ");
}
