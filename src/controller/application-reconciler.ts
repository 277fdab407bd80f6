import { formatTime, isReady, removeCondition, setCondition } from "../api/conditions.ts";
import { fjordResourcePath } from "../api/paths.ts";
import {
  API_VERSION,
  APPLICATION_KIND,
  APPLICATION_RESOURCE,
  ConditionReason,
  ConditionType,
  FINALIZER,
  GIT_REPOSITORY_RESOURCE,
  HISTORY_LIMIT,
  type Application,
  type ApplicationStatus,
  type GitRepository,
  type DriftRevert,
  type InventoryEntry as StatusInventoryEntry,
  type SyncRecord,
} from "../api/types.ts";
import type { ChangeSetEntry } from "../apply/engine.ts";
import { SyncError, type SyncFailure } from "../apply/errors.ts";
import { withinNamespace, type LiveObjectCache } from "../apply/live-cache.ts";
import { prune } from "../apply/prune.ts";
import { checkout } from "../git/index.ts";
import type { KubeClient } from "../kube/client.ts";
import { Discovery } from "../kube/discovery.ts";
import { isNotFound } from "../kube/errors.ts";
import { render } from "../render/render.ts";
import { syncObjects } from "../sync/sync.ts";
import { parseDuration } from "../util/duration.ts";
import { statusInventoryStore, toStatusEntries } from "./application-status-inventory.ts";
import { handledRequest } from "../api/reconcile-request.ts";
import type { ArtifactStore } from "./artifact-store.ts";
import { artifactTreeKey, compileSourceIgnore } from "./source-ignore.ts";
import type { EventRecorder } from "./events.ts";
import { waitForHealthChecks } from "./health-checks.ts";
import type { ReconcileOutcome } from "./git-repository-reconciler.ts";
import { loadAgeIdentities, loadGitAuth } from "./source-credentials.ts";
import { ACCESS_DENIED_REASON, Tenancy, type ApplyIdentity } from "./tenancy.ts";

const appPath = (namespace: string, name: string) => fjordResourcePath(APPLICATION_RESOURCE, namespace, name);
const sourcePath = (namespace: string, name: string) => fjordResourcePath(GIT_REPOSITORY_RESOURCE, namespace, name);

const REASON_FOR: Record<SyncFailure, string> = {
  validation: ConditionReason.ValidationFailed,
  apply: ConditionReason.ReconciliationFailed,
  health: ConditionReason.HealthCheckFailed,
  source: ConditionReason.ArtifactFailed,
  render: ConditionReason.BuildFailed,
  empty: ConditionReason.EmptyRender,
};

export interface ApplicationReconcileOptions {
  cacheDir?: string;
  now?: () => Date;
  /** Aborted when a newer revision arrives, ending a health wait in progress. */
  signal?: AbortSignal;
  /** Changes others made to managed objects that triggered this reconcile; recorded when reverted. */
  drift?: readonly DriftRevert[];
  /** Where Events go; one is written only when something changed. */
  events?: EventRecorder;
  /** Which cross-namespace references are followed and as whom tenants' objects are written (default: sources of other namespaces refused, no default ServiceAccount). */
  tenancy?: Tenancy;
  /** Shares checked-out commits between Applications; without it each reconcile checks out its own. */
  artifacts?: ArtifactStore;
  /** Shared API discovery (it is the same for every Application); default: a fresh one. */
  discovery?: Discovery;
  /** The controller's watched GitRepositories, so a thousand Applications do not each GET theirs; undefined: read it. */
  sources?: (namespace: string, name: string) => GitRepository | undefined;
  /** Live objects the controller already watches (its drift watches): a resync reads them instead of the API server. */
  liveCache?: LiveObjectCache;
  /** Told the resourceVersion of each write to the Application, so the caller knows how fresh its cached copy is. */
  onWrite?: (resourceVersion: string) => void;
}

function describeSummary(summary: SyncRecord["summary"]): string {
  return `${summary.created} created, ${summary.configured} configured, ${summary.deleted} deleted`;
}

function summaryOf(changes: readonly ChangeSetEntry[]): SyncRecord["summary"] {
  const count = (action: ChangeSetEntry["action"]) => changes.filter((change) => change.action === action).length;
  return { created: count("created"), configured: count("configured"), deleted: count("deleted"), unchanged: count("unchanged") };
}

