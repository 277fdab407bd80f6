import { refKey, type ObjectRef } from "../model/object.ts";
import { decodeCompressedJson, encodeCompressedJson } from "../util/compressed-json.ts";

/** One object fjord applied: its identity and the API version it was applied as. */
export interface InventoryEntry extends ObjectRef {
  version: string;
}

export interface Inventory {
  entries: InventoryEntry[];
}

export function emptyInventory(): Inventory {
  return { entries: [] };
}

/** Entries sorted by identity, so stored inventories are stable and diffable. */
export function sortedEntries(entries: readonly InventoryEntry[]): InventoryEntry[] {
  return [...entries].sort((a, b) => refKey(a).localeCompare(refKey(b)));
}

export function indexByRef(inventory: Inventory): Map<string, InventoryEntry> {
  return new Map(inventory.entries.map((entry) => [refKey(entry), entry]));
}

/** Objects in `previous` that `next` no longer has: the candidates for pruning. */
export function staleEntries(previous: Inventory, next: Inventory): InventoryEntry[] {
  const kept = new Set(next.entries.map(refKey));
  return previous.entries.filter((entry) => !kept.has(refKey(entry)));
}

const deletePriority = (entry: ObjectRef): number => {
  if (entry.group === "apiextensions.k8s.io" && entry.kind === "CustomResourceDefinition") return 3;
  if (entry.group === "" && entry.kind === "Namespace") return 2;
  return entry.namespace ? 0 : 1;
};

/**
 * Deletion order: namespaced objects, then cluster-scoped ones, then Namespaces, and
 * CustomResourceDefinitions last, so nothing loses its namespace or its type while it still exists.
 */
export function deletionOrder<T extends ObjectRef>(entries: readonly T[]): T[][] {
  const stages = new Map<number, T[]>();
  for (const entry of entries) {
    const priority = deletePriority(entry);
    stages.set(priority, [...(stages.get(priority) ?? []), entry]);
  }
  return [...stages.entries()].sort(([a], [b]) => a - b).map(([, stage]) => stage);
}

/** Flux's inventory id format `<namespace>_<name>_<group>_<kind>`, for people who know it. */
export function inventoryId(entry: ObjectRef): string {
  return `${entry.namespace}_${entry.name}_${entry.group}_${entry.kind}`;
}

/** Compact storage (gzip + base64): thousands of entries fit well inside a ConfigMap's 1 MiB. */
export function encodeInventory(inventory: Inventory): string {
  return encodeCompressedJson({ entries: sortedEntries(inventory.entries) });
}

export function decodeInventory(encoded: string): Inventory {
  // Held in a ConfigMap anyone with edit rights in its namespace can write: decoding is bounded.
  const parsed = decodeCompressedJson(encoded, "the stored inventory") as Partial<Inventory>;
  if (!Array.isArray(parsed.entries)) throw new Error("stored inventory has no entries list");
  return { entries: parsed.entries };
}
