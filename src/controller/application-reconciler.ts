import { findCondition, formatTime, isReady, removeCondition, setCondition } from "../api/conditions.ts";
import { fjordResourcePath } from "../api/paths.ts";
import {
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
  WARNING_LIMIT,
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
import { recordApplicationEvents } from "./application-events.ts";
import { waitForHealthChecks } from "./health-checks.ts";
import type { ReconcileOutcome } from "./runtime/reconciler.ts";
import { reportOf, type ReconcileResultKind, type ReportedChange, type ReportedObject } from "./runtime/report.ts";
import { patchStatus } from "./runtime/status-patch.ts";
import { RenderError } from "../render/errors.ts";
import type { InventoryEntry } from "../inventory/inventory.ts";
import { loadAgeIdentities, loadGitAuth } from "./source-credentials.ts";
import { ACCESS_DENIED_REASON, Tenancy, type ApplyIdentity } from "./tenancy.ts";
import type { HistoryEntry } from "../history/entry.ts";
import { operationEntry, syncEntry } from "./application-history.ts";

const appPath = (namespace: string, name: string) => fjordResourcePath(APPLICATION_RESOURCE, namespace, name);
const sourcePath = (namespace: string, name: string) => fjordResourcePath(GIT_REPOSITORY_RESOURCE, namespace, name);

/** Each failure of a sync its own reason, so a user (and an alert) can tell them apart. */
const REASON_FOR: Record<SyncFailure, string> = {
  validation: ConditionReason.ValidationFailed,
  apply: ConditionReason.ApplyFailed,
  prune: ConditionReason.PruneFailed,
  health: ConditionReason.HealthCheckFailed,
  source: ConditionReason.ArtifactFailed,
  render: ConditionReason.RenderFailed,
  decryption: ConditionReason.DecryptionFailed,
  empty: ConditionReason.EmptyRender,
};

/**
 * Failures a retry cannot fix: the input is wrong (the commit, or the spec). They stall until
 * the spec, the source's artifact or a reconcile request changes; everything else backs off.
 * A validation failure the cluster may cause (a CRD or Namespace another Application creates,
 * RBAC, an admission webhook down) backs off too: nothing in Git has to change for it to pass.
 */
const STALLS: ReadonlySet<SyncFailure> = new Set(["validation", "render", "empty"]);

export interface ApplicationReconcileOptions {
  cacheDir?: string;
  now?: () => Date;
  /** Aborted when a newer revision arrives, ending a health wait in progress. */
  signal?: AbortSignal;
  /** Changes others made to managed objects that triggered this reconcile; recorded when reverted. */
  drift?: readonly DriftRevert[];
  /** Where Events go, for a caller outside the manager (the controller observes the report instead); one is written only when something changed. */
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
  /** Told when the Application starts applying a revision it has not attempted before (commit statuses mark it pending). */
  onProgressing?: (object: ReportedObject, revision: string) => void;
}

export interface ApplicationOutcome extends ReconcileOutcome {
  /** What the sync did (every object, unchanged ones too), for metrics. */
  changes?: readonly ChangeSetEntry[];
  /** What the Application manages after the reconcile (its status inventory), for the drift watches. */
  inventory?: readonly InventoryEntry[];
  /** Entries for the Application's history (src/history), newest first; empty when this reconcile is not worth one. */
  history?: HistoryEntry[];
}

function summaryOf(changes: readonly ChangeSetEntry[]): SyncRecord["summary"] {
  const count = (action: ChangeSetEntry["action"]) => changes.filter((change) => change.action === action).length;
  return { created: count("created"), configured: count("configured"), deleted: count("deleted"), unchanged: count("unchanged") };
}

/** The changes a report names: objects written or pruned, by kind and name (never their content). */
function reportedChanges(changes: readonly ChangeSetEntry[]): ReportedChange[] {
  const reported: ReportedChange[] = [];
  for (const change of changes) {
    if (change.action !== "created" && change.action !== "configured" && change.action !== "deleted") continue;
    reported.push({ action: change.action, kind: change.ref.kind, name: change.ref.name, ...(change.ref.namespace ? { namespace: change.ref.namespace } : {}) });
  }
  return reported;
}

/** Something that stops this reconcile early with its own Ready=False reason; `stalled` when only new input can fix it. */
class ReconcileFailure extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly stalled = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Whether `error` or one of its causes is a failed SOPS decryption. */
function isDecryptionFailure(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth++) {
    if (current instanceof RenderError && current.code === "decryption-failed") return true;
  }
  return false;
}

