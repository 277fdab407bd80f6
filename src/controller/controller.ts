import { installCustomResourceDefinitions } from "./crd-install.ts";
import { fjordResourcePath } from "../api/paths.ts";
import { APPLICATION_KIND, APPLICATION_RESOURCE, GIT_REPOSITORY_KIND, GIT_REPOSITORY_RESOURCE, type Application, type GitRepository } from "../api/types.ts";
import type { KubeClient } from "../kube/client.ts";
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
import { reconcileGitRepository } from "./git-repository-reconciler.ts";
import { imageAutomationReconcilers } from "./image-automation-controller.ts";
import { reportDrift } from "./drift-report.ts";
import { SyncTracker } from "./sync-tracker.ts";
import { Tenancy } from "./tenancy.ts";
import { ReconcileManager, remember } from "./runtime/manager.ts";
import { objectKey } from "./runtime/reconciler.ts";
import { metricsObserver } from "./metrics-observer.ts";
import { auditTrail } from "./application-audit.ts";
import { applicationEvents } from "./application-events.ts";
import { Notifier, type NotifierOptions } from "./notify/notifier.ts";
import { DEFAULT_HISTORY_BOUNDS, type HistoryBounds } from "../history/entry.ts";
import { HistoryRecorder } from "../history/recorder.ts";
import type { ReceiverRoute } from "../api/receiver-types.ts";
import { ReceiverTable } from "./receiver-reconciler.ts";
import { AdmissionReviewer, type AdmissionSettings } from "./admission-reviewer.ts";
import type { AdmissionRequest } from "../admission/review.ts";
import { splitCredentials } from "../git/redact.ts";

export { needsReconcile } from "./runtime/reconciler.ts";

export interface ControllerOptions {
  client: KubeClient;
  logger: Logger;
  metrics?: ControllerMetrics;
  /** Reconciles of one kind running at once. */
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
  /** Delivery tuning of notifications (tests shorten the backoff). */
  notify?: Pick<NotifierOptions, "failureIntervalMs" | "queueLimit" | "attempts" | "backoffMs" | "maxBackoffMs" | "persistNamespace" | "persistFlushMs">;
  /** The cluster's name in commit status contexts (`--cluster-name`), `fjord/<cluster>/<namespace>/<name>`; default "default". */
  clusterName?: string;
  /** How much history each Application keeps (`--history-limit`, `--history-max-age`); default 100 entries, 90 days. */
  history?: HistoryBounds;
  /** The admission webhook's mode and exemptions (`fjord controller --admission`); undefined: off. */
  admission?: AdmissionSettings;
  /** Handed a way to reach the running loop, e.g. for webhooks. */
  onStarted?: (handle: ControllerHandle) => void;
}

export interface ControllerHandle {
  /** Queues every GitRepository whose URL normalises to one of `urls` (a push webhook); returns how many. */
  triggerSources(urls: readonly string[]): number;
  /** The Receiver objects to serve now (read per webhook request). */
  receiverRoutes(): Iterable<ReceiverRoute>;
  /** Answers the admission webhook (only with `admission` set): allowed or not, and why not. */
  reviewAdmission(request: AdmissionRequest): { allowed: boolean; message?: string };
}

/**
 * The reconcile loop: one ReconcileManager (runtime/manager.ts) runs every kind (GitRepository,
 * Application, the image kinds) with one queue per kind and one requeue policy. What ties the
 * kinds together lives here: a source whose artifact moves queues the Applications that use it
 * (at once, not at their next interval), a Ready Application queues its dependents, and drift
 * seen by the shared watches queues its Application. Runs until `signal` aborts.
 */
