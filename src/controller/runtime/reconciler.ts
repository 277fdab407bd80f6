import { RECONCILE_REQUEST_ANNOTATION } from "../../api/types.ts";
import type { KubeObject } from "../../model/object.ts";
import type { ReconcileReport } from "./report.ts";

/** What a reconcile hands back to the manager: what happened, and the times its requeue is computed from. */
export interface ReconcileOutcome {
  report: ReconcileReport;
  /** Requeue this long after a success (plus jitter); undefined: only when something changes. */
  intervalMs?: number;
  /** The longest backoff between retries of a failure (an Application's retryInterval); default: the interval. */
  retryMaxMs?: number;
}

/**
 * The one interface every kind implements (GitRepository, Application, the image kinds,
 * SealedSecret). The manager owns the watch, the cache, the work queue, the requeue policy and
 * the stall gate; a Reconciler only says where its objects live and reconciles one of them.
 */
export interface Reconciler<T extends KubeObject = KubeObject> {
  readonly kind: string;
  /** Collections to list and watch (one cluster-wide path, or one per namespace). */
  readonly watchPaths: readonly string[];
  /** The path of one object, to read it before reconciling. */
  objectPath(namespace: string, name: string): string;
  reconcile(object: T, signal: AbortSignal): Promise<ReconcileOutcome>;
  /**
   * Whatever besides the object's generation, deletion and annotations must change before a
   * stalled object is reconciled again (an Application: its source's artifact).
   */
  stallInputs?(object: T): string;
  /** Whether the cached copy may be reconciled without a GET (default: never). */
  cacheIsCurrent?(key: string, cached: T): boolean;
  /** Whether a watch event calls for a reconcile (default: needsReconcile). */
  needsReconcile?(previous: T | undefined, next: T): boolean;
  /** The object is gone (after the cache dropped it). */
  deleted?(object: T): void;
}

/**
 * Spec changes (generation), deletion, and annotations (a manual "reconcile now") matter;
 * status writes and finalizer edits (the controller's own) do not, or every reconcile would
 * trigger the next one. A finalizer someone removed is put back at the next interval.
 */
export function needsReconcile(previous: KubeObject | undefined, next: KubeObject): boolean {
  if (!previous) return true;
  return (
    previous.metadata.uid !== next.metadata.uid ||
    previous.metadata.generation !== next.metadata.generation ||
    previous.metadata.deletionTimestamp !== next.metadata.deletionTimestamp ||
    JSON.stringify(previous.metadata.annotations ?? {}) !== JSON.stringify(next.metadata.annotations ?? {})
  );
}

/** What a stalled object waits for: any of these changing is a new input worth one more try. */
export function objectInputs(object: KubeObject): string {
  const { uid, generation, deletionTimestamp, annotations } = object.metadata;
  return JSON.stringify([uid ?? "", generation ?? 0, deletionTimestamp ?? "", annotations?.[RECONCILE_REQUEST_ANNOTATION] ?? ""]);
}

export const objectKey = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;