/** A render failure by its kind: decryption, a tool missing from this machine (worth a retry), or the commit's content (stalled). */
function renderFailure(error: unknown): SyncError {
  if (error instanceof SyncError) return error;
  if (isDecryptionFailure(error)) return SyncError.wrap("decryption", error);
  if (error instanceof RenderError && error.code === "binary-missing") return SyncError.wrap("apply", error);
  return SyncError.wrap("render", error);
}

/** The Ready reason of a failure, and whether it stalls. */
function classify(error: unknown): { reason: string; stalled: boolean } {
  if (error instanceof ReconcileFailure) return { reason: error.reason, stalled: error.stalled };
  if (error instanceof SyncError) return { reason: REASON_FOR[error.failure], stalled: STALLS.has(error.failure) && !error.problems.some((problem) => problem.clusterDependent) };
  return { reason: ConditionReason.ReconciliationFailed, stalled: false };
}

/**
 * One reconcile of an Application, in the fixed order Flux uses: deletion (prune on delete,
 * then release the finalizer), finalizer, suspend, dependencies, source, then
 * checkout -> render -> apply -> prune -> health through the sync engine. The status is
 * computed once and written once at the end, only when it differs from what is stored (an idle
 * resync writes nothing); before long work on new input (a new revision, spec or request) a
 * Reconciling=True marker is written first, so `fjord reconcile` can tell "in progress" from
 * "done". A failed revision leaves what runs untouched.
 */
