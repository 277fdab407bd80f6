import assert from "node:assert/strict";
import { test } from "node:test";
import type { InventoryEntry as StatusInventoryEntry } from "../api/types.ts";
import { statusInventoryStore } from "./application-status-inventory.ts";

test("a reservation is written to status at once; a save waits for the reconcile's final status write", async () => {
  const persisted: StatusInventoryEntry[][] = [];
  const store = statusInventoryStore([{ id: "shop_web_apps_Deployment", v: "v1" }], "main@sha1:aaa", (entries) => {
    persisted.push(entries);
    return Promise.resolve();
  });
  const planned = { entries: [{ group: "apps", kind: "Deployment", namespace: "shop", name: "web", version: "v1" }, { group: "", kind: "ConfigMap", namespace: "shop", name: "settings", version: "v1" }] };
  assert.equal(await store.reserve(planned, "main@sha1:aaa"), true);
  assert.deepEqual(persisted, [[{ id: "shop_settings__ConfigMap", v: "v1" }, { id: "shop_web_apps_Deployment", v: "v1" }]]);
  assert.deepEqual(store.current(), { inventory: planned, revision: "main@sha1:aaa" }, "a failed sync's status write keeps the reservation");
  await store.save({ entries: planned.entries.slice(0, 1) }, "main@sha1:bbb");
  assert.equal(persisted.length, 1, "save is in memory only");
  assert.deepEqual(store.current(), { inventory: { entries: planned.entries.slice(0, 1) }, revision: "main@sha1:bbb" });
});
