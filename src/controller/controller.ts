import { installCustomResourceDefinitions } from "./crd-install.ts";
import { fjordResourcePath } from "../api/paths.ts";
import {
  APPLICATION_KIND,
  APPLICATION_RESOURCE,
  GIT_REPOSITORY_KIND,
  GIT_REPOSITORY_RESOURCE,
  type Application,
  type GitRepository,
} from "../api/types.ts";
import type { KubeClient } from "../kube/client.ts";
import { isNotFound } from "../kube/errors.ts";
import { watchUntil } from "../kube/watch-until.ts";
import type { KubeObject } from "../model/object.ts";
import type { ControllerMetrics } from "./metrics.ts";
import { normaliseRepositoryUrl } from "../git/repository-url.ts";
import { artifactIdentity } from "./source-ignore.ts";
import type { Logger } from "../util/logger.ts";
import { Discovery } from "../kube/discovery.ts";
import { reconcileApplication } from "./application-reconciler.ts";
import type { InventoryEntry } from "../inventory/inventory.ts";
import { DriftWatcher, unwatchedMessage, type DriftEvent } from "./drift-watch.ts";
import { ArtifactStore } from "./artifact-store.ts";
import { EventRecorder } from "./events.ts";
import { reconcileGitRepository, type ReconcileOutcome } from "./git-repository-reconciler.ts";
import { imageAutomationHandlers } from "./image-automation-controller.ts";
import { WorkQueue } from "./queue.ts";
import { reportDrift } from "./drift-report.ts";
import { SyncTracker } from "./sync-tracker.ts";
import { Tenancy } from "./tenancy.ts";

const collection = (resource: string) => fjordResourcePath(resource);
const objectPath = (resource: string, namespace: string, name: string) => fjordResourcePath(resource, namespace, name);

export interface ControllerOptions {
  client: KubeClient;
  logger: Logger;
  metrics?: ControllerMetrics;
  /** Reconciles running at once. */
  concurrency?: number;
  cacheDir?: string;
  /** Install or update the CRDs at start (needs the permission to). */
  installCrds?: boolean;
  /**
   * Cross-namespace references and the identity tenants' objects are applied as
   * (`--allow-cross-namespace-sources`, `--no-cross-namespace-refs`, `--default-service-account`);
   * default: sources of other namespaces refused, no default ServiceAccount.
   */
  tenancy?: Tenancy;
  /** Reconcile only fjord objects with matching labels (sharding, or one controller per team). */
  watchLabelSelector?: string;
  /** Handed a way to reach the running loop, e.g. for webhooks. */
  onStarted?: (handle: ControllerHandle) => void;
}

export interface ControllerHandle {
  /** Queues every GitRepository whose URL normalises to one of `urls` (a push webhook); returns how many. */
  triggerSources(urls: readonly string[]): number;
}

/**
 * Spec changes (generation), deletion, and annotations (a manual "reconcile now") matter;
 * status writes and finalizer edits (the controller's own) do not, or every reconcile would
 * trigger the next one. A finalizer someone removed is put back at the next interval.
 */
export function needsReconcile(previous: KubeObject | undefined, next: KubeObject): boolean {
  if (!previous) return true;
  return (
    previous.metadata.generation !== next.metadata.generation ||
    previous.metadata.deletionTimestamp !== next.metadata.deletionTimestamp ||
    JSON.stringify(previous.metadata.annotations ?? {}) !== JSON.stringify(next.metadata.annotations ?? {})
  );
}

/** Caches an object unless the cache already holds a newer version (a GET can overtake the watch). */
function remember<T extends KubeObject>(cache: Map<string, T>, key: string, object: T): void {
  const held = Number(cache.get(key)?.metadata.resourceVersion ?? 0);
  const next = Number(object.metadata.resourceVersion ?? 0);
  if (!(held > next)) cache.set(key, object);
}

const keyOf = (kind: string, object: KubeObject) => `${kind}/${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`;

/**
 * The reconcile loop: watches GitRepositories and Applications, queues a key per changed
 * object (de-duplicated, rate-limited retries), and runs the reconcilers. A source whose
 * artifact moves queues the Applications that use it, so a new commit is applied at once
 * rather than at the Application's next interval. Runs until `signal` aborts.
 */
