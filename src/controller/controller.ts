import { installCustomResourceDefinitions } from "../api/install.ts";
import { fjordResourcePath } from "../api/paths.ts";
import { APPLICATION_KIND, APPLICATION_RESOURCE, GIT_REPOSITORY_KIND, GIT_REPOSITORY_RESOURCE, type Application, type GitRepository } from "../api/types.ts";
import type { KubeClient } from "../kube/client.ts";
import { isNotFound } from "../kube/errors.ts";
import { watchUntil } from "../kube/watch-until.ts";
import type { KubeObject } from "../model/object.ts";
import type { ControllerMetrics } from "../server/metrics.ts";
import { normaliseRepositoryUrl } from "../server/repository-url.ts";
import type { Logger } from "../util/logger.ts";
import { Discovery } from "../kube/discovery.ts";
import { reconcileApplication } from "./application-reconciler.ts";
import { parseStatusEntry } from "./application-status-inventory.ts";
import { DriftWatch, type DriftEvent } from "./drift-watch.ts";
import { reconcileGitRepository, type ReconcileOutcome } from "./git-repository-reconciler.ts";
import { WorkQueue } from "./queue.ts";

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
  /** Handed a way to reach the running loop, e.g. for webhooks. */
  onStarted?: (handle: ControllerHandle) => void;
}

export interface ControllerHandle {
  /** Queues every GitRepository whose URL normalises to one of `urls` (a push webhook); returns how many. */
  triggerSources(urls: readonly string[]): number;
}

/**
 * Spec changes (generation), deletion, and annotations (a manual "reconcile now") matter;
 * status writes (the controller's own) do not, or every reconcile would trigger the next.
 */
export function needsReconcile(previous: KubeObject | undefined, next: KubeObject): boolean {
  if (!previous) return true;
  return (
    previous.metadata.generation !== next.metadata.generation ||
    previous.metadata.deletionTimestamp !== next.metadata.deletionTimestamp ||
    JSON.stringify(previous.metadata.annotations ?? {}) !== JSON.stringify(next.metadata.annotations ?? {}) ||
    JSON.stringify(previous.metadata.finalizers ?? []) !== JSON.stringify(next.metadata.finalizers ?? [])
  );
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
  if (options.installCrds !== false) await installCustomResourceDefinitions(client);
  const queue = new WorkQueue({
    onDepthChange: (depth) => options.metrics?.setQueueDepth(depth),
    onError: (key, error) => logger.warn({ key, error: error instanceof Error ? error.message : String(error) }, "reconcile failed; retrying with backoff"),
  });
  const applications = new Map<string, Application>();
  const sources = new Map<string, GitRepository>();
  const discovery = new Discovery(client);
  const driftWatches = new Map<string, DriftWatch>();
  const pendingDrift = new Map<string, DriftEvent[]>();
  /** When each Application's latest sync started: writes by others before it are not drift. */
  const syncStartedAt = new Map<string, string>();
  // Coalesces a burst of events (kubectl apply touching several objects) into one re-sync.
  const DRIFT_DEBOUNCE_MS = 250;

  /** Re-arms the watches on everything an Application manages after each reconcile. */
  const watchForDrift = async (key: string) => {
    const [, namespace = "", name = ""] = key.split("/");
    const app = await client.request<Application>("GET", objectPath(APPLICATION_RESOURCE, namespace, name)).catch(() => undefined);
    driftWatches.get(key)?.close();
    driftWatches.delete(key);
    if (!app || app.metadata.deletionTimestamp || app.spec.suspend) return;
    const entries = (app.status?.inventory?.entries ?? []).map(parseStatusEntry);
    const watch = await DriftWatch.start(client, discovery, { name, namespace }, entries, () => syncStartedAt.get(key) ?? "", (event) => {
      logger.info({ application: key, object: event.object, changedBy: event.changedBy }, app.spec.selfHeal === false ? "drift detected (selfHeal off: not reverted)" : "drift detected; reverting");
      if (app.spec.selfHeal === false) return;
      pendingDrift.set(key, [...(pendingDrift.get(key) ?? []), event]);
      queue.addAfter(key, DRIFT_DEBOUNCE_MS);
    });
    if (signal.aborted) watch.close();
    else driftWatches.set(key, watch);
  };

  const reconcile = async (key: string, keySignal: AbortSignal) => {
    const [kind = "", namespace = "", name = ""] = key.split("/");
    const started = process.hrtime.bigint();
    const resource = kind === GIT_REPOSITORY_KIND ? GIT_REPOSITORY_RESOURCE : APPLICATION_RESOURCE;
    const object = await client.request<KubeObject>("GET", objectPath(resource, namespace, name)).catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
    if (!object) return;
    let outcome: ReconcileOutcome;
    if (kind === GIT_REPOSITORY_KIND) {
      const before = (object as GitRepository).status?.artifact?.revision;
      outcome = await reconcileGitRepository(client, object as GitRepository, options.cacheDir ? { cacheDir: options.cacheDir } : {});
      options.metrics?.recordGitFetch(outcome.ready ? "success" : "failure", Number(process.hrtime.bigint() - started) / 1e9);
      const after = (await client.request<GitRepository>("GET", objectPath(resource, namespace, name)).catch(() => undefined))?.status?.artifact?.revision;
      if (after && after !== before) {
        for (const app of applications.values()) {
          if (app.spec.sourceRef.name === name && (app.spec.sourceRef.namespace ?? app.metadata.namespace) === namespace) queue.add(keyOf(APPLICATION_KIND, app));
        }
      }
    } else {
      syncStartedAt.set(key, new Date().toISOString());
      const drift = pendingDrift.get(key);
      pendingDrift.delete(key);
      outcome = await reconcileApplication(client, object as Application, {
        signal: keySignal,
        ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
        ...(drift ? { drift: drift.map(({ object: changed, changedBy, at }) => ({ object: changed, changedBy, at })) } : {}),
      });
      for (let reverted = 0; reverted < (drift?.length ?? 0); reverted++) options.metrics?.recordDriftRevert({ kind, namespace, name });
      for (const change of outcome.changes ?? []) options.metrics?.recordApply(change.action);
      await watchForDrift(key);
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
    watchUntil(client, { path: collection(resource), signal }, (objects, change) => {
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
        driftWatches.get(key)?.close();
        driftWatches.delete(key);
        syncStartedAt.delete(key);
        return false;
      }
      cache.set(key, change.object as T);
      if (needsReconcile(previous, change.object)) queue.add(key);
      return false;
    });
  try {
    await Promise.all([watch(GIT_REPOSITORY_KIND, GIT_REPOSITORY_RESOURCE, sources), watch(APPLICATION_KIND, APPLICATION_RESOURCE, applications)]);
  } finally {
    await queue.shutdown();
    for (const watch of driftWatches.values()) watch.close();
  }
}
