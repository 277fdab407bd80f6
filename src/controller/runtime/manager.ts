import { setMaxListeners } from "node:events";
import type { KubeClient } from "../../kube/client.ts";
import { isNotFound } from "../../kube/errors.ts";
import { watchUntil } from "../../kube/watch-until.ts";
import type { KubeObject } from "../../model/object.ts";
import type { Logger } from "../../util/logger.ts";
import { WorkQueue } from "../queue.ts";
import { needsReconcile, objectInputs, objectKey, type Reconciler } from "./reconciler.ts";
import { describeError, reportOf, type ReconcileObserver, type ReconcileReport } from "./report.ts";
import { requeueDelay } from "./requeue-policy.ts";

/** A watch's own abort listener, its backoff sleep and its re-list request. */
const LISTENERS_PER_WATCH = 3;

export interface ManagerOptions {
  client: KubeClient;
  logger: Logger;
  /** Reconciles of one kind running at once (each kind has its own queue). */
  concurrency?: number;
  /** Only objects with these labels are watched and reconciled, for every kind. */
  labelSelector?: string;
  /** Source of jitter, [0, 1); tests pin it. */
  random?: () => number;
  /** The summed depth of every kind's queue changed (a metrics gauge). */
  onDepthChange?: (depth: number) => void;
}

/** One kind as the rest of the controller sees it: its watch cache and a way to queue its objects. */
export interface KindHandle<T extends KubeObject> {
  readonly kind: string;
  /** The watched objects by key (`<kind>/<namespace>/<name>`); newer versions win. */
  readonly cache: Map<string, T>;
  enqueue(namespace: string, name: string): void;
  enqueueAfter(namespace: string, name: string, ms: number): void;
}

interface KindState {
  handle: KindHandle<KubeObject>;
  queue: WorkQueue;
  reconciler?: Reconciler<KubeObject>;
}

/** Caches an object unless the cache already holds a newer version (a GET can overtake the watch). */
export function remember<T extends KubeObject>(cache: Map<string, T>, key: string, object: T): void {
  const held = Number(cache.get(key)?.metadata.resourceVersion ?? 0);
  const next = Number(object.metadata.resourceVersion ?? 0);
  if (!(held > next)) cache.set(key, object);
}

/**
 * The one reconcile skeleton: for every registered kind, a list+watch (with the label
 * selector), a watch cache, a work queue, and one requeue policy (requeue-policy.ts). A
 * reconcile's report goes to every observer. A stalled object is not reconciled again until
 * its generation, deletion, reconcile request or (per kind) source changes; anything else that
 * queues it (an interval, drift, a dependency) is skipped without a request.
 */
export class ReconcileManager {
  private readonly kinds = new Map<string, KindState>();
  private readonly observers: ReconcileObserver[] = [];
  /** Failures in a row per key, behind the backoff. */
  private readonly failures = new Map<string, number>();
  /** The inputs a stalled key stalled on. */
  private readonly stalled = new Map<string, string>();
  /**
   * The manager's own next reconcile per key (interval or retry), one timer each so a new
   * outcome replaces the old schedule: a success must cancel the backoff retry of an earlier
   * failure. Triggers from elsewhere (drift, a dependency, a new artifact) use the queue directly
   * and are never cancelled by this.
   */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Keys being reconciled right now. */
  private readonly running = new Set<string>();
  private readonly random: () => number;
  private started = false;

  constructor(private readonly options: ManagerOptions) {
    this.random = options.random ?? Math.random;
  }

  /** The handle of `kind`, created on first use so reconcilers can reach each other's caches before they are registered. */
  kind<T extends KubeObject>(kind: string): KindHandle<T> {
    return this.state(kind).handle as unknown as KindHandle<T>;
  }

  register<T extends KubeObject>(reconciler: Reconciler<T>): KindHandle<T> {
    const state = this.state(reconciler.kind);
    if (state.reconciler) throw new Error(`a reconciler for ${reconciler.kind} is registered already`);
    state.reconciler = reconciler;
    return state.handle as unknown as KindHandle<T>;
  }

  observe(observer: ReconcileObserver): void {
    this.observers.push(observer);
  }

