import { FIELD_MANAGER, OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL, type Owner } from "../model/ownership.ts";
import type { KubeClient } from "../kube/client.ts";
import { resourcePath, type Discovery, type ResourceMapping } from "../kube/discovery.ts";
import { KubeApiError } from "../kube/errors.ts";
import { watchUntil } from "../kube/watch-until.ts";
import { describeRef, refOf, type KubeObject, type ObjectRef } from "../model/object.ts";
import { WATCH_RULES_LABEL } from "../api/types.ts";
import type { InventoryEntry } from "../inventory/inventory.ts";
import type { CachedObject, LiveObjectCache } from "../apply/live-cache.ts";
import { evaluateHealth } from "../health/evaluate.ts";
import type { HealthStatus } from "../health/status.ts";

interface ManagedFieldsEntry {
  manager?: string;
  subresource?: string;
  time?: string;
}

export interface DriftEvent {
  /** `Kind/namespace/name`, as people write it. */
  object: string;
  /**
   * Who changed it: the field manager that wrote last (`kubectl-edit`, `kubectl-scale`...), or
   * DELETED_BY_SOMEONE when gone; the person instead (`alice`, `deleted by alice`) when the
   * admission webhook saw the request (then `fieldManager` keeps the manager).
   */
  changedBy: string;
  fieldManager?: string;
  at: string;
}

/** `changedBy` of a deletion nobody is known for. */
export const DELETED_BY_SOMEONE = "deleted by someone";

/**
 * Who changed an object after fjord last applied it, from its managedFields: the newest
 * write that is neither fjord's nor a status update. Undefined when nobody else wrote since.
 */
export function foreignChange(object: KubeObject, since: string): DriftEvent | undefined {
  const entries = (object.metadata.managedFields as ManagedFieldsEntry[] | undefined) ?? [];
  const latest = entries
    .filter((entry) => entry.manager && entry.manager !== FIELD_MANAGER && entry.subresource !== "status" && (entry.time ?? "") > since)
    .sort((a, b) => (a.time ?? "").localeCompare(b.time ?? ""))
    .at(-1);
  return latest?.manager && latest.time ? { object: describeRef(refOf(object)), changedBy: latest.manager, at: latest.time } : undefined;
}

/** The writes of other managers, as a comparable set (status updates are controllers reporting, not drift). */
function foreignWrites(object: KubeObject): Map<string, ManagedFieldsEntry> {
  const entries = (object.metadata.managedFields as ManagedFieldsEntry[] | undefined) ?? [];
  return new Map(
    entries
      .filter((entry) => entry.manager && entry.manager !== FIELD_MANAGER && entry.subresource !== "status")
      .map((entry) => [`${entry.manager ?? ""}|${entry.subresource ?? ""}|${entry.time ?? ""}`, entry]),
  );
}

/**
 * A write by another manager that was not there in the previous version of the object. Some
 * writes carry no time (the API server leaves it out for updates through the scale
 * subresource, i.e. `kubectl scale`), so comparing with `since` alone would miss them.
 */
export function newForeignWrite(previous: KubeObject | undefined, next: KubeObject): DriftEvent | undefined {
  if (!previous) return undefined;
  const before = foreignWrites(previous);
  for (const [key, entry] of foreignWrites(next)) {
    if (!before.has(key) && entry.manager) return { object: describeRef(refOf(next)), changedBy: entry.manager, at: entry.time ?? new Date().toISOString() };
  }
  return undefined;
}

/** What the watcher keeps of an object too large to keep whole: enough to name it, find its owner and judge drift. */
export function slimForDrift(object: KubeObject): KubeObject {
  const { name, namespace, labels, managedFields, resourceVersion } = object.metadata;
  const fields = ((managedFields as ManagedFieldsEntry[] | undefined) ?? []).map(({ manager, subresource, time }) => ({ manager, subresource, time }));
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: {
      name,
      ...(namespace ? { namespace } : {}),
      ...(resourceVersion ? { resourceVersion } : {}),
      labels: { [OWNER_NAME_LABEL]: labels?.[OWNER_NAME_LABEL] ?? "", [OWNER_NAMESPACE_LABEL]: labels?.[OWNER_NAMESPACE_LABEL] ?? "" },
      managedFields: fields,
    },
  };
}