/** Something that stops this reconcile early with a Ready=False reason and a retry time. */
class NotReady extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One reconcile of an Application, in the fixed order Flux uses: deletion (prune on delete,
 * then release the finalizer), finalizer, suspend, dependencies, source, then
 * checkout -> render -> apply -> prune -> health through the sync engine. The status write at
 * the end always happens, success or not; a failed revision leaves what runs untouched.
 */
export async function reconcileApplication(client: KubeClient, app: Application, options: ApplicationReconcileOptions = {}): Promise<ReconcileOutcome> {
  const now = options.now ?? (() => new Date());
  const { namespace, name, generation } = app.metadata;
  const status: ApplicationStatus = { ...app.status };
  const owner = { name, namespace };
  const patch = async (subresource: "" | "/status", body: unknown) => {
    const written = await client.request<Application>("PATCH", `${appPath(namespace, name)}${subresource}`, { body, contentType: "application/merge-patch+json" });
    if (written.metadata.resourceVersion) options.onWrite?.(written.metadata.resourceVersion);
  };
  const writeStatus = (next: ApplicationStatus) => patch("/status", { status: { ...next, ...handledRequest(app) } });
  // Objects about to be created go into status.inventory before the first of them is written.
  const persistInventory = (entries: StatusInventoryEntry[]) => patch("/status", { status: { inventory: { entries } } });
  const subject = { apiVersion: API_VERSION, kind: APPLICATION_KIND, name, namespace, ...(app.metadata.uid ? { uid: app.metadata.uid } : {}) };
  const previousReady = status.conditions?.find((condition) => condition.type === ConditionType.Ready);
  const finalizers = (app.metadata.finalizers as string[] | undefined) ?? [];
  const tenancy = options.tenancy ?? new Tenancy();
  // Tenants' objects are written (and pruned) only as this identity; fjord's own objects (this
  // Application, its status and inventory) with the controller's.
  const identity = tenancy.applyIdentity(namespace, app.spec.serviceAccountName);
  const asApplier = () => (identity.user ? client.impersonating(identity.user) : client);

  if (app.metadata.deletionTimestamp) {
    if (finalizers.includes(FINALIZER)) {
      if (app.spec.prune && !app.spec.suspend) {
        const store = statusInventoryStore(status.inventory?.entries, status.lastAppliedRevision, persistInventory);
        const { inventory } = await store.load();
        const applier = asApplier();
        try {
          const result = await prune(applier, options.discovery ?? new Discovery(client), inventory.entries, owner);
          if (result.failures.length > 0) {
            const hint = tenancy.forbiddenHint(namespace, identity, result.failures.map((failure) => failure.message).join("\n"));
            throw new SyncError("apply", `could not delete everything this Application applied; retrying${hint ? ` (${hint})` : ""}`, result.failures);
          }
        } finally {
          if (applier !== client) applier.close();
        }
      }
      await patch("", { metadata: { finalizers: finalizers.filter((finalizer) => finalizer !== FINALIZER), resourceVersion: app.metadata.resourceVersion } });
    }
    return { ready: false };
  }
  if (!finalizers.includes(FINALIZER)) {
    await patch("", { metadata: { finalizers: [...finalizers, FINALIZER], resourceVersion: app.metadata.resourceVersion } });
  }
  if (app.spec.suspend) {
    await writeStatus({ ...status, conditions: removeCondition(status.conditions, ConditionType.Reconciling) });
    return { ready: isReady(status.conditions) };
  }

  const interval = parseDuration(app.spec.interval);
  const retry = app.spec.retryInterval ? parseDuration(app.spec.retryInterval) : Math.min(interval, 30_000);
  const started = now();
  let attempted: string | undefined;
  let artifactMeta: { author?: string; message?: string } = {};
  const store = statusInventoryStore(status.inventory?.entries, status.lastAppliedRevision, persistInventory);
  try {
    const self = { kind: APPLICATION_KIND, namespace, name };
    for (const [index, dependency] of (app.spec.dependsOn ?? []).entries()) {
      const refused = tenancy.refuseReference(self, `spec.dependsOn[${index}]`, { kind: APPLICATION_KIND, namespace: dependency.namespace ?? namespace, name: dependency.name }, "status");
      if (refused) throw new NotReady(ACCESS_DENIED_REASON, refused);
      const other = await client.request<Application>("GET", appPath(dependency.namespace ?? namespace, dependency.name)).catch((error: unknown) => {
        if (isNotFound(error)) return undefined;
        throw error;
      });
      if (!other || !isReady(other.status?.conditions, other.metadata.generation)) {
        throw new NotReady(ConditionReason.DependencyNotReady, `dependency '${dependency.namespace ?? namespace}/${dependency.name}' is not ready`);
      }
    }
    const sourceNamespace = app.spec.sourceRef.namespace ?? namespace;
    const refusedSource = tenancy.refuseReference(self, "spec.sourceRef", { kind: app.spec.sourceRef.kind, namespace: sourceNamespace, name: app.spec.sourceRef.name }, "source");
    if (refusedSource) throw new NotReady(ACCESS_DENIED_REASON, refusedSource);
    const source =
      options.sources?.(sourceNamespace, app.spec.sourceRef.name) ??
      (await client.request<GitRepository>("GET", sourcePath(sourceNamespace, app.spec.sourceRef.name)).catch((error: unknown) => {
        if (isNotFound(error)) throw new NotReady(ConditionReason.SourceNotFound, `GitRepository ${sourceNamespace}/${app.spec.sourceRef.name} not found`);
        throw error;
      }));
    const artifact = source.status?.artifact;
    if (!artifact) throw new NotReady(ConditionReason.ArtifactFailed, `GitRepository ${sourceNamespace}/${source.metadata.name} has no artifact yet`);
    attempted = artifact.revision;
    artifactMeta = { author: artifact.author, message: artifact.message };

    const auth = source.spec.secretRef ? await loadGitAuth(client, sourceNamespace, source.spec.secretRef.name) : undefined;
    // The tree leaves out what the source's ignore rules (recorded with the artifact) match.
    const open = async (signal: AbortSignal | undefined) => {
      try {
        return await checkout({
          url: source.spec.url,
          ref: { commit: artifact.commit },
          ...(auth ? { auth } : {}),
          timeoutMs: parseDuration(source.spec.timeout),
          ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
          ...(artifact.ignore !== undefined ? { ignore: compileSourceIgnore(artifact.ignore) } : {}),
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        throw new SyncError("source", error instanceof Error ? error.message : String(error));
      }
    };
    const opened = options.artifacts
      ? await options.artifacts.acquire(`${sourceNamespace}/${source.metadata.name}`, artifactTreeKey(artifact), open, options.signal)
      : await open(options.signal).then((tree) => ({ dir: tree.dir, release: () => void tree.dispose().catch(() => undefined) }));
    let changes: ChangeSetEntry[];
    try {
      const decryption = app.spec.decryption ? { identities: await loadAgeIdentities(client, namespace, app.spec.decryption.secretRef.name) } : undefined;
      const objects = await render({
        root: opened.dir,
        path: app.spec.path,
        immutableRoot: true,
        ...(app.spec.targetNamespace ? { helm: { namespace: app.spec.targetNamespace } } : {}),
        ...(decryption ? { decryption } : {}),
      }).catch((error: unknown) => {
        throw new SyncError("render", error instanceof Error ? error.message : String(error));
      });
      const applier = asApplier();
      try {
        const result = await syncObjects({
          client: applier,
          ...(options.discovery ? { discovery: options.discovery } : {}),
          objects,
          owner,
          defaultNamespace: app.spec.targetNamespace ?? namespace,
          inventoryStore: store,
          revision: artifact.revision,
          prune: app.spec.prune,
          wait: app.spec.wait,
          timeoutMs: parseDuration(app.spec.timeout),
          force: app.spec.force === true,
          ...(options.signal ? { signal: options.signal } : {}),
          // A tenant's sync may not learn from the controller's cache what it could not read itself.
          ...(options.liveCache ? { cache: identity.user ? withinNamespace(options.liveCache, namespace) : options.liveCache } : {}),
        });
        changes = result.changes;
        if (app.spec.healthChecks?.length) {
          await waitForHealthChecks(applier, app.spec.healthChecks, { timeoutMs: parseDuration(app.spec.timeout), ...(options.signal ? { signal: options.signal } : {}) });
        }
      } finally {
        if (applier !== client) applier.close();
      }
    } finally {
      opened.release();
    }

    const summary = summaryOf(changes);
    const reverted = summary.created + summary.configured > 0 && options.drift?.length ? { driftReverts: [...options.drift] } : {};
    const record: SyncRecord = { revision: artifact.revision, ...artifactMeta, startedAt: formatTime(started), finishedAt: formatTime(now()), result: "Succeeded", summary, ...reverted };
    let conditions = setCondition(status.conditions, { type: ConditionType.Ready, status: "True", reason: ConditionReason.ReconciliationSucceeded, message: `Applied revision: ${artifact.revision}` }, generation, now());
    conditions = removeCondition(removeCondition(conditions, ConditionType.Reconciling), ConditionType.Stalled);
    await writeStatus({
      observedGeneration: generation,
      conditions,
      drift: [],
      lastAppliedRevision: artifact.revision,
      lastAttemptedRevision: artifact.revision,
      inventory: { entries: toStatusEntries(store.current().inventory) },
      // Record a sync in history only when it did something or the revision moved.
      history: record.summary.created + record.summary.configured + record.summary.deleted > 0 || status.lastAppliedRevision !== artifact.revision
        ? [record, ...(status.history ?? [])].slice(0, HISTORY_LIMIT)
        : (status.history ?? []),
    });
    if (summary.created + summary.configured + summary.deleted > 0 || previousReady?.status !== "True") {
      await options.events?.record(subject, "Normal", ConditionReason.ReconciliationSucceeded, `Applied revision ${artifact.revision}: ${describeSummary(summary)}`);
    }
    if (reverted.driftReverts) {
      const what = reverted.driftReverts.map((drift) => `${drift.object} (changed by ${drift.changedBy})`).join(", ");
      await options.events?.record(subject, "Normal", "DriftReverted", `Reverted changes made in the cluster to ${what}`);
    }
    return { ready: true, requeueAfterMs: interval, changes, inventory: store.current().inventory.entries };
  } catch (error) {
    const reason = error instanceof NotReady ? error.reason : error instanceof SyncError ? REASON_FOR[error.failure] : ConditionReason.ReconciliationFailed;
    const message = withForbiddenHint(tenancy, namespace, identity, error instanceof Error ? error.message : String(error), error instanceof NotReady);
    const conditions = setCondition(status.conditions, { type: ConditionType.Ready, status: "False", reason, message }, generation, now());
    const failed: SyncRecord | undefined =
      attempted && !(error instanceof NotReady)
        ? { revision: attempted, ...artifactMeta, startedAt: formatTime(started), finishedAt: formatTime(now()), result: "Failed", summary: { created: 0, configured: 0, deleted: 0, unchanged: 0 } }
        : undefined;
    await writeStatus({
      ...status,
      observedGeneration: generation,
      conditions,
      ...(attempted ? { lastAttemptedRevision: attempted } : {}),
      inventory: { entries: toStatusEntries(store.current().inventory) },
      history: failed ? [failed, ...(status.history ?? [])].slice(0, HISTORY_LIMIT) : (status.history ?? []),
    });
    if (previousReady?.status !== "False" || previousReady.reason !== reason || previousReady.message !== message) {
      await options.events?.record(subject, reason === ConditionReason.DependencyNotReady ? "Normal" : "Warning", reason, message);
    }
    return { ready: false, requeueAfterMs: retry, inventory: store.current().inventory.entries };
  }
}

/** A refusal by RBAC says which identity applied and how to fix it (a source or dependency refusal is fjord's own and says so already). */
function withForbiddenHint(tenancy: Tenancy, namespace: string, identity: ApplyIdentity, message: string, ownRefusal: boolean): string {
  if (ownRefusal) return message;
  const hint = tenancy.forbiddenHint(namespace, identity, message);
  return hint && !message.includes(hint) ? `${message}\n${hint}` : message;
}