  /** Whether `key` is stalled and waits for new input. */
  isStalled(key: string): boolean {
    return this.stalled.has(key);
  }

  /** Watches and reconciles every registered kind until `signal` aborts, then waits for running reconciles to end. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.started) throw new Error("the manager is running already");
    this.started = true;
    const kinds = [...this.kinds.values()].filter((state): state is KindState & { reconciler: Reconciler<KubeObject> } => state.reconciler !== undefined);
    for (const state of kinds) state.queue.start(this.options.concurrency ?? 4, (key, queueSignal) => this.process(state, key, queueSignal));
    // Every watch listens on this one signal, and while the API server is away each also waits
    // and re-lists on it (up to three listeners a watch): with a dozen kinds that passes Node's
    // leak warning at 10 listeners without any leak.
    const watches = kinds.reduce((count, state) => count + state.reconciler.watchPaths.length, 0);
    setMaxListeners(Math.max(10, watches * LISTENERS_PER_WATCH + 10), signal);
    try {
      await Promise.all(kinds.flatMap((state) => state.reconciler.watchPaths.map((path) => this.watch(state, path, signal))));
    } finally {
      for (const timer of this.timers.values()) clearTimeout(timer);
      this.timers.clear();
      await Promise.all(kinds.map((state) => state.queue.shutdown()));
    }
  }

  /** Schedules the next reconcile of `key` after `ms`, replacing the one scheduled before; undefined: none. */
  private schedule(queue: WorkQueue, key: string, ms: number | undefined): void {
    const previous = this.timers.get(key);
    if (previous) clearTimeout(previous);
    this.timers.delete(key);
    if (ms === undefined || queue.shuttingDown) return;
    // setTimeout holds at most 2^31-1 ms (24.8 days); a longer interval is looked at then.
    const timer = setTimeout(() => {
      this.timers.delete(key);
      // A reconcile of the key running now makes this schedule stale: it sets the next one when it ends.
      if (!this.running.has(key)) queue.add(key);
    }, Math.min(ms, 2 ** 31 - 1));
    // A pending requeue alone must not keep a process alive; the watches do while running.
    timer.unref();
    this.timers.set(key, timer);
  }

  private state(kind: string): KindState {
    let state = this.kinds.get(kind);
    if (state) return state;
    const queue = new WorkQueue({ onDepthChange: () => this.depthChanged() });
    const cache = new Map<string, KubeObject>();
    state = {
      queue,
      handle: {
        kind,
        cache,
        enqueue: (namespace, name) => queue.add(objectKey(kind, namespace, name)),
        enqueueAfter: (namespace, name, ms) => queue.addAfter(objectKey(kind, namespace, name), ms),
      },
    };
    this.kinds.set(kind, state);
    return state;
  }

  private depthChanged(): void {
    let depth = 0;
    for (const state of this.kinds.values()) depth += state.queue.depth;
    this.options.onDepthChange?.(depth);
  }