/**
 * The largest object (JSON characters) kept whole. A larger one (a big ConfigMap, a CRD) is
 * kept slim and read from the API server when a sync needs it, so the cache stays bounded per
 * object: at most this times the objects fjord manages, and usually a few KiB each.
 */
export const CACHED_OBJECT_LIMIT = 32 * 1024;

/** Objects kept slim (too large): the cache cannot vouch for them. */
const keptSlim = new WeakSet<KubeObject>();

/**
 * What the watcher keeps of each object: all of it, exactly as the API server returned it (the
 * engine decides from it that nothing changed, or compares it with a dry run's answer, and
 * judges health from its status). Past CACHED_OBJECT_LIMIT, only slimForDrift's part.
 */
export function keepForCache(object: KubeObject): KubeObject {
  if (JSON.stringify(object).length <= CACHED_OBJECT_LIMIT) return object;
  const slim = slimForDrift(object);
  keptSlim.add(slim);
  return slim;
}

/** True when the cache kept only part of the object (too large to keep whole). */
export function isKeptSlim(object: KubeObject): boolean {
  return keptSlim.has(object);
}

interface Tracked {
  mapping: ResourceMapping;
  /** By `namespace/name`. */
  refs: Map<string, ObjectRef>;
}

interface Registration {
  /** Tracked objects per cluster-wide collection path. */
  objects: Map<string, Tracked>;
  since: () => string;
}

const deletedEvent = (ref: ObjectRef): DriftEvent => ({ object: describeRef(ref), changedBy: DELETED_BY_SOMEONE, at: new Date().toISOString() });

/** An object some Application manages (is in its inventory and tracked), as the watches know it. */
export interface ManagedObject {
  owner: Owner;
  ref: ObjectRef;
  /** The live object as last served; undefined before the first list, or kept slim (too large). */
  live?: KubeObject;
}

interface CollectionWatch {
  mapping: ResourceMapping;
  stop: AbortController;
  /** The version before the latest event of each object, for newForeignWrite. */
  previous: Map<string, KubeObject>;
  /** The live view once listed; undefined until the first list arrives. */
  objects?: Map<string, KubeObject>;
  /** Settles when the first list arrived, the collection turned out unwatchable, or the watch stopped. */
  listed: Promise<void>;
  markListed: () => void;
  users: number;
  /** Set when the collection could not be listed (forbidden, not served): when, and why. */
  unwatched?: { at: number; why: UnwatchedKind["why"]; detail: string };
}

/** A managed kind the controller cannot watch; its objects are repaired at each periodic sync instead. */
export interface UnwatchedKind {
  group: string;
  kind: string;
  /** Plural resource name, as RBAC rules name it. */
  resource: string;
  /** `forbidden`: RBAC does not let the controller list and watch it cluster-wide. */
  why: "forbidden" | "failed";
  /** The API server's message for `failed` (never for `forbidden`, whose fix is known). */
  detail: string;
}


/** How long track() waits for a new collection's first list before answering anyway (the API server is slow or away). */
export const TRACK_LIST_WAIT_MS = 30_000;

/** How long a kind that could not be watched waits before the next attempt (one LIST per kind, not per Application). */
export const UNWATCHED_RETRY_MS = 5 * 60_000;

/**
 * What an Application's Event says about a kind it manages that the controller cannot watch:
 * that drift is then reverted at the interval, and how to change that.
 */
