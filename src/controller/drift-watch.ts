import { FIELD_MANAGER, OWNER_NAME_LABEL, OWNER_NAMESPACE_LABEL, type Owner } from "../apply/labels.ts";
import type { KubeClient } from "../kube/client.ts";
import { resourcePath, type Discovery, type ResourceMapping } from "../kube/discovery.ts";
import { watchUntil } from "../kube/watch-until.ts";
import { describeRef, refOf, type KubeObject, type ObjectRef } from "../model/object.ts";
import type { InventoryEntry } from "../inventory/inventory.ts";

interface ManagedFieldsEntry {
  manager?: string;
  subresource?: string;
  time?: string;
}

export interface DriftEvent {
  /** `Kind/namespace/name`, as people write it. */
  object: string;
  /** The field manager that wrote last (`kubectl-edit`, `kubectl-scale`...), or `deleted by someone` when gone. */
  changedBy: string;
  at: string;
}

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

/** What the watcher keeps of each object: enough to name it, find its owner and judge drift. */
export function slimForDrift(object: KubeObject): KubeObject {
  const { name, namespace, labels, managedFields } = object.metadata;
  const fields = ((managedFields as ManagedFieldsEntry[] | undefined) ?? []).map(({ manager, subresource, time }) => ({ manager, subresource, time }));
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: {
      name,
      ...(namespace ? { namespace } : {}),
      labels: { [OWNER_NAME_LABEL]: labels?.[OWNER_NAME_LABEL] ?? "", [OWNER_NAMESPACE_LABEL]: labels?.[OWNER_NAMESPACE_LABEL] ?? "" },
      managedFields: fields,
    },
  };
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

const deletedEvent = (ref: ObjectRef): DriftEvent => ({ object: describeRef(ref), changedBy: "deleted by someone", at: new Date().toISOString() });

interface CollectionWatch {
  stop: AbortController;
  /** The version before the latest event of each object, for newForeignWrite. */
  previous: Map<string, KubeObject>;
  /** The live view once listed; undefined until the first list arrives. */
  objects?: Map<string, KubeObject>;
  users: number;
}

export interface DriftWatcherOptions {
  /** Called for a change someone else made to an object an owner tracks. */
  onDrift: (owner: Owner, event: DriftEvent) => void;
  /** True while the owner's own sync runs: its prunes are not drift. */
  syncing: (owner: Owner) => boolean;
}

const ownerKey = (owner: Owner) => `${owner.namespace}/${owner.name}`;
const objectKey = (object: KubeObject) => `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`;

/**
 * Watches everything the controller manages, shared by all Applications: one cluster-wide
 * watch per resource type, filtered to objects carrying fjord's owner label, each event
 * routed to its owner by label. So 1,000 Applications over 4 kinds cost 4 watches, not 4,000,
 * and nothing is missed between two reconciles: the watches stay open. A deletion, or a
 * write by another field manager after the owner's last sync started, is drift.
 */
export class DriftWatcher {
  private readonly collections = new Map<string, CollectionWatch>();
  private readonly owners = new Map<string, Registration>();
  private readonly owner = new Map<string, Owner>();

  constructor(
    private readonly client: KubeClient,
    private readonly discovery: Discovery,
    private readonly options: DriftWatcherOptions,
  ) {}

  /** Replaces what `owner` tracks with `entries` (its inventory after a sync). */
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
    this.owners.set(key, { objects, since });
    this.owner.set(key, owner);
    for (const path of objects.keys()) if (!previous?.objects.has(path)) this.use(path);
    for (const path of previous?.objects.keys() ?? []) if (!objects.has(path)) this.release(path);
    this.checkNow(owner, objects, since);
  }

  untrack(owner: Owner): void {
    const key = ownerKey(owner);
    const registration = this.owners.get(key);
    if (!registration) return;
    this.owners.delete(key);
    this.owner.delete(key);
    for (const path of registration.objects.keys()) this.release(path);
  }

  close(): void {
    for (const collection of this.collections.values()) collection.stop.abort();
    this.collections.clear();
    this.owners.clear();
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

  private use(path: string): void {
    const existing = this.collections.get(path);
    if (existing) {
      existing.users++;
      return;
    }
    const collection: CollectionWatch = { stop: new AbortController(), previous: new Map(), users: 1 };
    this.collections.set(path, collection);
    void watchUntil(this.client, { path, labelSelector: OWNER_NAME_LABEL, signal: collection.stop.signal, transform: slimForDrift }, (objects, change) => {
      const firstList = collection.objects === undefined;
      collection.objects = objects;
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
              if (!firstList && !this.options.syncing(owner)) this.options.onDrift(owner, deletedEvent(ref));
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
    }).catch(() => undefined);
  }

  private release(path: string): void {
    const collection = this.collections.get(path);
    if (!collection || --collection.users > 0) return;
    collection.stop.abort();
    this.collections.delete(path);
  }

  private route(path: string, type: "ADDED" | "MODIFIED" | "DELETED", object: KubeObject, previous: KubeObject | undefined): void {
    const labels = object.metadata.labels;
    const owner = { name: labels?.[OWNER_NAME_LABEL] ?? "", namespace: labels?.[OWNER_NAMESPACE_LABEL] ?? "" };
    const registration = this.owners.get(ownerKey(owner));
    const ref = registration?.objects.get(path)?.refs.get(objectKey(object));
    if (!registration || !ref) return;
    if (type === "DELETED") {
      if (!this.options.syncing(owner)) this.options.onDrift(owner, deletedEvent(ref));
      return;
    }
    const event = foreignChange(object, registration.since()) ?? newForeignWrite(previous, object);
    if (event) this.options.onDrift(owner, event);
  }
}
