import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../model/object.ts";
import { CACHED_OBJECT_LIMIT, foreignChange, healthChange, isKeptSlim, keepForCache, newForeignWrite, unwatchedMessage } from "./drift-watch.ts";

const configMap = (managedFields: unknown[]): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: "shop", managedFields } });

test("a write by another manager after the last sync is drift, named by its manager", () => {
  const object = configMap([
    { manager: "fjord", operation: "Apply", time: "2026-11-22T10:00:00Z" },
    { manager: "kubectl-edit", operation: "Update", time: "2026-11-22T10:02:00Z" },
  ]);
  assert.deepEqual(foreignChange(object, "2026-11-22T10:00:00.500Z"), { object: "ConfigMap/shop/settings", changedBy: "kubectl-edit", at: "2026-11-22T10:02:00Z" });
});

test("fjord's own writes, status updates and writes before the sync are not drift", () => {
  const object = configMap([
    { manager: "fjord", operation: "Apply", time: "2026-11-22T10:05:00Z" },
    { manager: "kube-controller-manager", operation: "Update", subresource: "status", time: "2026-11-22T10:06:00Z" },
    { manager: "kubectl-edit", operation: "Update", time: "2026-11-22T09:00:00Z" },
  ]);
  assert.equal(foreignChange(object, "2026-11-22T10:04:00Z"), undefined);
});

test("kubectl scale is drift although the API server records no time for scale-subresource writes", () => {
  const before = configMap([{ manager: "fjord", operation: "Apply", time: "2026-11-22T10:00:00Z" }]);
  const after = configMap([
    { manager: "fjord", operation: "Apply", time: "2026-11-22T10:00:00Z" },
    { manager: "kubectl-scale", operation: "Update", subresource: "scale" },
  ]);
  assert.equal(foreignChange(after, "2026-11-22T10:00:00.500Z"), undefined, "the time-based check alone misses it");
  assert.equal(newForeignWrite(before, after)?.changedBy, "kubectl-scale");
  assert.equal(newForeignWrite(after, after), undefined, "an unchanged set of writers is not new drift");
});

test("a kind the controller may not watch is named with the interval it falls back to and the rule that would fix it", () => {
  const secrets = unwatchedMessage({ group: "", kind: "Secret", resource: "secrets", why: "forbidden", detail: "" }, "10m");
  assert.match(secrets, /changes made in the cluster to its secrets are not watched, so they are reverted at the next sync \(every 10m\)/);
  assert.match(secrets, /may not list Secrets outside its own namespace/);
  const widgets = unwatchedMessage({ group: "example.com", kind: "Widget", resource: "widgets", why: "forbidden", detail: "" }, "5m");
  assert.match(widgets, /ClusterRole labelled fjord\.dev\/aggregate-to-controller: "true" with the rule \{apiGroups: \["example\.com"\], resources: \["widgets"\], verbs: \["get", "list", "watch"\]\}/);
  assert.match(unwatchedMessage({ group: "example.com", kind: "Widget", resource: "widgets", why: "failed", detail: "the server could not find the requested resource" }), /the watch failed \(the server could not find the requested resource\); fjord tries again at a sync 5 minutes or more from now/);
});

test("the cache keeps an object exactly as the API server returned it, so a dry run's answer can be compared with it", () => {
  const object: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "settings",
      namespace: "shop",
      resourceVersion: "42",
      labels: { "fjord.dev/name": "app", "fjord.dev/namespace": "apps" },
      managedFields: [
        { manager: "fjord", operation: "Apply", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: { "f:data": { "f:mode": {} } }, time: "2026-11-22T10:00:00Z" },
        { manager: "kubectl-edit", operation: "Update", apiVersion: "v1", fieldsType: "FieldsV1", fieldsV1: { "f:data": { "f:extra": {} } }, time: "2026-11-22T10:01:00Z" },
      ],
    },
    data: { mode: "gitops", extra: "x" },
  };
  const kept = keepForCache(object);
  assert.equal(isKeptSlim(kept), false);
  assert.deepEqual(kept, object);
});

test("an object larger than the limit is kept slim (named, owned, its writers) and marked so the cache does not vouch for it", () => {
  const big: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "big", namespace: "shop", resourceVersion: "9", labels: { "fjord.dev/name": "app", "fjord.dev/namespace": "apps" } }, data: { blob: "x".repeat(CACHED_OBJECT_LIMIT) } };
  const kept = keepForCache(big);
  assert.equal(isKeptSlim(kept), true);
  assert.equal(kept.data, undefined);
  assert.deepEqual(kept.metadata, { name: "big", namespace: "shop", resourceVersion: "9", labels: { "fjord.dev/name": "app", "fjord.dev/namespace": "apps" }, managedFields: [] });
  assert.equal(isKeptSlim(keepForCache({ ...big, data: { blob: "x".repeat(CACHED_OBJECT_LIMIT - 400) } })), false, "just under the limit is kept whole");
});

test("healthChange: only turning Failed or recovering from Failed is news; a rollout's InProgress is not", () => {
  const gadget = (conditions: Array<{ type: string; status: string; message?: string }>) => ({ apiVersion: "example.com/v1", kind: "Gadget", metadata: { name: "g", namespace: "shop" }, status: { conditions } });
  const healthy = gadget([]);
  const broken = gadget([{ type: "Stalled", status: "True", message: "disk full" }]);
  const busy = gadget([{ type: "Reconciling", status: "True", message: "rolling" }]);
  assert.deepEqual(healthChange(healthy, broken), { object: "Gadget.example.com/shop/g", from: "Current", to: "Failed", message: healthChange(healthy, broken)?.message });
  assert.match(healthChange(healthy, broken)?.message ?? "", /disk full/);
  assert.equal(healthChange(broken, healthy)?.to, "Current");
  assert.equal(healthChange(healthy, busy), undefined);
  assert.equal(healthChange(busy, healthy), undefined);
  assert.equal(healthChange(undefined, broken), undefined, "a first sight is the sync's to judge");
});