export function unwatchedMessage(unwatched: UnwatchedKind, interval?: string): string {
  const what = unwatched.group ? `${unwatched.resource}.${unwatched.group}` : unwatched.resource;
  const later = interval
    ? `changes made in the cluster to its ${what} are not watched, so they are reverted at the next sync (every ${interval}) instead of at once`
    : `changes made in the cluster to managed ${what} are not watched, so they are reverted at each Application's next periodic sync instead of at once`;
  if (unwatched.why === "failed") return `${later}: the watch failed (${unwatched.detail}); fjord tries again at a sync ${UNWATCHED_RETRY_MS / 60_000} minutes or more from now`;
  if (unwatched.group === "" && unwatched.resource === "secrets") {
    return `${later}: with least privilege the controller may not list Secrets outside its own namespace (by design; a cluster admin may grant list and watch on secrets through a ClusterRole labelled ${WATCH_RULES_LABEL}: "true")`;
  }
  return `${later}: the controller may not list and watch ${what}; to watch them, a cluster admin adds a ClusterRole labelled ${WATCH_RULES_LABEL}: "true" with the rule {apiGroups: ["${unwatched.group}"], resources: ["${unwatched.resource}"], verbs: ["get", "list", "watch"]}`;
}

export interface DriftWatcherOptions {
  /** Called for a change someone else made to an object an owner tracks. */
  onDrift: (owner: Owner, event: DriftEvent) => void;
  /** True while the owner's own sync runs: its prunes are not drift. */
  syncing: (owner: Owner) => boolean;
  /**
   * Called once per owner and kind when a kind it manages cannot be watched (and again only
   * after it could be watched and then could not). The owner's objects of that kind are
   * still repaired by its periodic sync.
   */
  onUnwatched?: (owner: Owner, unwatched: UnwatchedKind) => void;
  /**
   * Called when a managed object's health turns Failed, or recovers from Failed, between syncs
   * (a Deployment past its progress deadline): the owner's health is news before its next sync.
   */
  onHealthChange?: (owner: Owner, change: HealthChange) => void;
}

export interface HealthChange {
  object: string;
  from: HealthStatus;
  to: HealthStatus;
  message: string;
}

/** A change of health worth an early look: into Failed, or out of it. Progressing and back (a rollout, a scale) is not. */
export function healthChange(previous: KubeObject | undefined, next: KubeObject): HealthChange | undefined {
  if (!previous || isKeptSlim(previous) || isKeptSlim(next)) return undefined;
  const before = evaluateHealth(previous);
  const after = evaluateHealth(next);
  if (before.status === after.status || (before.status !== "Failed" && after.status !== "Failed")) return undefined;
  return { object: describeRef(refOf(next)), from: before.status, to: after.status, message: after.message };
}

const ownerKey = (owner: Owner) => `${owner.namespace}/${owner.name}`;
const objectKey = (object: KubeObject) => `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`;

/**
 * Whether this identity may list and watch a kind cluster-wide, asked of the authorizer
 * (SelfSubjectAccessReview, which every identity may make) rather than found out by a refused
 * LIST: a least-privilege controller then never even tries to list Secrets outside its
 * namespace. An unanswered question counts as yes (the watch then finds out).
 */
async function mayListAndWatch(client: KubeClient, mapping: ResourceMapping): Promise<boolean> {
  const ask = (verb: string) =>
    client
      .request<{ status?: { allowed?: boolean } }>("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
        body: { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: { group: mapping.group, version: mapping.version, resource: mapping.resource, verb } } },
      })
      .then(
        (review) => review.status?.allowed === true,
        () => true,
      );
  const [list, watch] = await Promise.all([ask("list"), ask("watch")]);
  return list && watch;
}

/**
 * Watches everything the controller manages, shared by all Applications: one cluster-wide
 * watch per resource type, filtered to objects carrying fjord's owner label, each event
 * routed to its owner by label. So 1,000 Applications over 4 kinds cost 4 watches, not 4,000,
 * and nothing is missed between two reconciles: the watches stay open. A deletion, or a
 * write by another field manager after the owner's last sync started, is drift.
 */
export class DriftWatcher implements LiveObjectCache {
  private readonly collections = new Map<string, CollectionWatch>();
  private readonly owners = new Map<string, Registration>();
  private readonly owner = new Map<string, Owner>();
  /** Per owner, the collection paths it has been told it cannot watch. */
  private readonly told = new Map<string, Set<string>>();
  /**
   * Per owner, objects deleted while its sync ran, by `path|namespace/name`: a prune if the
   * sync dropped them from its inventory, drift if it kept them (decided at the next track).
   */
  private readonly deletedWhileSyncing = new Map<string, Map<string, ObjectRef>>();

