import type { KubeClient } from "../kube/client.ts";
import { isNotFound } from "../kube/errors.ts";
import { FIELD_MANAGER, type Owner } from "../model/ownership.ts";
import { decodeInventory, emptyInventory, encodeInventory, type Inventory } from "./inventory.ts";

const DATA_KEY = "inventory.json.gz";

export function inventoryConfigMapName(owner: Owner): string {
  return `fjord-inventory-${owner.name}`;
}

interface ConfigMap {
  metadata?: { annotations?: Record<string, string> };
  binaryData?: Record<string, string>;
}

export interface StoredInventory {
  inventory: Inventory;
  revision?: string;
}

/** Where a sync keeps what it applied: a ConfigMap for the CLI, an Application's status for the controller. */
export interface InventoryStore {
  load(): Promise<StoredInventory>;
  save(inventory: Inventory, revision: string | undefined): Promise<void>;
  /**
   * Records, before anything is written, what a sync is about to apply (see ApplyRequest.reserve);
   * false when it cannot be recorded yet.
   */
  reserve(inventory: Inventory, revision: string | undefined): Promise<boolean>;
}

export function configMapInventoryStore(client: KubeClient, owner: Owner): InventoryStore {
  return {
    load: () => loadInventory(client, owner),
    save: (inventory, revision) => saveInventory(client, owner, inventory, revision),
    // The owner's namespace may be one this sync creates: then the ConfigMap waits for it.
    reserve: (inventory, revision) =>
      saveInventory(client, owner, inventory, revision).then(
        () => true,
        (error: unknown) => {
          if (isNotFound(error)) return false;
          throw error;
        },
      ),
  };
}

/**
 * The inventory of a sync run from the CLI, kept in a ConfigMap beside it, so the next run
 * knows what to prune. (The controller keeps it in its Application's status instead.)
 */
export async function loadInventory(client: KubeClient, owner: Owner): Promise<StoredInventory> {
  try {
    const configMap = await client.request<ConfigMap>("GET", `/api/v1/namespaces/${encodeURIComponent(owner.namespace)}/configmaps/${inventoryConfigMapName(owner)}`);
    const encoded = configMap.binaryData?.[DATA_KEY];
    const revision = configMap.metadata?.annotations?.["fjord.dev/revision"];
    return { inventory: encoded ? decodeInventory(encoded) : emptyInventory(), ...(revision ? { revision } : {}) };
  } catch (error) {
    if (isNotFound(error)) return { inventory: emptyInventory() };
    throw error;
  }
}

export async function saveInventory(client: KubeClient, owner: Owner, inventory: Inventory, revision: string | undefined): Promise<void> {
  const name = inventoryConfigMapName(owner);
  await client.request("PATCH", `/api/v1/namespaces/${encodeURIComponent(owner.namespace)}/configmaps/${name}`, {
    query: { fieldManager: FIELD_MANAGER, force: true },
    contentType: "application/apply-patch+yaml",
    body: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name,
        namespace: owner.namespace,
        labels: { "app.kubernetes.io/managed-by": "fjord", "fjord.dev/inventory": owner.name },
        annotations: { "fjord.dev/revision": revision ?? "", "fjord.dev/entries": String(inventory.entries.length) },
      },
      binaryData: { [DATA_KEY]: encodeInventory(inventory) },
    },
  });
}