export async function reconcileApplication(client: KubeClient, app: Application, options: ApplicationReconcileOptions = {}): Promise<ApplicationOutcome> {
  const now = options.now ?? (() => new Date());
  const { namespace, name, generation } = app.metadata;
  const uid = app.metadata.uid;
  let stored: ApplicationStatus = { ...app.status };
  const status: ApplicationStatus = { ...app.status };
  const owner = { name, namespace };
  const noteWrite = (written: Application | undefined) => {
    if (written?.metadata.resourceVersion) options.onWrite?.(written.metadata.resourceVersion);
    if (written?.status) stored = written.status;
  };
  const patch = async (body: unknown) => noteWrite(await client.request<Application>("PATCH", appPath(namespace, name), { body, contentType: "application/merge-patch+json" }));
  // The one status write of a reconcile (after the progress marker, if any), skipped when nothing changed.
  const writeStatus = async (next: ApplicationStatus) => noteWrite(await patchStatus<Application>(client, appPath(namespace, name), stored, { ...next, ...handledRequest(app) }));
  // Objects about to be created go into status.inventory before the first of them is written.
  const persistInventory = async (entries: StatusInventoryEntry[]) =>
    noteWrite(await client.request<Application>("PATCH", `${appPath(namespace, name)}/status`, { body: { status: { inventory: { entries } } }, contentType: "application/merge-patch+json" }));
  const previousReady = status.conditions?.find((condition) => condition.type === ConditionType.Ready);
  const wasReady = previousReady?.status === "True";
  const finalizers = (app.metadata.finalizers as string[] | undefined) ?? [];
  const tenancy = options.tenancy ?? new Tenancy();
  // Tenants' objects are written (and pruned) only as this identity; fjord's own objects (this
  // Application, its status and inventory) with the controller's.
  const identity = tenancy.applyIdentity(namespace, app.spec.serviceAccountName);
  const asApplier = () => (identity.user ? client.impersonating(identity.user) : client);
  const report = (result: ReconcileResultKind, reason: string, message: string, fields: Partial<Parameters<typeof reportOf>[0]> = {}) =>
    reportOf({
      object: { kind: APPLICATION_KIND, namespace, name, ...(uid ? { uid } : {}) },
      result,
      reason,
      message,
      ready: result === "success" || (result === "idle" && wasReady),
      previousReady: wasReady,
      ...(previousReady ? { previousReason: previousReady.reason, previousMessage: previousReady.message } : {}),
      ...(status.warnings ? { previousWarnings: status.warnings } : {}),
      ...(status.lastAppliedRevision ? { previousRevision: status.lastAppliedRevision } : {}),
      ...fields,
    });
  // Events come from the report (application-events.ts): the manager's observer, or here for a caller that hands in a recorder.
  const announce = async (done: ReturnType<typeof report>) => {
    if (options.events) await recordApplicationEvents(options.events, done);
    return done;
  };

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
            throw new SyncError("prune", `could not delete everything this Application applied; retrying${hint ? ` (${hint})` : ""}`, result.failures);
          }
        } finally {
          if (applier !== client) applier.close();
        }
      }
      await patch({ metadata: { finalizers: finalizers.filter((finalizer) => finalizer !== FINALIZER), resourceVersion: app.metadata.resourceVersion } });
    }
    return { report: report("idle", "Deleted", "deleted") };
  }
  if (!finalizers.includes(FINALIZER)) {
    await patch({ metadata: { finalizers: [...finalizers, FINALIZER], resourceVersion: app.metadata.resourceVersion } });
  }
  // Who asked for a reconcile, suspend or resume: recorded whatever this reconcile does next.
  const operation = operationEntry(app);
  const requested = operation ? [operation] : [];
  if (app.spec.suspend) {
    await writeStatus({ ...status, conditions: removeCondition(status.conditions, ConditionType.Reconciling) });
    return { report: report("idle", ConditionReason.Suspended, "suspended"), history: requested };
  }

  const intervalMs = parseDuration(app.spec.interval);
  const retryMaxMs = app.spec.retryInterval ? parseDuration(app.spec.retryInterval) : Math.min(intervalMs, 30_000);
  const started = now();
  let attempted: string | undefined;
  let artifactMeta: { author?: string; message?: string } = {};
  let committer: string | undefined;
  let warnings: string[] = [];
  const store = statusInventoryStore(status.inventory?.entries, status.lastAppliedRevision, persistInventory);
  try {
    const self = { kind: APPLICATION_KIND, namespace, name };
    for (const [index, dependency] of (app.spec.dependsOn ?? []).entries()) {
      const refused = tenancy.refuseReference(self, `spec.dependsOn[${index}]`, { kind: APPLICATION_KIND, namespace: dependency.namespace ?? namespace, name: dependency.name }, "status");
      if (refused) throw new ReconcileFailure(ACCESS_DENIED_REASON, refused, true);
      const other = await client.request<Application>("GET", appPath(dependency.namespace ?? namespace, dependency.name)).catch((error: unknown) => {
        if (isNotFound(error)) return undefined;
        throw error;
      });
      if (!other || !isReady(other.status?.conditions, other.metadata.generation)) {
        throw new ReconcileFailure(ConditionReason.DependencyNotReady, `dependency '${dependency.namespace ?? namespace}/${dependency.name}' is not ready`);
      }
    }
    const sourceNamespace = app.spec.sourceRef.namespace ?? namespace;
    const refusedSource = tenancy.refuseReference(self, "spec.sourceRef", { kind: app.spec.sourceRef.kind, namespace: sourceNamespace, name: app.spec.sourceRef.name }, "source");
    if (refusedSource) throw new ReconcileFailure(ACCESS_DENIED_REASON, refusedSource, true);
    const source =
      options.sources?.(sourceNamespace, app.spec.sourceRef.name) ??
      (await client.request<GitRepository>("GET", sourcePath(sourceNamespace, app.spec.sourceRef.name)).catch((error: unknown) => {
        if (isNotFound(error)) throw new ReconcileFailure(ConditionReason.SourceNotFound, `GitRepository ${sourceNamespace}/${app.spec.sourceRef.name} not found`, false, { cause: error });
        throw error;
      }));
    const artifact = source.status?.artifact;
    if (!artifact) throw new ReconcileFailure(ConditionReason.SourceNotReady, `GitRepository ${sourceNamespace}/${source.metadata.name} has no artifact yet`);
    attempted = artifact.revision;
    artifactMeta = { author: artifact.author, message: artifact.message };
    committer = artifact.committer;

    // New input (a revision, spec or request not yet handled): say so before the long work. An
    // Application never reconciled has no Ready condition yet, which kstatus already reads as in
    // progress, so its first reconcile spends no request on the marker.
    const reconciling = findCondition(status.conditions, ConditionType.Reconciling);
    const newInput = status.lastAttemptedRevision !== artifact.revision || previousReady?.observedGeneration !== generation || handledRequest(app).lastHandledReconcileAt !== status.lastHandledReconcileAt;
    if (newInput && previousReady !== undefined && reconciling?.status !== "True") {
      const conditions = setCondition(removeCondition(status.conditions, ConditionType.Stalled), { type: ConditionType.Reconciling, status: "True", reason: ConditionReason.Progressing, message: `Applying revision ${artifact.revision}` }, generation, now());
      noteWrite(await client.request<Application>("PATCH", `${appPath(namespace, name)}/status`, { body: { status: { conditions } }, contentType: "application/merge-patch+json" }));
    }
    if (status.lastAttemptedRevision !== artifact.revision) options.onProgressing?.({ kind: APPLICATION_KIND, namespace, name, ...(uid ? { uid } : {}) }, artifact.revision);

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
        throw SyncError.wrap("source", error);
      }
    };
    const opened = options.artifacts
      ? await options.artifacts.acquire(`${sourceNamespace}/${source.metadata.name}`, artifactTreeKey(artifact), open, options.signal)
      : await open(options.signal).then((tree) => ({ dir: tree.dir, release: () => void tree.dispose().catch(() => undefined) }));
    let changes: ChangeSetEntry[];
    try {
      const decryption = app.spec.decryption ? { identities: await loadAgeIdentities(client, namespace, app.spec.decryption.secretRef.name) } : undefined;
      const found: string[] = [];
      const objects = await render({
        root: opened.dir,
        path: app.spec.path,
        immutableRoot: true,
        onWarning: (warning) => found.push(warning.message),
        ...(app.spec.targetNamespace ? { helm: { namespace: app.spec.targetNamespace } } : {}),
        ...(decryption ? { decryption } : {}),
      }).catch((error: unknown) => {
        throw renderFailure(error);
      });
      warnings = found.slice(0, WARNING_LIMIT).map((warning) => (warning.length > 4096 ? `${warning.slice(0, 4093)}...` : warning));
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
          allowEmpty: app.spec.allowEmpty === true,
          path: app.spec.path,
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
    const message = `Applied revision: ${artifact.revision}`;
    const worthRecording = record.summary.created + record.summary.configured + record.summary.deleted > 0 || status.lastAppliedRevision !== artifact.revision;
    const reported = reportedChanges(changes);
    let conditions = setCondition(status.conditions, { type: ConditionType.Ready, status: "True", reason: ConditionReason.ReconciliationSucceeded, message }, generation, now());
    conditions = removeCondition(removeCondition(conditions, ConditionType.Reconciling), ConditionType.Stalled);
    await writeStatus({
      observedGeneration: generation,
      conditions,
      drift: [],
      lastAppliedRevision: artifact.revision,
      lastAttemptedRevision: artifact.revision,
      inventory: { entries: toStatusEntries(store.current().inventory) },
      // Record a sync in history only when it did something or the revision moved.
      history: worthRecording ? [record, ...(status.history ?? [])].slice(0, HISTORY_LIMIT) : (status.history ?? []),
      ...(warnings.length > 0 ? { warnings } : {}),
    });
    return {
      report: await announce(report("success", ConditionReason.ReconciliationSucceeded, message, { revision: artifact.revision, changes: reported, driftReverts: reverted.driftReverts ?? [], warnings })),
      intervalMs,
      retryMaxMs,
      changes,
      inventory: store.current().inventory.entries,
      history: worthRecording
        ? [syncEntry({ revision: artifact.revision, artifact: { ...artifactMeta, ...(committer ? { committer } : {}) }, startedAt: started.toISOString(), finishedAt: now().toISOString(), changes: reported, driftReverts: reverted.driftReverts ?? [] }), ...requested]
        : requested,
    };
  } catch (error) {
    const { reason, stalled } = classify(error);
    const cause = error instanceof Error ? error : new Error(String(error));
    const message = withForbiddenHint(tenancy, namespace, identity, cause.message, error instanceof ReconcileFailure);
    let conditions = setCondition(status.conditions, { type: ConditionType.Ready, status: "False", reason, message }, generation, now());
    // kstatus: a failure retried with backoff is still Reconciling; one only new input can fix is Stalled.
    conditions = stalled
      ? setCondition(removeCondition(conditions, ConditionType.Reconciling), { type: ConditionType.Stalled, status: "True", reason, message }, generation, now())
      : setCondition(removeCondition(conditions, ConditionType.Stalled), { type: ConditionType.Reconciling, status: "True", reason: ConditionReason.ProgressingWithRetry, message: `${reason}; retrying with backoff` }, generation, now());
    const sameFailure = previousReady?.status === "False" && previousReady.reason === reason && previousReady.message === message && status.lastAttemptedRevision === attempted;
    // A failure repeated by a retry adds no history entry: the status would change on every retry.
    const failed: SyncRecord | undefined =
      attempted && !(error instanceof ReconcileFailure) && !sameFailure
        ? { revision: attempted, ...artifactMeta, startedAt: formatTime(started), finishedAt: formatTime(now()), result: "Failed", summary: { created: 0, configured: 0, deleted: 0, unchanged: 0 } }
        : undefined;
    await writeStatus({
      ...status,
      observedGeneration: generation,
      conditions,
      ...(attempted ? { lastAttemptedRevision: attempted } : {}),
      inventory: { entries: toStatusEntries(store.current().inventory) },
      history: failed ? [failed, ...(status.history ?? [])].slice(0, HISTORY_LIMIT) : (status.history ?? []),
      ...(warnings.length > 0 ? { warnings } : {}),
    });
    return {
      report: await announce(report(stalled ? "stalled" : "failed", reason, message, { ...(attempted ? { revision: attempted } : {}), driftReverts: options.drift ?? [], warnings, error: cause })),
      intervalMs,
      retryMaxMs,
      inventory: store.current().inventory.entries,
      history: failed
        ? [syncEntry({ revision: failed.revision, artifact: { ...artifactMeta, ...(committer ? { committer } : {}) }, startedAt: started.toISOString(), finishedAt: now().toISOString(), failureReason: reason, changes: [], driftReverts: options.drift ?? [] }), ...requested]
        : requested,
    };
  }
}

/** A refusal by RBAC says which identity applied and how to fix it (a source or dependency refusal is fjord's own and says so already). */
function withForbiddenHint(tenancy: Tenancy, namespace: string, identity: ApplyIdentity, message: string, ownRefusal: boolean): string {
  if (ownRefusal) return message;
  const hint = tenancy.forbiddenHint(namespace, identity, message);
  return hint && !message.includes(hint) ? `${message}\n${hint}` : message;
}