  constructor(
    private readonly client: KubeClient,
    private readonly discovery: Discovery,
    private readonly options: DriftWatcherOptions,
  ) {}

  /**
   * Replaces what `owner` tracks with `entries` (its inventory after a sync). Resolves once
   * every collection they need has been listed (or found unwatchable; at most
   * TRACK_LIST_WAIT_MS), so the next sync finds them in the cache, and after reporting what
   * changed while the sync ran: writes by others, and deletions of objects the sync kept.
   */
  async track(owner: Owner, entries: readonly InventoryEntry[], since: () => string): Promise<void> {
    const objects = new Map<string, Tracked>();
    for (const entry of entries) {
      const mapping = await this.discovery.find(entry.group, entry.version, entry.kind);
      if (!mapping || !mapping.verbs.includes("watch")) continue;
      const path = resourcePath(mapping);
      const tracked = objects.get(path) ?? { mapping, refs: new Map<string, ObjectRef>() };
      tracked.refs.set(`${entry.namespace}/${entry.name}`, { group: entry.group, kind: entry.kind, namespace: entry.namespace, name: entry.name });
      objects.set(path, tracked);
    }
    const key = ownerKey(owner);
    const previous = this.owners.get(key);
    // Collections listed already: checked below. A new one's first list checks this owner itself.
    const listedBefore = [...objects.keys()].filter((path) => this.collections.get(path)?.objects !== undefined);
    this.owners.set(key, { objects, since });
    this.owner.set(key, owner);
    for (const [path, tracked] of objects) if (!previous?.objects.has(path)) this.use(path, tracked.mapping);
    for (const path of previous?.objects.keys() ?? []) if (!objects.has(path)) this.release(path);
    for (const path of objects.keys()) this.retryOrTell(path, owner);
    await this.listedAll([...objects.keys()]);
    if (this.owners.get(key)?.objects !== objects) return; // tracked anew (or untracked) meanwhile
    this.checkNow(owner, new Map([...objects].filter(([path]) => listedBefore.includes(path))), since);
    this.reportDeletedWhileSyncing(owner, objects);
  }

  /** The cached object, for the apply engine (LiveObjectCache): unknown unless its collection is listed and watched. */
  lookup(mapping: ResourceMapping, namespace: string, name: string): CachedObject {
    const objects = this.collections.get(resourcePath(mapping))?.objects;
    if (!objects) return { kind: "unknown" };
    const object = objects.get(`${mapping.namespaced ? namespace : ""}/${name}`);
    if (!object) return { kind: "absent" };
    return isKeptSlim(object) ? { kind: "unknown" } : { kind: "present", object };
  }

  /**
   * Which Application manages the object at `group`/`resource` (any version), `namespace`/`name`:
   * only an object in an owner's tracked inventory counts, never one that merely carries the
   * labels. Answered from memory (the admission webhook asks on every request).
   */
  managedObject(group: string, resource: string, namespace: string, name: string): ManagedObject | undefined {
    for (const [path, collection] of this.collections) {
      if (collection.mapping.group !== group || collection.mapping.resource !== resource) continue;
      const key = `${collection.mapping.namespaced ? namespace : ""}/${name}`;
      const cached = collection.objects?.get(key);
      const live = cached && !isKeptSlim(cached) ? cached : undefined;
      // The labels name the owner at once; a scan of every owner covers labels changed since.
      const labelled = cached?.metadata.labels;
      const candidates = labelled ? [ownerKey({ name: labelled[OWNER_NAME_LABEL] ?? "", namespace: labelled[OWNER_NAMESPACE_LABEL] ?? "" }), ...this.owners.keys()] : this.owners.keys();
      for (const candidate of candidates) {
        const ref = this.owners.get(candidate)?.objects.get(path)?.refs.get(key);
        const owner = this.owner.get(candidate);
        if (ref && owner) return { owner, ref, ...(live ? { live } : {}) };
      }
    }
    return undefined;
  }