export async function runController(options: ControllerOptions, signal: AbortSignal): Promise<void> {
  const { client, logger } = options;
  const tenancy = options.tenancy ?? new Tenancy();
  const warning = tenancy.startupWarning();
  if (warning) logger.warn(warning);
  if (options.installCrds !== false) await installCustomResourceDefinitions(client);
  const queue = new WorkQueue({
    onDepthChange: (depth) => options.metrics?.setQueueDepth(depth),
    onError: (key, error) => logger.warn({ key, error: error instanceof Error ? error.message : String(error) }, "reconcile failed; retrying with backoff"),
  });
  const applications = new Map<string, Application>();
  const sources = new Map<string, GitRepository>();
  const discovery = new Discovery(client);
  const syncs = new SyncTracker();
  // Coalesces a burst of events (kubectl apply touching several objects) into one re-sync.
  const DRIFT_DEBOUNCE_MS = 250;
  const events = new EventRecorder(client, logger);
  const artifacts = new ArtifactStore();

  // Image automation (ImageRepository, ImagePolicy, ImageUpdateAutomation): a dispatch table of
  // kinds with their own caches and follow-ups, see image-automation-controller.ts.
  const imageKinds = new Map(
    imageAutomationHandlers({
      client,
      events,
      enqueue: (kind, namespace, name) => queue.add(`${kind}/${namespace}/${name}`),
      ...(options.watchLabelSelector ? { labelSelector: options.watchLabelSelector } : {}),
      tenancy,
    }).map((handler) => [handler.kind, handler]),
  );

  /** Kinds whose lack of a watch was logged already: once per kind, not once per Application. */
  const unwatchedLogged = new Set<string>();
  const onDrift = (key: string, app: Application, event: DriftEvent) => {
    const selfHeal = app.spec.selfHeal !== false;
    if (!selfHeal && !syncs.firstReport(key, event)) return;
    logger.info({ application: key, object: event.object, changedBy: event.changedBy }, selfHeal ? "drift detected; reverting" : "drift detected (selfHeal off: not reverted)");
    if (!selfHeal) {
      reportDrift(client, events, app, event).catch((error: unknown) => logger.warn({ application: key, error: error instanceof Error ? error.message : String(error) }, "could not report drift"));
      return;
    }
    syncs.addPending(key, event);
    queue.addAfter(key, DRIFT_DEBOUNCE_MS);
  };
  const driftWatcher = new DriftWatcher(client, discovery, {
    onDrift: (owner, event) => {
      const key = `${APPLICATION_KIND}/${owner.namespace}/${owner.name}`;
      const app = applications.get(key);
      // Objects of a `fjord sync` run, or of an Application deleted meanwhile, are not ours to heal.
      if (app && !app.spec.suspend) onDrift(key, app, event);
    },
    syncing: (owner) => syncs.isSyncing(`${APPLICATION_KIND}/${owner.namespace}/${owner.name}`),
    onUnwatched: (owner, unwatched) => {
      const app = applications.get(`${APPLICATION_KIND}/${owner.namespace}/${owner.name}`);
      const resource = `${unwatched.resource}${unwatched.group ? `.${unwatched.group}` : ""}`;
      if (!unwatchedLogged.has(resource)) {
        unwatchedLogged.add(resource);
        logger.warn({ resource, why: unwatched.why, ...(unwatched.detail ? { detail: unwatched.detail } : {}) }, unwatchedMessage(unwatched));
      }
      if (!app) return;
      const subject = { apiVersion: app.apiVersion, kind: APPLICATION_KIND, name: owner.name, namespace: owner.namespace, ...(app.metadata.uid ? { uid: app.metadata.uid } : {}) };
      void events.record(subject, unwatched.why === "forbidden" ? "Normal" : "Warning", "DriftNotWatched", unwatchedMessage(unwatched, app.spec.interval));
    },
  });

  /** After each reconcile, the objects an Application manages are what the shared watches look for. */
  const watchForDrift = async (key: string, app: Application, entries: readonly InventoryEntry[] | undefined) => {
    const owner = { name: app.metadata.name, namespace: app.metadata.namespace };
    if (!entries || app.metadata.deletionTimestamp || app.spec.suspend || signal.aborted) {
      driftWatcher.untrack(owner);
      return;
    }
    syncs.clearReports(key);
    await driftWatcher.track(owner, entries, () => syncs.latestStart(key));
  };

  const reconcile = async (key: string, keySignal: AbortSignal) => {
    const [kind = "", namespace = "", name = ""] = key.split("/");
    const started = process.hrtime.bigint();
    const imageKind = imageKinds.get(kind);
    const resource = imageKind?.resource ?? (kind === GIT_REPOSITORY_KIND ? GIT_REPOSITORY_RESOURCE : APPLICATION_RESOURCE);
    // An Application starts from the watch cache unless it may miss the controller's own last write;
    // the other kinds are few and cheap to read.
    const cached = kind === APPLICATION_KIND ? applications.get(key) : undefined;
    const object =
      cached && syncs.isCurrent(key, cached)
        ? cached
        : await client.request<KubeObject>("GET", objectPath(resource, namespace, name)).catch((error: unknown) => {
            if (isNotFound(error)) return undefined;
            throw error;
          });
    if (!object) return;
    let outcome: ReconcileOutcome;
    if (imageKind) {
      outcome = await imageKind.reconcile(object, keySignal);
    } else if (kind === GIT_REPOSITORY_KIND) {
      const before = artifactIdentity((object as GitRepository).status?.artifact);
      outcome = await reconcileGitRepository(client, object as GitRepository, { events, signal: keySignal, ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}) });
      options.metrics?.recordGitFetch(outcome.ready ? "success" : "failure", Number(process.hrtime.bigint() - started) / 1e9);
      const current = await client.request<GitRepository>("GET", objectPath(resource, namespace, name)).catch(() => undefined);
      // The Applications queued below read their source from this cache: it must hold the new artifact already.
      if (current) remember(sources, key, current);
      // A new commit, or new ignore rules for the same one: either way the Applications' trees change.
      const after = artifactIdentity(current?.status?.artifact);
      if (after && after !== before) {
        for (const app of applications.values()) {
          if (app.spec.sourceRef.name !== name || (app.spec.sourceRef.namespace ?? app.metadata.namespace) !== namespace) continue;
          const appKey = keyOf(APPLICATION_KIND, app);
          syncs.supersede(appKey, new Error(`superseded by revision ${current?.status?.artifact?.revision ?? after}`));
          queue.add(appKey);
        }
      }
    } else {
      const sync = syncs.start(key, keySignal);
      const { drift } = sync;
      try {
        outcome = await reconcileApplication(client, object as Application, {
          signal: sync.signal,
          onWrite: (resourceVersion) => syncs.recordWrite(key, resourceVersion),
          events,
          artifacts,
          discovery,
          liveCache: driftWatcher,
          sources: (sourceNamespace, sourceName) => sources.get(`${GIT_REPOSITORY_KIND}/${sourceNamespace}/${sourceName}`),
          tenancy,
          ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
          ...(drift ? { drift: drift.map(({ object: changed, changedBy, at }) => ({ object: changed, changedBy, at })) } : {}),
        });
        // Still "syncing" until the watches know the new inventory, so this sync's own prunes are not drift.
        await watchForDrift(key, object as Application, outcome.inventory);
      } finally {
        sync.end();
      }
      for (let reverted = 0; reverted < (drift?.length ?? 0); reverted++) options.metrics?.recordDriftRevert({ kind, namespace, name });
      for (const change of outcome.changes ?? []) options.metrics?.recordApply(change.action);
      // Applications waiting on this one go as soon as it is ready, not at their retry time.
      if (outcome.ready) {
        for (const app of applications.values()) {
          if (app.spec.dependsOn?.some((dependency) => dependency.name === name && (dependency.namespace ?? app.metadata.namespace) === namespace)) queue.add(keyOf(APPLICATION_KIND, app));
        }
      }
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    options.metrics?.recordReconcile({ kind, namespace, name }, outcome.ready ? "success" : "failure", seconds);
    logger.info({ key, ready: outcome.ready, seconds: Number(seconds.toFixed(3)) }, "reconciled");
    if (outcome.requeueAfterMs !== undefined) queue.addAfter(key, outcome.requeueAfterMs);
  };

  queue.start(options.concurrency ?? 4, reconcile);
  options.onStarted?.({
    triggerSources: (urls) => {
      const wanted = new Set(urls);
      let triggered = 0;
      for (const source of sources.values()) {
        if (!wanted.has(normaliseRepositoryUrl(source.spec.url))) continue;
        queue.add(keyOf(GIT_REPOSITORY_KIND, source));
        triggered++;
      }
      return triggered;
    },
  });
  const watch = <T extends KubeObject>(kind: string, resource: string, cache: Map<string, T>) =>
    watchUntil(client, { path: collection(resource), signal, ...(options.watchLabelSelector ? { labelSelector: options.watchLabelSelector } : {}) }, (objects, change) => {
      if (!change) {
        cache.clear();
        for (const object of objects.values()) {
          cache.set(keyOf(kind, object), object as T);
          queue.add(keyOf(kind, object));
        }
        return false;
      }
      const key = keyOf(kind, change.object);
      const previous = cache.get(key);
      if (change.type === "DELETED") {
        cache.delete(key);
        if (kind === APPLICATION_KIND) driftWatcher.untrack({ namespace: change.object.metadata.namespace ?? "", name: change.object.metadata.name ?? "" });
        syncs.forget(key);
        imageKinds.get(kind)?.deleted?.(change.object);
        return false;
      }
      remember(cache, key, change.object as T);
      if (needsReconcile(previous, change.object)) queue.add(key);
      return false;
    });
  try {
    await Promise.all([
      watch(GIT_REPOSITORY_KIND, GIT_REPOSITORY_RESOURCE, sources),
      watch(APPLICATION_KIND, APPLICATION_RESOURCE, applications),
      ...[...imageKinds.values()].map((handler) => watch(handler.kind, handler.resource, handler.cache)),
    ]);
  } finally {
    await queue.shutdown();
    driftWatcher.close();
    await artifacts.close();
  }
}
