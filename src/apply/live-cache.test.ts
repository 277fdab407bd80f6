import assert from "node:assert/strict";
import { test } from "node:test";
import type { ResourceMapping } from "../kube/discovery.ts";
import { refKey, type KubeObject, type ObjectRef } from "../model/object.ts";
import { ownerLabels } from "../model/ownership.ts";
import { currentInCache, readOwnedFromCache, withinNamespace, type CachedObject, type LiveObjectCache } from "./live-cache.ts";

const configMaps: ResourceMapping = { group: "", version: "v1", kind: "ConfigMap", resource: "configmaps", namespaced: true, verbs: ["list", "watch"] };
const deployments: ResourceMapping = { group: "apps", version: "v1", kind: "Deployment", resource: "deployments", namespaced: true, verbs: ["list", "watch"] };
const namespaces: ResourceMapping = { group: "", version: "v1", kind: "Namespace", resource: "namespaces", namespaced: false, verbs: ["list", "watch"] };

const shop = { name: "shop", namespace: "apps" };
const other = { name: "other", namespace: "apps" };

/** A cache answering from a fixed table keyed `resource/namespace/name`; everything else unknown. */
function cacheOf(entries: Record<string, CachedObject>): LiveObjectCache & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    lookup: (mapping, namespace, name) => {
      const key = `${mapping.resource}/${namespace}/${name}`;
      asked.push(key);
      return entries[key] ?? { kind: "unknown" };
    },
  };
}

const configMap = (name: string, labels: Record<string, string>, resourceVersion = "7"): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "shop", labels, resourceVersion }, data: { a: "b" } });
const ref = (mapping: ResourceMapping, namespace: string, name: string): ObjectRef => ({ group: mapping.group, kind: mapping.kind, namespace, name });
const want = (mapping: ResourceMapping, namespace: string, name: string) => ({ mapping, namespace, name, ref: ref(mapping, namespace, name) });

test("the owner's objects come from the cache; unknown ones are listed; absent ones and another owner's are neither", () => {
  const mine = configMap("mine", ownerLabels(shop));
  const cache = cacheOf({
    "configmaps/shop/mine": { kind: "present", object: mine },
    "configmaps/shop/theirs": { kind: "present", object: configMap("theirs", ownerLabels(other)) },
    "configmaps/shop/gone": { kind: "absent" },
  });
  const wanted = [want(configMaps, "shop", "mine"), want(configMaps, "shop", "theirs"), want(configMaps, "shop", "gone"), want(deployments, "shop", "web")];
  const { owned, toList } = readOwnedFromCache(cache, wanted, shop);
  assert.deepEqual([...owned.keys()], [refKey(ref(configMaps, "shop", "mine"))]);
  assert.equal(owned.get(refKey(ref(configMaps, "shop", "mine"))), mine);
  assert.deepEqual(
    toList.map((item) => item.name),
    ["web"],
    "only what the cache cannot answer is listed",
  );
});

test("without a cache everything is listed", () => {
  const wanted = [want(configMaps, "shop", "mine")];
  assert.deepEqual(readOwnedFromCache(undefined, wanted, shop), { owned: new Map(), toList: wanted });
});

test("a cache scoped to a tenant's namespace answers nothing about other namespaces or cluster-scoped objects", () => {
  const object = configMap("mine", ownerLabels(shop));
  const cache = cacheOf({
    "configmaps/shop/mine": { kind: "present", object },
    "configmaps/elsewhere/mine": { kind: "present", object },
    "namespaces//shop": { kind: "present", object },
  });
  const scoped = withinNamespace(cache, "shop");
  assert.deepEqual(scoped.lookup(configMaps, "shop", "mine"), { kind: "present", object });
  assert.deepEqual(scoped.lookup(configMaps, "elsewhere", "mine"), { kind: "unknown" });
  assert.deepEqual(scoped.lookup(namespaces, "", "shop"), { kind: "unknown" });
  assert.deepEqual(cache.asked, ["configmaps/shop/mine"], "the wider cache is not even asked");
});

const deployment = (resourceVersion: string, available: number): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "shop", generation: 2, resourceVersion },
  spec: { replicas: 2 },
  status: {
    observedGeneration: 2,
    replicas: 2,
    updatedReplicas: 2,
    readyReplicas: available,
    availableReplicas: available,
    conditions: [{ type: "Available", status: available === 2 ? "True" : "False" }, { type: "Progressing", status: "True", reason: "NewReplicaSetAvailable" }],
  },
});

test("health: Current objects in the cache need no watch, nor do written ones the write's answer shows Current; the rest is waited for", () => {
  const targets = [
    { ref: ref(deployments, "shop", "web"), mapping: deployments },
    { ref: ref(deployments, "shop", "rolling"), mapping: deployments },
    // Written by this sync: its answer has a generation the Deployment controller has not observed yet.
    { ref: ref(deployments, "shop", "written"), mapping: deployments, written: { ...deployment("20", 2), metadata: { name: "written", namespace: "shop", generation: 3, resourceVersion: "20" } } },
    { ref: ref(configMaps, "shop", "written-settings"), mapping: configMaps, written: configMap("written-settings", ownerLabels(shop), "21") },
    { ref: ref(configMaps, "shop", "unwatched"), mapping: configMaps },
    { ref: ref(deployments, "shop", "deleted"), mapping: deployments },
  ];
  const cache = cacheOf({
    "deployments/shop/web": { kind: "present", object: deployment("10", 2) },
    "deployments/shop/rolling": { kind: "present", object: deployment("11", 1) },
    // The watch has not delivered the sync's write yet: this copy judges the previous spec.
    "deployments/shop/written": { kind: "present", object: deployment("19", 2) },
    "deployments/shop/deleted": { kind: "absent" },
  });
  const { current, rest } = currentInCache(cache, targets);
  assert.deepEqual([...current.keys()], [refKey(ref(deployments, "shop", "web")), refKey(ref(configMaps, "shop", "written-settings"))]);
  assert.deepEqual(
    rest.map((target) => target.ref.name),
    ["rolling", "written", "unwatched", "deleted"],
  );
  assert.ok(!cache.asked.includes("deployments/shop/written"), "a written object is never judged on the cache's older copy");
  assert.equal(currentInCache(undefined, targets).rest.length, targets.length, "without a cache every target is watched");
});