  private async listedAll(paths: readonly string[]): Promise<void> {
    const waits = paths.flatMap((path) => this.collections.get(path)?.listed ?? []);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, TRACK_LIST_WAIT_MS);
    });
    await Promise.race([Promise.all(waits), timeout]);
    clearTimeout(timer);
  }

  /** Deletions seen while the owner synced, of objects its new inventory still holds and that are still gone: drift. */
  private reportDeletedWhileSyncing(owner: Owner, objects: Map<string, Tracked>): void {
    const key = ownerKey(owner);
    const deleted = this.deletedWhileSyncing.get(key);
    this.deletedWhileSyncing.delete(key);
    for (const [id, ref] of deleted ?? []) {
      const [path = "", name = ""] = id.split("|");
      const cached = this.collections.get(path)?.objects;
      if (objects.get(path)?.refs.has(name) && cached && !cached.has(name)) this.options.onDrift(owner, deletedEvent(ref));
    }
  }

  private deletedDuringSync(owner: Owner, path: string, name: string, ref: ObjectRef): void {
    const deleted = this.deletedWhileSyncing.get(ownerKey(owner)) ?? new Map<string, ObjectRef>();
    deleted.set(`${path}|${name}`, ref);
    this.deletedWhileSyncing.set(ownerKey(owner), deleted);
  }

  untrack(owner: Owner): void {
    const key = ownerKey(owner);
    const registration = this.owners.get(key);
    if (!registration) return;
    this.owners.delete(key);
    this.owner.delete(key);
    this.told.delete(key);
    this.deletedWhileSyncing.delete(key);
    for (const path of registration.objects.keys()) this.release(path);
  }

  close(): void {
    for (const collection of this.collections.values()) {
      collection.stop.abort();
      collection.markListed();
    }
    this.collections.clear();
    this.owners.clear();
    this.told.clear();
    this.deletedWhileSyncing.clear();
  }

  /** Collections being watched (for tests and metrics). */
  get watchCount(): number {
    return this.collections.size;
  }

  /**
   * Catches writes made while the owner synced, from the cache. (An object missing from the
   * cache is usually one the watch has not seen yet, not a deletion; deletions arrive as events.)
   */
  private checkNow(owner: Owner, objects: Map<string, Tracked>, since: () => string): void {
    for (const [path, tracked] of objects) {
      const cached = this.collections.get(path)?.objects;
      if (!cached) continue;
      for (const key of tracked.refs.keys()) {
        const object = cached.get(key);
        const event = object ? foreignChange(object, since()) : undefined;
        if (event) this.options.onDrift(owner, event);
      }
    }
  }

  private use(path: string, mapping: ResourceMapping): void {
    const existing = this.collections.get(path);
    if (existing) {
      existing.users++;
      return;
    }
    let markListed = () => {};
    const listed = new Promise<void>((resolve) => {
      markListed = resolve;
    });
    const collection: CollectionWatch = { mapping, stop: new AbortController(), previous: new Map(), users: 1, listed, markListed };
    this.collections.set(path, collection);
    this.start(path, collection);
  }

  /** A kind that could not be watched is tried again after a while; until then the owner is told (once). */
  private retryOrTell(path: string, owner: Owner): void {
    const collection = this.collections.get(path);
    if (!collection?.unwatched) return;
    if (Date.now() - collection.unwatched.at >= UNWATCHED_RETRY_MS) {
      collection.unwatched = undefined;
      this.start(path, collection);
      return;
    }
    this.tell(path, collection, [owner]);
  }

  private tell(path: string, collection: CollectionWatch, owners: Owner[]): void {
    const unwatched = collection.unwatched;
    if (!unwatched || !this.options.onUnwatched) return;
    const { group, kind, resource } = collection.mapping;
    for (const owner of owners) {
      const told = this.told.get(ownerKey(owner)) ?? new Set<string>();
      if (told.has(path)) continue;
      told.add(path);
      this.told.set(ownerKey(owner), told);
      this.options.onUnwatched(owner, { group, kind, resource, why: unwatched.why, detail: unwatched.detail });
    }
  }

  /**
   * Lists and watches one collection for as long as anyone tracks it. When the controller may
   * not list it (a Secret under least privilege, a CRD no rule grants) or it fails for good,
   * the failure is remembered rather than retried: the owners are told once, their periodic
   * syncs repair the objects meanwhile, and the next track() after UNWATCHED_RETRY_MS tries again.
   */
  private start(path: string, collection: CollectionWatch): void {
    void mayListAndWatch(this.client, collection.mapping).then((allowed) => {
      if (collection.stop.signal.aborted || this.collections.get(path) !== collection) return;
      if (allowed) this.watch(path, collection);
      else this.unwatchable(path, collection, "forbidden", "");
    });
  }

  private unwatchable(path: string, collection: CollectionWatch, why: UnwatchedKind["why"], detail: string): void {
    collection.unwatched = { at: Date.now(), why, detail };
    collection.objects = undefined;
    collection.markListed();
    const owners = [...this.owners].filter(([, registration]) => registration.objects.has(path)).flatMap(([key]) => this.owner.get(key) ?? []);
    this.tell(path, collection, owners);
  }

  private watch(path: string, collection: CollectionWatch): void {
    void watchUntil(this.client, { path, labelSelector: OWNER_NAME_LABEL, signal: collection.stop.signal, transform: keepForCache }, (objects, change) => {
      const firstList = collection.objects === undefined;
      // Watching again after a failure: a later failure is news again.
      if (firstList) for (const told of this.told.values()) told.delete(path);
      collection.objects = objects;
      collection.markListed();
      if (!change) {
        collection.previous = new Map(objects);
        // A (re)list: changes made while the watch was down show here, deletions as absences.
        for (const [key, registration] of this.owners) {
          const tracked = registration.objects.get(path);
          const owner = this.owner.get(key);
          if (!tracked || !owner) continue;
          for (const [name, ref] of tracked.refs) {
            const object = objects.get(name);
            if (!object) {
              if (firstList) continue;
              if (this.options.syncing(owner)) this.deletedDuringSync(owner, path, name, ref);
              else this.options.onDrift(owner, deletedEvent(ref));
              continue;
            }
            const event = foreignChange(object, registration.since());
            if (event) this.options.onDrift(owner, event);
          }
        }
        return false;
      }
      const key = objectKey(change.object);
      const previous = collection.previous.get(key);
      if (change.type === "DELETED") collection.previous.delete(key);
      else collection.previous.set(key, change.object);
      this.route(path, change.type, change.object, previous);
      return false;
    }).catch((error: unknown) => {
      if (collection.stop.signal.aborted || this.collections.get(path) !== collection) return;
      const forbidden = error instanceof KubeApiError && error.statusCode === 403;
      this.unwatchable(path, collection, forbidden ? "forbidden" : "failed", forbidden ? "" : error instanceof Error ? error.message : String(error));
    });
  }

  private release(path: string): void {
    const collection = this.collections.get(path);
    if (!collection || --collection.users > 0) return;
    collection.stop.abort();
    collection.markListed();
    this.collections.delete(path);
  }

  private route(path: string, type: "ADDED" | "MODIFIED" | "DELETED", object: KubeObject, previous: KubeObject | undefined): void {
    const labels = object.metadata.labels;
    const owner = { name: labels?.[OWNER_NAME_LABEL] ?? "", namespace: labels?.[OWNER_NAMESPACE_LABEL] ?? "" };
    const registration = this.owners.get(ownerKey(owner));
    const ref = registration?.objects.get(path)?.refs.get(objectKey(object));
    if (!registration || !ref) return;
    if (type === "DELETED") {
      if (this.options.syncing(owner)) this.deletedDuringSync(owner, path, objectKey(object), ref);
      else this.options.onDrift(owner, deletedEvent(ref));
      return;
    }
    // Created again (by the sync itself, most likely): no longer a deletion to report.
    this.deletedWhileSyncing.get(ownerKey(owner))?.delete(`${path}|${objectKey(object)}`);
    const event = foreignChange(object, registration.since()) ?? newForeignWrite(previous, object);
    if (event) this.options.onDrift(owner, event);
    else if (this.options.onHealthChange && !this.options.syncing(owner)) {
      const change = healthChange(previous, object);
      if (change) this.options.onHealthChange(owner, change);
    }
  }
}
