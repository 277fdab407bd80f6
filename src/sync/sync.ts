import { ApplyEngine, type ApplyResult, type ChangeSetEntry, type ObjectState, type PlanRequest } from "../apply/engine.ts";
import { SyncError } from "../apply/errors.ts";
import type { LiveObjectCache } from "../apply/live-cache.ts";
import type { Owner } from "../model/ownership.ts";
import type { KubeClient } from "../kube/client.ts";
import { Discovery } from "../kube/discovery.ts";
import { configMapInventoryStore, type InventoryStore } from "../inventory/configmap-store.ts";
import { encodeInventory, staleEntries, type Inventory } from "../inventory/inventory.ts";
import type { RenderedObject } from "../model/object.ts";
import { emptyRenderRefusal } from "./empty-render.ts";

export interface SyncRequest {
  client: KubeClient;
  discovery?: Discovery;
  objects: readonly RenderedObject[];
  owner: Owner;
  defaultNamespace: string;
  /** Where the inventory lives; default: a ConfigMap beside the owner. */
  inventoryStore?: InventoryStore;
  /** The commit being applied, recorded with the inventory. */
  revision?: string;
  prune?: boolean;
  wait?: boolean;
  timeoutMs?: number;
  dryRun?: boolean;
  force?: boolean;
  /**
   * Sync a render of no objects even though the inventory holds some (with prune, that deletes
   * them all). Default false: such a sync fails with failure "empty" and changes nothing.
   */
  allowEmpty?: boolean;
  /** The rendered path, named when an empty render is refused. */
  path?: string;
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  /** Live objects already watched (the controller's drift watches): read instead of listing, and health judged from them. */
  cache?: LiveObjectCache;
}

export interface SyncResult {
  changes: ChangeSetEntry[];
  states: ObjectState[];
  inventory: Inventory;
  previousRevision?: string;
}

/**
 * One sync of rendered objects into a cluster: apply (validated first), record the
 * inventory, prune what left Git, wait for health. The inventory is written even when some
 * objects failed to apply, so nothing fjord created is ever forgotten; pruning only happens
 * after a fully successful apply, and a render of no objects is refused unless allowEmpty.
 */
export async function syncObjects(request: SyncRequest): Promise<SyncResult> {
  const progress = request.onProgress ?? (() => {});
  const discovery = request.discovery ?? new Discovery(request.client);
  const store = request.inventoryStore ?? configMapInventoryStore(request.client, request.owner);
  const stored = await store.load();
  const refusal = emptyRenderRefusal({
    objects: request.objects.length,
    inventoryEntries: stored.inventory.entries.length,
    allowEmpty: request.allowEmpty === true,
    ...(request.path !== undefined ? { path: request.path } : {}),
  });
  if (refusal) throw refusal;
  const engine = new ApplyEngine(request.client, discovery);
  const planRequest: PlanRequest = {
    objects: request.objects,
    owner: request.owner,
    defaultNamespace: request.defaultNamespace,
    previous: stored.inventory,
    ...(request.force !== undefined ? { force: request.force } : {}),
    ...(request.concurrency !== undefined ? { concurrency: request.concurrency } : {}),
    onProgress: progress,
    ...(request.cache ? { cache: request.cache } : {}),
  };
  const applied: ApplyResult = request.dryRun
    ? await engine.diff(planRequest)
    : await engine.applyAll({ ...planRequest, reserve: (planned: Inventory) => store.reserve(planned, stored.revision) });
  let inventory = applied.inventory;
  const changes = [...applied.changes];

  if (applied.failures.length > 0) {
    if (!request.dryRun) await store.save(inventory, request.revision);
    if (applied.failedPhase === "validation") {
      throw new SyncError(
        "validation",
        `${applied.failures.length} object(s) failed server-side validation; only prerequisites (CRDs, Namespaces, ClusterRoles) were applied, nothing was pruned`,
        applied.failures,
      );
    }
    throw new SyncError("apply", `${applied.failures.length} object(s) failed to apply; nothing was pruned`, applied.failures);
  }

  const stale = staleEntries(stored.inventory, inventory);
  if (request.prune && stale.length > 0) {
    progress(`pruning ${stale.length} object(s) no longer in Git`);
    const pruned = await engine.prune(stale, request.owner, { ...(request.dryRun ? { dryRun: true } : {}) });
    changes.push(...pruned.changes);
    inventory = { entries: [...inventory.entries, ...pruned.remaining] };
    if (pruned.failures.length > 0) {
      if (!request.dryRun) await store.save(inventory, request.revision);
      throw new SyncError("prune", `${pruned.failures.length} object(s) could not be pruned; they stay in the inventory`, pruned.failures);
    }
  } else if (!request.prune) {
    // Without prune, objects that left Git are still fjord's: keep them in the inventory so a later --prune finds them.
    inventory = { entries: [...inventory.entries, ...stale] };
  }
  // A sync that changed nothing writes nothing, not even the inventory.
  const inventoryChanged = encodeInventory(inventory) !== encodeInventory(stored.inventory) || (request.revision ?? "") !== (stored.revision ?? "");
  if (!request.dryRun && inventoryChanged) await store.save(inventory, request.revision);

  if (request.wait && !request.dryRun) {
    progress("waiting for objects to become ready");
    await engine.wait(applied.states, {
      timeoutMs: request.timeoutMs ?? 5 * 60_000,
      owner: request.owner,
      ...(request.signal ? { signal: request.signal } : {}),
      onProgress: progress,
      ...(request.cache ? { cache: request.cache } : {}),
    });
  }
  return { changes, states: applied.states, inventory, ...(stored.revision ? { previousRevision: stored.revision } : {}) };
}
