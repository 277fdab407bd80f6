import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export type ReconcileResult = "success" | "failure";
export type GitFetchResult = "success" | "failure";
/** The apply engine's actions (src/apply/engine.ts), plus prune's `deleted`. */
export type ApplyAction = "created" | "configured" | "unchanged" | "deleted" | "skipped";

export interface ObjectIdentity {
  kind: string;
  name: string;
  /** Empty for cluster-scoped objects. */
  namespace: string;
}

/**
 * The controller's Prometheus metrics. A registry of its own rather than prom-client's global
 * one, so that several controllers (and tests) in one process do not share counts.
 */
export interface ControllerMetrics {
  readonly registry: Registry;
  recordReconcile(object: ObjectIdentity, result: ReconcileResult, seconds: number): void;
  recordApply(action: ApplyAction, count?: number): void;
  /** A change made outside Git was reverted (the re-sync succeeded). */
  recordDriftRevert(object: ObjectIdentity): void;
  /** A re-sync meant to revert drift failed. */
  recordDriftRevertFailure(object: ObjectIdentity): void;
  setQueueDepth(depth: number): void;
  recordGitFetch(result: GitFetchResult, seconds: number): void;
}

// A reconcile spans a no-op (well under a second) to a --wait on a slow rollout (minutes).
const RECONCILE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
// A cached fetch is a few hundred milliseconds; the default Git timeout is 60 s.
const GIT_FETCH_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60];

export function createControllerMetrics(): ControllerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "fjord_" });

  const reconcileDuration = new Histogram({
    name: "fjord_reconcile_duration_seconds",
    help: "Time taken by one reconcile of a fjord object, by outcome",
    labelNames: ["kind", "name", "namespace", "result"] as const,
    buckets: RECONCILE_BUCKETS,
    registers: [registry],
  });
  const appliedObjects = new Counter({
    name: "fjord_apply_objects_total",
    help: "Objects handled by the apply engine and prune, by action",
    labelNames: ["action"] as const,
    registers: [registry],
  });
  const driftReverts = new Counter({
    name: "fjord_drift_reverts_total",
    help: "Changes made in the cluster outside Git that fjord reverted",
    labelNames: ["kind", "name", "namespace"] as const,
    registers: [registry],
  });
  const driftRevertFailures = new Counter({
    name: "fjord_drift_revert_failures_total",
    help: "Changes made in the cluster outside Git whose revert failed (the re-sync failed)",
    labelNames: ["kind", "name", "namespace"] as const,
    registers: [registry],
  });
  const queueDepth = new Gauge({
    name: "fjord_queue_depth",
    help: "Reconciles waiting in the work queue",
    registers: [registry],
  });
  const gitFetchDuration = new Histogram({
    name: "fjord_git_fetch_duration_seconds",
    help: "Time taken by one Git fetch (resolving the ref on the remote through the cache), by outcome",
    labelNames: ["result"] as const,
    buckets: GIT_FETCH_BUCKETS,
    registers: [registry],
  });

  return {
    registry,
    recordReconcile: ({ kind, name, namespace }, result, seconds) => reconcileDuration.observe({ kind, name, namespace, result }, seconds),
    recordApply: (action, count = 1) => appliedObjects.inc({ action }, count),
    recordDriftRevert: ({ kind, name, namespace }) => driftReverts.inc({ kind, name, namespace }),
    recordDriftRevertFailure: ({ kind, name, namespace }) => driftRevertFailures.inc({ kind, name, namespace }),
    setQueueDepth: (depth) => queueDepth.set(depth),
    recordGitFetch: (result, seconds) => gitFetchDuration.observe({ result }, seconds),
  };
}