export async function runController(options: ControllerOptions, signal: AbortSignal): Promise<void> {
  const { client, logger } = options;
  const tenancy = options.tenancy ?? new Tenancy();
  const warning = tenancy.startupWarning();
  if (warning) logger.warn(warning);
  if (options.installCrds !== false) await installCustomResourceDefinitions(client);
  const manager = new ReconcileManager({
    client,
    logger,
    concurrency: options.concurrency ?? 4,
    ...(options.watchLabelSelector ? { labelSelector: options.watchLabelSelector } : {}),
    onDepthChange: (depth) => options.metrics?.setQueueDepth(depth),
  });
  if (options.metrics) manager.observe(metricsObserver(options.metrics));
  const applications = manager.kind<Application>(APPLICATION_KIND);
  const sources = manager.kind<GitRepository>(GIT_REPOSITORY_KIND);
  const discovery = new Discovery(client);
  const syncs = new SyncTracker();
  // Coalesces a burst of events (kubectl apply touching several objects) into one re-sync.
  const DRIFT_DEBOUNCE_MS = 250;
  const events = new EventRecorder(client, logger);
  manager.observe(applicationEvents(events));
  // Provider and Alert are kinds of the manager; the notifier sees every report after the Events are written.
  const notifier = new Notifier({ client, logger, ...(options.metrics ? { registry: options.metrics.registry } : {}), caches: (kind) => manager.kind(kind).cache, ...(options.clusterName ? { clusterName: options.clusterName } : {}), ...options.notify });
  for (const reconciler of notifier.reconcilers()) manager.register(reconciler);
  manager.observe(notifier.observer());
  // Before any reconcile reports: what the last controller left undelivered goes out first.
  await notifier.restore();
  // Receiver objects: the webhook route reads their table through the handle below.
  const receivers = new ReceiverTable({ client, tenancy, caches: (kind) => manager.kind(kind).cache, enqueue: (kind, namespace, name) => manager.kind(kind).enqueue(namespace, name) });
  manager.register(receivers.reconciler());
  const artifacts = new ArtifactStore();
  const history = new HistoryRecorder(options.history ?? DEFAULT_HISTORY_BOUNDS, { logger, onRecorded: auditTrail(logger, events) });

  // Image automation (ImageRepository, ImagePolicy, ImageUpdateAutomation): reconcilers with their own follow-ups, see image-automation-controller.ts.
  for (const reconciler of imageAutomationReconcilers({
    client,
    events,
    enqueue: (kind, namespace, name) => manager.kind(kind).enqueue(namespace, name),
    caches: (kind) => manager.kind(kind).cache,
    ...(options.watchLabelSelector ? { labelSelector: options.watchLabelSelector } : {}),
    tenancy,
  })) {
    manager.register(reconciler);
  }

  /** Kinds whose lack of a watch was logged already: once per kind, not once per Application. */
  const unwatchedLogged = new Set<string>();
  // Set below, once the drift watches exist: it answers from them.
  let admission: AdmissionReviewer | undefined;
  const onDrift = (key: string, app: Application, seen: DriftEvent) => {
    // The person, when the admission webhook saw the change (the field manager stays beside it).
    const event = admission?.attribute(seen) ?? seen;
    const selfHeal = app.spec.selfHeal !== false;
    if (!selfHeal && !syncs.firstReport(key, event)) return;
    logger.info({ application: key, object: event.object, changedBy: event.changedBy, ...(event.fieldManager ? { fieldManager: event.fieldManager } : {}) }, selfHeal ? "drift detected; reverting" : "drift detected (selfHeal off: not reverted)");
    if (!selfHeal) {
      reportDrift(client, events, app, event).catch((error: unknown) => logger.warn({ application: key, error: error instanceof Error ? error.message : String(error) }, "could not report drift"));
      return;
    }
    syncs.addPending(key, event);
    applications.enqueueAfter(app.metadata.namespace, app.metadata.name, DRIFT_DEBOUNCE_MS);
  };
  /** Drift of an owner's object, seen by a watch or by the admission webhook. */
  const onOwnerDrift = (owner: { namespace: string; name: string }, event: DriftEvent) => {
    const key = objectKey(APPLICATION_KIND, owner.namespace, owner.name);
    const app = applications.cache.get(key);
    // Objects of a `fjord sync` run, or of an Application deleted meanwhile, are not ours to heal.
    if (app && !app.spec.suspend) onDrift(key, app, event);
  };
  const driftWatcher = new DriftWatcher(client, discovery, {
    onDrift: onOwnerDrift,
    syncing: (owner) => syncs.isSyncing(objectKey(APPLICATION_KIND, owner.namespace, owner.name)),
    // A managed object failing (or recovering) between syncs is checked now, not at the next
    // interval: the reconcile judges health from the cache, so the Ready condition, Events and
    // notifications of an Application that waits for health say "degraded" or "recovered"
    // within moments. Without spec.wait, Ready does not speak of health (as in Flux).
    onHealthChange: (owner, change) => {
      const app = applications.cache.get(objectKey(APPLICATION_KIND, owner.namespace, owner.name));
      if (!app || app.spec.suspend || !app.spec.wait) return;
      logger.info({ application: `${owner.namespace}/${owner.name}`, object: change.object, from: change.from, to: change.to }, "managed object health changed; reconciling");
      applications.enqueue(owner.namespace, owner.name);
    },
    onUnwatched: (owner, unwatched) => {
      const app = applications.cache.get(objectKey(APPLICATION_KIND, owner.namespace, owner.name));
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

  if (options.admission) {
    admission = new AdmissionReviewer({
      settings: options.admission,
      events,
      logger,
      managedObject: (group, resource, namespace, name) => driftWatcher.managedObject(group, resource, namespace, name),
      application: (namespace, name) => applications.cache.get(objectKey(APPLICATION_KIND, namespace, name)),
      repository: (app) => {
        const ref = app.spec.sourceRef;
        const url = sources.cache.get(objectKey(GIT_REPOSITORY_KIND, ref.namespace ?? app.metadata.namespace, ref.name))?.spec.url;
        return url ? splitCredentials(url).url : `GitRepository ${ref.namespace ?? app.metadata.namespace}/${ref.name}`;
      },
      applyUser: (app) => tenancy.applyIdentity(app.metadata.namespace, app.spec.serviceAccountName).user,
      onDisguisedChange: onOwnerDrift,
    });
  }

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

  manager.register<GitRepository>({
    kind: GIT_REPOSITORY_KIND,
    watchPaths: [fjordResourcePath(GIT_REPOSITORY_RESOURCE)],
    objectPath: (namespace, name) => fjordResourcePath(GIT_REPOSITORY_RESOURCE, namespace, name),
    async reconcile(repository, keySignal) {
      const { namespace, name } = repository.metadata;
      const key = objectKey(GIT_REPOSITORY_KIND, namespace, name);
      const before = artifactIdentity(repository.status?.artifact);
      const outcome = await reconcileGitRepository(client, repository, {
        events,
        signal: keySignal,
        ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
        ...(options.metrics ? { onFetch: (result: "success" | "failure", seconds: number) => options.metrics?.recordGitFetch(result, seconds) } : {}),
      });
      // The Applications queued below read their source from this cache: it must hold the new artifact already.
      if (outcome.written) remember(sources.cache, key, outcome.written);
      // A new commit, or new ignore rules for the same one: either way the Applications' trees change.
      const after = artifactIdentity(outcome.written?.status?.artifact ?? repository.status?.artifact);
      if (after && after !== before) {
        for (const app of applications.cache.values()) {
          if (app.spec.sourceRef.name !== name || (app.spec.sourceRef.namespace ?? app.metadata.namespace) !== namespace) continue;
          syncs.supersede(objectKey(APPLICATION_KIND, app.metadata.namespace, app.metadata.name), new Error(`superseded by revision ${outcome.report.revision ?? after}`));
          applications.enqueue(app.metadata.namespace, app.metadata.name);
        }
      }
      return outcome;
    },
  });

  manager.register<Application>({
    kind: APPLICATION_KIND,
    watchPaths: [fjordResourcePath(APPLICATION_RESOURCE)],
    objectPath: (namespace, name) => fjordResourcePath(APPLICATION_RESOURCE, namespace, name),
    // An Application starts from the watch cache unless it may miss the controller's own last write.
    cacheIsCurrent: (key, cached) => syncs.isCurrent(key, cached),
    // A stalled Application tries again when its source has a new artifact.
    stallInputs: (app) => {
      const ref = app.spec.sourceRef;
      return artifactIdentity(sources.cache.get(objectKey(GIT_REPOSITORY_KIND, ref.namespace ?? app.metadata.namespace, ref.name))?.status?.artifact) ?? "";
    },
    deleted: (app) => {
      driftWatcher.untrack({ namespace: app.metadata.namespace, name: app.metadata.name });
      syncs.forget(objectKey(APPLICATION_KIND, app.metadata.namespace, app.metadata.name));
      history.forget(app.metadata.namespace, app.metadata.name);
    },
    async reconcile(app, keySignal) {
      const { namespace, name } = app.metadata;
      const key = objectKey(APPLICATION_KIND, namespace, name);
      const sync = syncs.start(key, keySignal);
      const { drift } = sync;
      try {
        const outcome = await reconcileApplication(client, app, {
          signal: sync.signal,
          onWrite: (resourceVersion) => syncs.recordWrite(key, resourceVersion),
          onProgressing: (object, revision) => notifier.progressing(object, revision),
          artifacts,
          discovery,
          liveCache: driftWatcher,
          sources: (sourceNamespace, sourceName) => sources.cache.get(objectKey(GIT_REPOSITORY_KIND, sourceNamespace, sourceName)),
          tenancy,
          ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
          ...(drift ? { drift: drift.map(({ object: changed, changedBy, fieldManager, at }) => ({ object: changed, changedBy, ...(fieldManager ? { fieldManager } : {}), at })) } : {}),
        });
        if (outcome.history?.length && app.metadata.uid) {
          // Written as the identity the Application's objects are applied as: the controller
          // itself holds no right to write ConfigMaps in tenants' namespaces.
          const writer = tenancy.applyIdentity(namespace, app.spec.serviceAccountName).user;
          await history.record({ namespace, name, uid: app.metadata.uid }, outcome.history, writer ? client.impersonating(writer) : client, !app.status?.lastAttemptedRevision);
        }
        // Still "syncing" until the watches know the new inventory, so this sync's own prunes are not drift.
        await watchForDrift(key, app, outcome.inventory);
        // Applications waiting on this one go as soon as it is ready, not at their retry time.
        if (outcome.report.ready) {
          for (const other of applications.cache.values()) {
            if (other.spec.dependsOn?.some((dependency) => dependency.name === name && (dependency.namespace ?? other.metadata.namespace) === namespace)) applications.enqueue(other.metadata.namespace, other.metadata.name);
          }
        }
        for (const change of outcome.changes ?? []) options.metrics?.recordApply(change.action);
        return outcome;
      } finally {
        sync.end();
      }
    },
  });

  options.onStarted?.({
    triggerSources: (urls) => {
      const wanted = new Set(urls);
      let triggered = 0;
      for (const source of sources.cache.values()) {
        if (!wanted.has(normaliseRepositoryUrl(source.spec.url))) continue;
        sources.enqueue(source.metadata.namespace, source.metadata.name);
        triggered++;
      }
      return triggered;
    },
    receiverRoutes: () => receivers.served(),
    reviewAdmission: (request) => admission?.review(request) ?? { allowed: true },
  });
  try {
    await manager.run(signal);
  } finally {
    driftWatcher.close();
    await notifier.close();
    await artifacts.close();
  }
}
