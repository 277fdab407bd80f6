import type { InventoryEntry as StatusInventoryEntry } from "../api/types.ts";
import type { InventoryStore, StoredInventory } from "../inventory/configmap-store.ts";
import { inventoryId, sortedEntries, type Inventory, type InventoryEntry } from "../inventory/inventory.ts";

/** Flux's status form `{ id: "<ns>_<name>_<group>_<kind>", v: "<version>" }` to an inventory entry. */
export function parseStatusEntry(entry: StatusInventoryEntry): InventoryEntry {
  const [namespace = "", name = "", group = "", kind = ""] = entry.id.split("_");
  return { namespace, name, group, kind, version: entry.v };
}

export function toStatusEntries(inventory: Inventory): StatusInventoryEntry[] {
  return sortedEntries(inventory.entries).map((entry) => ({ id: inventoryId(entry), v: entry.version }));
}

/**
 * The controller keeps an Application's inventory in its status: loaded from the object it
 * reconciles, and saved into memory so the reconcile's one final status write carries it.
 * Only a reservation (objects about to be created) is written at once, through `persist`.
 */
export function statusInventoryStore(
  entries: readonly StatusInventoryEntry[] | undefined,
  revision: string | undefined,
  persist: (entries: StatusInventoryEntry[]) => Promise<void>,
): InventoryStore & { current(): StoredInventory } {
  let stored: StoredInventory = { inventory: { entries: (entries ?? []).map(parseStatusEntry) }, ...(revision ? { revision } : {}) };
  return {
    load: () => Promise.resolve(stored),
    save: (inventory, nextRevision) => {
      stored = { inventory, ...(nextRevision ? { revision: nextRevision } : {}) };
      return Promise.resolve();
    },
    // Kept in memory too: should the sync then fail, its final status write must not drop it.
    reserve: async (inventory, reservedRevision) => {
      await persist(toStatusEntries(inventory));
      stored = { inventory, ...(reservedRevision ? { revision: reservedRevision } : {}) };
      return true;
    },
    current: () => stored,
  };
}
