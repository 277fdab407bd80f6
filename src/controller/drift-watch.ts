import { FIELD_MANAGER, ownerSelector, type Owner } from "../apply/labels.ts";
import type { KubeClient } from "../kube/client.ts";
import { resourcePath, type Discovery } from "../kube/discovery.ts";
import { watchUntil } from "../kube/watch-until.ts";
import { describeRef, refOf, type KubeObject } from "../model/object.ts";
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

/**
 * Watches everything one Application manages (one watch per resource type and namespace,
 * filtered by its owner labels) and reports changes others make: a deletion, or a write by
 * another field manager after `since`. fjord's own writes and controllers' status updates
 * are not drift.
 */
export class DriftWatch {
  private readonly stop = new AbortController();

  private constructor(private readonly paths: string[]) {}

  static async start(
    client: KubeClient,
    discovery: Discovery,
    owner: Owner,
    entries: readonly InventoryEntry[],
    since: () => string,
    onDrift: (event: DriftEvent) => void,
  ): Promise<DriftWatch> {
    const paths = new Set<string>();
    for (const entry of entries) {
      const mapping = await discovery.find(entry.group, entry.version, entry.kind);
      if (mapping) paths.add(resourcePath(mapping, entry.namespace || undefined));
    }
    const watch = new DriftWatch([...paths].sort());
    const tracked = new Set(entries.map((entry) => `${entry.namespace}/${entry.name}/${entry.kind}`));
    for (const path of watch.paths) {
      void watchUntil(client, { path, labelSelector: ownerSelector(owner), signal: watch.stop.signal }, (objects, change) => {
        if (!change) {
          // The (re)list: a change made while no watch was open (between two reconciles) shows here.
          for (const object of objects.values()) {
            if (!tracked.has(`${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}/${object.kind}`)) continue;
            const event = foreignChange(object, since());
            if (event) onDrift(event);
          }
          return false;
        }
        if (!tracked.has(`${change.object.metadata.namespace ?? ""}/${change.object.metadata.name ?? ""}/${change.object.kind}`)) return false;
        if (change.type === "DELETED") onDrift({ object: describeRef(refOf(change.object)), changedBy: "deleted by someone", at: new Date().toISOString() });
        else {
          const event = foreignChange(change.object, since());
          if (event) onDrift(event);
        }
        return false;
      }).catch(() => undefined);
    }
    return watch;
  }

  close(): void {
    this.stop.abort();
  }
}