  private async watch(state: KindState & { reconciler: Reconciler<KubeObject> }, path: string, signal: AbortSignal): Promise<void> {
    const { reconciler, handle, queue } = state;
    const { cache, kind } = handle;
    const needs = reconciler.needsReconcile?.bind(reconciler) ?? needsReconcile;
    // Which keys this path's list holds, so a re-list drops only its own (several paths may feed one kind).
    let listed = new Set<string>();
    while (!signal.aborted) {
      try {
        await watchUntil(this.options.client, { path, signal, ...(this.options.labelSelector ? { labelSelector: this.options.labelSelector } : {}) }, (objects, change) => {
          if (!change) {
            for (const key of listed) cache.delete(key);
            listed = new Set();
            for (const object of objects.values()) {
              const key = objectKey(kind, object.metadata.namespace ?? "", object.metadata.name ?? "");
              listed.add(key);
              cache.set(key, object);
              queue.add(key);
            }
            return false;
          }
          const key = objectKey(kind, change.object.metadata.namespace ?? "", change.object.metadata.name ?? "");
          const previous = cache.get(key);
          if (change.type === "DELETED") {
            cache.delete(key);
            listed.delete(key);
            this.failures.delete(key);
            this.stalled.delete(key);
            this.schedule(queue, key, undefined);
            reconciler.deleted?.(change.object);
            return false;
          }
          listed.add(key);
          remember(cache, key, change.object);
          if (needs(previous, change.object)) queue.add(key);
          return false;
        });
      } catch (error) {
        if (signal.aborted) break;
        this.options.logger.error({ path, error: describeError(error) }, "watching failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, 2_000).unref());
      }
    }
  }

  private async read(state: KindState & { reconciler: Reconciler<KubeObject> }, key: string, namespace: string, name: string): Promise<KubeObject | undefined> {
    const cached = state.handle.cache.get(key);
    if (cached && state.reconciler.cacheIsCurrent?.(key, cached)) return cached;
    const object = await this.options.client.request<KubeObject>("GET", state.reconciler.objectPath(namespace, name)).catch((error: unknown) => {
      if (isNotFound(error)) return undefined;
      throw error;
    });
    if (object) remember(state.handle.cache, key, object);
    return object;
  }

  private async process(state: KindState & { reconciler: Reconciler<KubeObject> }, key: string, signal: AbortSignal): Promise<void> {
    this.running.add(key);
    try {
      await this.reconcileKey(state, key, signal);
    } finally {
      this.running.delete(key);
    }
  }

  private async reconcileKey(state: KindState & { reconciler: Reconciler<KubeObject> }, key: string, signal: AbortSignal): Promise<void> {
    const { reconciler, queue } = state;
    const [, namespace = "", name = ""] = key.split("/");
    const started = process.hrtime.bigint();
    let object: KubeObject | undefined;
    try {
      object = await this.read(state, key, namespace, name);
    } catch (error) {
      if (signal.aborted) return;
      this.options.logger.warn({ key, error: describeError(error) }, "could not read the object; retrying with backoff");
      this.requeueFailure(queue, key, undefined, undefined);
      return;
    }
    if (!object) {
      this.schedule(queue, key, undefined);
      return;
    }
    const inputs = `${objectInputs(object)}${reconciler.stallInputs?.(object) ?? ""}`;
    if (this.stalled.get(key) === inputs) return;
    let report: ReconcileReport;
    let intervalMs: number | undefined;
    let retryMaxMs: number | undefined;
    try {
      ({ report, intervalMs, retryMaxMs } = await reconciler.reconcile(object, signal));
    } catch (error) {
      // Stopping is not a failure; the next controller picks the object up.
      if (signal.aborted) return;
      const cause = error instanceof Error ? error : new Error(String(error));
      const { uid } = object.metadata;
      report = reportOf({ object: { kind: reconciler.kind, namespace, name, ...(uid ? { uid } : {}) }, result: "failed", reason: "ReconciliationFailed", message: describeError(cause), ready: false, previousReady: false, error: cause });
    }
    report.seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (report.result === "stalled") this.stalled.set(key, inputs);
    else this.stalled.delete(key);
    const level = report.result === "failed" || report.result === "stalled" ? "warn" : "info";
    this.options.logger[level]({ key, result: report.result, reason: report.reason, seconds: Number(report.seconds.toFixed(3)), ...(report.error ? { error: describeError(report.error) } : {}) }, "reconciled");
    for (const observer of this.observers) {
      try {
        observer(report);
      } catch (error) {
        this.options.logger.warn({ key, error: describeError(error) }, "a reconcile observer failed");
      }
    }
    if (report.result === "failed") {
      this.requeueFailure(queue, key, intervalMs, retryMaxMs);
      return;
    }
    this.failures.delete(key);
    this.schedule(queue, key, requeueDelay({ result: report.result, failures: 0, ...(intervalMs !== undefined ? { intervalMs } : {}) }, this.random));
  }

  private requeueFailure(queue: WorkQueue, key: string, intervalMs: number | undefined, retryMaxMs: number | undefined): void {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    this.schedule(queue, key, requeueDelay({ result: "failed", failures, ...(intervalMs !== undefined ? { intervalMs } : {}), ...(retryMaxMs !== undefined ? { retryMaxMs } : {}) }, this.random));
  }
}
