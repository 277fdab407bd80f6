import type { KubeClient } from "../kube/client.ts";
import type { Discovery, ResourceMapping } from "../kube/discovery.ts";
import { isNotFound } from "../kube/errors.ts";
import { deletionOrder, type InventoryEntry } from "../inventory/inventory.ts";
import { mapLimit } from "../util/map-limit.ts";
import type { ChangeSetEntry } from "./change-set.ts";
import type { ObjectProblem } from "./errors.ts";
import { PRUNE_ANNOTATION, isOwnedBy, type Owner } from "../model/ownership.ts";
import { deleteObject, getObject } from "./server-side-apply.ts";

export interface PruneResult {
  changes: ChangeSetEntry[];
  /** Entries whose delete failed: they stay in the inventory so a later sync retries them. */
  remaining: InventoryEntry[];
  failures: ObjectProblem[];
}

export interface PruneOptions {
  /** Ask the server to delete with dryRun=All: report, delete nothing. */
  dryRun?: boolean;
  concurrency?: number;
}

async function mappingFor(discovery: Discovery, entry: InventoryEntry): Promise<ResourceMapping | undefined> {
  const exact = await discovery.find(entry.group, entry.version, entry.kind);
  if (exact) return exact;
  // The version it was applied as may be gone; any served version reaches the same object.
  return discovery.all().find((mapping) => mapping.group === entry.group && mapping.kind === entry.kind);
}

/**
 * Deletes objects that left Git, in dependency order (namespaced objects, cluster objects,
 * Namespaces, CRDs). Never deletes an object without this owner's labels (fjord did not
 * create it) or one annotated `fjord.dev/prune: disabled`.
 */
export async function prune(client: KubeClient, discovery: Discovery, stale: InventoryEntry[], owner: Owner, options: PruneOptions = {}): Promise<PruneResult> {
  const result: PruneResult = { changes: [], remaining: [], failures: [] };
  for (const stage of deletionOrder(stale)) {
    await mapLimit(stage, options.concurrency ?? 16, async (entry) => {
      const change = (action: ChangeSetEntry["action"], note?: string): ChangeSetEntry => ({ ref: entry, version: entry.version, action, ...(note ? { note } : {}) });
      const mapping = await mappingFor(discovery, entry);
      if (!mapping) return; // its kind no longer exists, so neither does the object
      try {
        const live = await getObject(client, mapping, entry.namespace || undefined, entry.name);
        if (!isOwnedBy(live.metadata.labels, owner)) {
          result.changes.push(change("skipped", "not pruned: it does not carry this sync's owner labels, so fjord did not create it"));
          return;
        }
        if (live.metadata.annotations?.[PRUNE_ANNOTATION] === "disabled") {
          result.changes.push(change("skipped", `not pruned: annotated ${PRUNE_ANNOTATION}: disabled`));
          return;
        }
        await deleteObject(client, mapping, entry.namespace || undefined, entry.name, options.dryRun);
        result.changes.push(change("deleted"));
      } catch (error) {
        if (isNotFound(error)) return;
        result.remaining.push(entry);
        result.failures.push({ ref: entry, message: `delete failed: ${error instanceof Error ? error.message : String(error)}` });
      }
    });
  }
  return result;
}
