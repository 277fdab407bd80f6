import assert from "node:assert/strict";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { decodeInventory, deletionOrder, encodeInventory, inventoryId, staleEntries, type InventoryEntry } from "./inventory.ts";

const entry = (group: string, kind: string, namespace: string, name: string): InventoryEntry => ({ group, kind, namespace, name, version: "v1" });

test("stale entries are those the new inventory no longer has", () => {
  const web = entry("apps", "Deployment", "shop", "web");
  const db = entry("apps", "StatefulSet", "shop", "db");
  const ns = entry("", "Namespace", "", "shop");
  assert.deepEqual(staleEntries({ entries: [web, db, ns] }, { entries: [web, ns] }), [db]);
  assert.deepEqual(staleEntries({ entries: [web] }, { entries: [web] }), []);
});

test("deletion goes namespaced objects, cluster objects, namespaces, then CRDs", () => {
  const crd = entry("apiextensions.k8s.io", "CustomResourceDefinition", "", "widgets.example.com");
  const ns = entry("", "Namespace", "", "shop");
  const role = entry("rbac.authorization.k8s.io", "ClusterRole", "", "reader");
  const cm = entry("", "ConfigMap", "shop", "settings");
  const widget = entry("example.com", "Widget", "shop", "w");
  assert.deepEqual(deletionOrder([crd, ns, role, cm, widget]), [[cm, widget], [role], [ns], [crd]]);
});

test("the stored form round-trips, sorted, and stays small for thousands of objects", () => {
  const entries = Array.from({ length: 5000 }, (_, i) => ({ ...entry("", "ConfigMap", `ns-${i % 10}`, `config-${i}`) }));
  const encoded = encodeInventory({ entries: [...entries].reverse() });
  assert.ok(encoded.length < 1024 * 1024, `encoded inventory is ${encoded.length} bytes`);
  const decoded = decodeInventory(encoded);
  assert.equal(decoded.entries.length, 5000);
  assert.equal(decoded.entries[0]?.name, "config-0");
  assert.deepEqual(new Set(decoded.entries.map((e) => e.name)), new Set(entries.map((e) => e.name)));
});

test("ids use Flux's format", () => {
  assert.equal(inventoryId(entry("apps", "Deployment", "shop", "web")), "shop_web_apps_Deployment");
  assert.equal(inventoryId(entry("", "Namespace", "", "shop")), "_shop__Namespace");
});

test("a stored inventory that is a gzip bomb is refused without being expanded", () => {
  // 1 GiB of zeros compresses to about 1 MiB, what fits in a ConfigMap someone could edit.
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 }).toString("base64");
  const heap = process.memoryUsage().heapUsed;
  assert.throws(() => decodeInventory(bomb), RangeError);
  assert.ok(process.memoryUsage().heapUsed - heap < 32 * 1024 * 1024);
});
