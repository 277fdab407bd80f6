// DriftWatcher (src/controller/drift-watch.ts) on its own, against the real API server: the
// shared watches, routing by owner label, what counts as drift, and how it fails.
//
// "Nothing was reported" is never waited out with a sleep: a watch delivers one resource
// type's events in order, so once a later change to an object of the same type has been
// reported (a barrier), every earlier event has been routed.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test, type TestContext } from "node:test";
import { DriftWatcher, type DriftEvent, type UnwatchedKind } from "../src/controller/drift-watch.ts";
import type { InventoryEntry } from "../src/inventory/inventory.ts";
import { KubeClient } from "../src/kube/client.ts";
import { Discovery } from "../src/kube/discovery.ts";
import type { KubeObject } from "../src/model/object.ts";
import { FIELD_MANAGER, ownerLabels, type Owner } from "../src/model/ownership.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";
import { logRequests, type RequestLog } from "./support/request-log.ts";
import { serviceAccountClient, waitUntilAllowed } from "./support/rbac.ts";
import { kubeconfigFor, startTcpRelay } from "./support/tcp-relay.ts";

interface Report {
  owner: string;
  event: DriftEvent;
}

interface Fixture {
  admin: KubeClient;
  namespace: string;
  watcher: DriftWatcher;
  log: RequestLog;
  reports: Report[];
  told: Array<{ owner: string; unwatched: UnwatchedKind }>;
  /** Owners whose own sync is running (the watcher's `syncing`). */
  syncing: Set<string>;
  owner(name: string): Owner;
  /** Server-side applies `object` as fjord does (its field manager, its owner labels) and returns its inventory entry. */
  apply(owner: Owner, object: KubeObject): Promise<InventoryEntry>;
  /** A write by someone else, as `kubectl edit` makes it (merge patch, its own field manager). */
  edit(entry: InventoryEntry, manager: string, patch: Record<string, unknown>, subresource?: string): Promise<void>;
  remove(entry: InventoryEntry): Promise<void>;
  /** The reports for `owner` so far. */
  reportsFor(owner: Owner): DriftEvent[];
  /** Waits for a report for `owner` about `object` (`Kind/namespace/name`) by `changedBy`. */
  reported(owner: Owner, object: string, changedBy: string): Promise<DriftEvent>;
}

const ownerKey = (owner: Owner) => `${owner.namespace}/${owner.name}`;
const describe = (entry: InventoryEntry) => `${entry.group ? `${entry.kind}.${entry.group}` : entry.kind}/${entry.namespace}/${entry.name}`;
const objectPath = (entry: InventoryEntry) =>
  `${entry.group ? `/apis/${entry.group}/${entry.version}` : `/api/${entry.version}`}/namespaces/${entry.namespace}/${entry.kind === "Deployment" ? "deployments" : entry.kind === "Secret" ? "secrets" : "configmaps"}/${entry.name}`;

/** `client`: the watcher's own client (default: the admin's), made once the test's namespace exists. */
async function fixture(t: TestContext, client?: (admin: KubeClient, namespace: string) => Promise<KubeClient>): Promise<Fixture> {
  const cluster = await useCluster();
  const admin = KubeClient.load({ kubeconfig: cluster.kubeconfigPath });
  t.after(() => admin.close());
  const namespace = await createTestNamespace(cluster, t);
  const log = logRequests(client ? await client(admin, namespace) : admin);
  const reports: Report[] = [];
  const told: Fixture["told"] = [];
  const syncing = new Set<string>();
  const watcher = new DriftWatcher(log.client, new Discovery(log.client), {
    onDrift: (owner, event) => reports.push({ owner: ownerKey(owner), event }),
    syncing: (owner) => syncing.has(ownerKey(owner)),
    onUnwatched: (owner, unwatched) => told.push({ owner: ownerKey(owner), unwatched }),
  });
  t.after(() => watcher.close());
  const reportsFor = (owner: Owner) => reports.filter((report) => report.owner === ownerKey(owner)).map((report) => report.event);
  return {
    admin,
    namespace,
    watcher,
    log,
    reports,
    told,
    syncing,
    owner: (name) => ({ name, namespace }),
    async apply(owner, object) {
      const [group, version] = object.apiVersion.includes("/") ? object.apiVersion.split("/") : ["", object.apiVersion];
      const entry: InventoryEntry = { group: group ?? "", version: version ?? "", kind: object.kind, namespace, name: object.metadata.name ?? "" };
      const labelled = { ...object, metadata: { ...object.metadata, namespace, labels: { ...object.metadata.labels, ...ownerLabels(owner) } } };
      await admin.request("PATCH", objectPath(entry), { query: { fieldManager: FIELD_MANAGER, force: true }, body: labelled, contentType: "application/apply-patch+yaml" });
      return entry;
    },
    async edit(entry, manager, patch, subresource) {
      await admin.request("PATCH", `${objectPath(entry)}${subresource ? `/${subresource}` : ""}`, { query: { fieldManager: manager }, body: patch, contentType: "application/merge-patch+json" });
    },
    async remove(entry) {
      await admin.request("DELETE", objectPath(entry));
    },
    reportsFor,
    reported: (owner, object, changedBy) =>
      eventually(() => Promise.resolve(reportsFor(owner).find((event) => event.object === object && event.changedBy === changedBy)), {
        timeoutMs: 20_000,
        intervalMs: 20,
        describe: () => JSON.stringify(reports),
      }),
  };
}

const configMap = (name: string, data: Record<string, string> = { mode: "gitops" }, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, labels },
  data,
});

const deployment = (name: string, replicas: number): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image: "registry.example/app:1" }] } } },
});

/** The watch streams the watcher holds open, by collection path. */
const openWatches = (log: RequestLog) => log.requests.filter((entry) => entry.watch && entry.open).map((entry) => entry.path).sort();

/** Until the watcher has listed `paths` and holds a watch open on each: from then on no change to them is missed. */
const watching = (log: RequestLog, ...paths: string[]) =>
  eventually(() => Promise.resolve(paths.every((collection) => openWatches(log).includes(collection))), { timeoutMs: 20_000, intervalMs: 20, describe: () => JSON.stringify(openWatches(log)) });

/** The sync started now: writes by others from here on are drift. */
const now = () => {
  const startedAt = new Date().toISOString();
  return () => startedAt;
};

/** A tracked object deleted by someone: reported to `owner` once every earlier event of its type has been routed. */
async function barrier(fx: Fixture, owner: Owner, entry: InventoryEntry): Promise<void> {
  await fx.remove(entry);
  await fx.reported(owner, describe(entry), "deleted by someone");
}

test("one cluster-wide watch per resource type, filtered by fjord's owner label, is shared by every owner", async (t) => {
  const fx = await fixture(t);
  const shop = fx.owner("shop");
  const billing = fx.owner("billing");
  const shopEntries = [await fx.apply(shop, configMap("shop-a")), await fx.apply(shop, configMap("shop-b")), await fx.apply(shop, { apiVersion: "v1", kind: "Secret", metadata: { name: "shop-token" }, stringData: { token: "x" } })];
  const billingEntries = [await fx.apply(billing, configMap("billing-a"))];
  await fx.watcher.track(shop, shopEntries, now());
  await fx.watcher.track(billing, billingEntries, now());
  await watching(fx.log, "/api/v1/configmaps", "/api/v1/secrets");

  assert.equal(fx.watcher.watchCount, 2);
  assert.deepEqual(openWatches(fx.log), ["/api/v1/configmaps", "/api/v1/secrets"], "one watch per type, cluster-wide, for both owners");
  for (const collection of ["/api/v1/configmaps", "/api/v1/secrets"]) {
    assert.equal(fx.log.to("GET", collection).length, 1, `${collection} listed once`);
    for (const request of [...fx.log.to("GET", collection), ...fx.log.to("WATCH", collection)]) assert.equal(request.query?.labelSelector, "fjord.dev/name", "only objects fjord labelled");
  }
  // A third owner of the same kind adds no request.
  const before = fx.log.requests.length;
  const third = fx.owner("third");
  await fx.watcher.track(third, [await fx.apply(third, configMap("third-a"))], now());
  assert.equal(fx.log.requests.length, before, "no list or watch for an owner of a kind already watched");
  assert.equal(fx.log.to("WATCH", "/api/v1/configmaps").length, 1);
});

test("a change reaches the owner named by the object's labels, and only for objects in its inventory", async (t) => {
  const fx = await fixture(t);
  const shop = fx.owner("shop");
  const billing = fx.owner("billing");
  const shopSettings = await fx.apply(shop, configMap("shop-settings"));
  const shopBarrier = await fx.apply(shop, configMap("shop-barrier"));
  const billingSettings = await fx.apply(billing, configMap("billing-settings"));
  // Labelled for shop but not in its inventory (another sync's leftovers), and labelled for an owner nobody tracks.
  const stray = await fx.apply(shop, configMap("shop-stray"));
  const nobodys = await fx.apply(fx.owner("nobody"), configMap("nobodys"));
  // Another owner of the same name: an Application `shop` of another namespace.
  const otherShop = { name: "shop", namespace: `${fx.namespace}-other` };
  const otherShopSettings = await fx.apply(otherShop, configMap("other-shop-settings"));
  await fx.watcher.track(shop, [shopSettings, shopBarrier], now());
  await fx.watcher.track(billing, [billingSettings], now());
  await fx.watcher.track(otherShop, [otherShopSettings], now());
  await watching(fx.log, "/api/v1/configmaps");

  await fx.edit(billingSettings, "kubectl-edit", { data: { mode: "by-hand" } });
  await fx.edit(stray, "kubectl-edit", { data: { mode: "by-hand" } });
  await fx.edit(nobodys, "kubectl-edit", { data: { mode: "by-hand" } });
  await fx.edit(otherShopSettings, "kubectl-edit", { data: { mode: "by-hand" } });
  await fx.edit(shopSettings, "kubectl-edit", { data: { mode: "by-hand" } });
  await fx.reported(shop, describe(shopSettings), "kubectl-edit");
  await fx.reported(billing, describe(billingSettings), "kubectl-edit");
  await fx.reported(otherShop, describe(otherShopSettings), "kubectl-edit");
  await barrier(fx, shop, shopBarrier);

  assert.deepEqual(fx.reportsFor(shop).map((event) => `${event.object} ${event.changedBy}`), [`${describe(shopSettings)} kubectl-edit`, `${describe(shopBarrier)} deleted by someone`]);
  assert.deepEqual(fx.reportsFor(billing).map((event) => `${event.object} ${event.changedBy}`), [`${describe(billingSettings)} kubectl-edit`]);
  assert.deepEqual(fx.reportsFor(otherShop).map((event) => `${event.object} ${event.changedBy}`), [`${describe(otherShopSettings)} kubectl-edit`]);
  assert.equal(fx.reports.length, 4, JSON.stringify(fx.reports));
});

test("a deletion and an edit by another manager are drift, named by who did it; fjord's own writes and writes before the sync are not", async (t) => {
  const fx = await fixture(t);
  const shop = fx.owner("shop");
  const [edited, deleted, reapplied, earlier, barrierEntry] = [
    await fx.apply(shop, configMap("edited")),
    await fx.apply(shop, configMap("deleted")),
    await fx.apply(shop, configMap("reapplied")),
    await fx.apply(shop, configMap("earlier")),
    await fx.apply(shop, configMap("barrier")),
  ];
  // Edited before the sync started: the sync put it back, so it is not drift (the API server
  // records write times in whole seconds; the sync here starts in the next one).
  await fx.edit(earlier, "kubectl-edit", { data: { note: "before the sync" } });
  const earlierWrite = new Date();
  const syncStart = new Date(Math.floor(earlierWrite.getTime() / 1000) * 1000 + 1000).toISOString();
  await fx.watcher.track(shop, [edited, deleted, reapplied, earlier, barrierEntry], () => syncStart);
  await watching(fx.log, "/api/v1/configmaps");
  // Every write below must carry a time after syncStart.
  await eventually(() => Promise.resolve(Date.now() >= Date.parse(syncStart)), { intervalMs: 20 });

  const editedAt = Date.now();
  await fx.edit(edited, "kubectl-edit", { data: { mode: "by-hand" } });
  const edit = await fx.reported(shop, describe(edited), "kubectl-edit");
  assert.ok(Math.abs(Date.parse(edit.at) - editedAt) < 2_000, `the time of the write: ${edit.at}`);

  await fx.remove(deleted);
  await fx.reported(shop, describe(deleted), "deleted by someone");

  // fjord applying again (a sync changing a value) is not drift, nor is `earlier` when fjord re-applies it.
  await fx.apply(shop, configMap("reapplied", { mode: "next-commit" }));
  await fx.apply(shop, configMap("earlier", { mode: "next-commit" }));
  await barrier(fx, shop, barrierEntry);
  assert.deepEqual(
    fx.reportsFor(shop).map((event) => `${event.object} ${event.changedBy}`),
    [`${describe(edited)} kubectl-edit`, `${describe(deleted)} deleted by someone`, `${describe(barrierEntry)} deleted by someone`],
  );
});

test("kubectl scale is drift, though the API server records no time for writes through the scale subresource; status updates are not", async (t) => {
  const fx = await fixture(t);
  const shop = fx.owner("shop");
  const web = await fx.apply(shop, deployment("web", 1));
  const deploymentPath = objectPath(web);
  // kube-controller-manager has written the Deployment's status (a status-subresource write by another manager).
  await eventually(async () => (await fx.admin.request<{ status?: { observedGeneration?: number } }>("GET", deploymentPath)).status?.observedGeneration === 1, { timeoutMs: 30_000 });
  await fx.watcher.track(shop, [web], now());
  await watching(fx.log, "/apis/apps/v1/deployments");

  await fx.edit(web, "kubectl-scale", { spec: { replicas: 3 } }, "scale");
  const live = await fx.admin.request<KubeObject>("GET", deploymentPath);
  const scaleEntry = (live.metadata.managedFields as Array<{ manager: string; subresource?: string; time?: string }>).find((entry) => entry.manager === "kubectl-scale");
  assert.equal(scaleEntry?.subresource, "scale");
  assert.equal(scaleEntry?.time, undefined, "the premise: no time on the scale write");

  await fx.reported(shop, describe(web), "kubectl-scale");
  // kube-controller-manager writes the status of the scaled Deployment (a status-subresource
  // write by another manager, with a new time): that is a controller reporting, not drift.
  await eventually(async () => (await fx.admin.request<{ status?: { observedGeneration?: number } }>("GET", deploymentPath)).status?.observedGeneration === 2, { timeoutMs: 30_000 });
  await barrier(fx, shop, web);
  assert.deepEqual(fx.reportsFor(shop).map((event) => event.changedBy), ["kubectl-scale", "deleted by someone"]);
});

test("while the owner's own sync runs, a deletion is its prune, not drift; an edit by someone else still is", async (t) => {
  const fx = await fixture(t);
  const shop = fx.owner("shop");
  const barrierOwner = fx.owner("barrier");
  const [pruned, editedDuringSync, deletedAfter] = [await fx.apply(shop, configMap("pruned")), await fx.apply(shop, configMap("edited-during-sync")), await fx.apply(shop, configMap("deleted-after"))];
  const barrierEntry = await fx.apply(barrierOwner, configMap("barrier"));
  await fx.watcher.track(shop, [pruned, editedDuringSync, deletedAfter], now());
  await fx.watcher.track(barrierOwner, [barrierEntry], now());
  await watching(fx.log, "/api/v1/configmaps");

  fx.syncing.add(ownerKey(shop));
  await fx.remove(pruned);
  await fx.edit(editedDuringSync, "kubectl-edit", { data: { mode: "by-hand" } });
  await fx.reported(shop, describe(editedDuringSync), "kubectl-edit");
  await barrier(fx, barrierOwner, barrierEntry);
  fx.syncing.delete(ownerKey(shop));

  await fx.remove(deletedAfter);
  await fx.reported(shop, describe(deletedAfter), "deleted by someone");
  assert.deepEqual(fx.reportsFor(shop).map((event) => `${event.object} ${event.changedBy}`), [`${describe(editedDuringSync)} kubectl-edit`, `${describe(deletedAfter)} deleted by someone`]);
});

test("track answers once its watches have listed: a write made while the sync ran is reported before it returns, and the cache knows every object", async (t) => {
  const fx = await fixture(t);
  const shop = fx.owner("shop");
  const since = now();
  const [edited, kept] = [await fx.apply(shop, configMap("edited")), await fx.apply(shop, configMap("kept", { mode: "gitops" }))];
  await fx.edit(edited, "kubectl-edit", { data: { mode: "by-hand" } });

  // No waiting for the watch here: track itself must not answer before the first list.
  await fx.watcher.track(shop, [edited, kept], since);
  assert.deepEqual(fx.reportsFor(shop).map((event) => `${event.object} ${event.changedBy}`), [`${describe(edited)} kubectl-edit`]);
  const configMaps = { group: "", version: "v1", kind: "ConfigMap", resource: "configmaps", namespaced: true, verbs: ["list", "watch"] };
  const cached = fx.watcher.lookup(configMaps, fx.namespace, "kept");
  assert.equal(cached.kind, "present");
  assert.deepEqual(cached.kind === "present" ? cached.object.data : undefined, { mode: "gitops" }, "the whole object, not a slim copy");
  assert.deepEqual(fx.watcher.lookup(configMaps, fx.namespace, "never-applied"), { kind: "absent" });
  assert.deepEqual(fx.watcher.lookup({ ...configMaps, kind: "Secret", resource: "secrets" }, fx.namespace, "kept"), { kind: "unknown" }, "a type nobody tracks is not known");
});

test("a deletion while the owner's sync runs is drift when the sync kept the object (reported at track), a prune when it dropped it", async (t) => {
  const fx = await fixture(t);
  const shop = fx.owner("shop");
  const barrierOwner = fx.owner("barrier");
  const [pruned, keptButDeleted, recreated] = [await fx.apply(shop, configMap("pruned")), await fx.apply(shop, configMap("kept-but-deleted")), await fx.apply(shop, configMap("recreated"))];
  const barrierEntry = await fx.apply(barrierOwner, configMap("barrier"));
  await fx.watcher.track(shop, [pruned, keptButDeleted, recreated], now());
  await fx.watcher.track(barrierOwner, [barrierEntry], now());
  await watching(fx.log, "/api/v1/configmaps");

  fx.syncing.add(ownerKey(shop));
  const since = now();
  await fx.remove(pruned);
  await fx.remove(keptButDeleted);
  await fx.remove(recreated);
  // The sync applies `recreated` again.
  await fx.apply(shop, configMap("recreated"));
  await barrier(fx, barrierOwner, barrierEntry);
  assert.deepEqual(fx.reportsFor(shop), [], "nothing is reported while the sync runs");

  // The sync ends: its new inventory drops `pruned` and keeps the other two.
  await fx.watcher.track(shop, [keptButDeleted, recreated], since);
  fx.syncing.delete(ownerKey(shop));
  assert.deepEqual(fx.reportsFor(shop).map((event) => `${event.object} ${event.changedBy}`), [`${describe(keptButDeleted)} deleted by someone`]);
});

test("untrack and a smaller inventory release their watches; a watch shared with another owner stays until its last owner goes", async (t) => {
  const fx = await fixture(t);
  const shop = fx.owner("shop");
  const billing = fx.owner("billing");
  const shopSettings = await fx.apply(shop, configMap("shop-settings"));
  const shopToken = await fx.apply(shop, { apiVersion: "v1", kind: "Secret", metadata: { name: "shop-token" }, stringData: { token: "x" } });
  const shopWeb = await fx.apply(shop, deployment("shop-web", 0));
  const billingSettings = await fx.apply(billing, configMap("billing-settings"));
  const billingBarrier = await fx.apply(billing, configMap("billing-barrier"));
  await fx.watcher.track(shop, [shopSettings, shopToken, shopWeb], now());
  await fx.watcher.track(billing, [billingSettings, billingBarrier], now());
  await watching(fx.log, "/api/v1/configmaps", "/api/v1/secrets", "/apis/apps/v1/deployments");
  assert.equal(fx.watcher.watchCount, 3);

  // The next sync's inventory has no Deployment any more: its watch closes.
  await fx.watcher.track(shop, [shopSettings, shopToken], now());
  await eventually(() => Promise.resolve(!openWatches(fx.log).includes("/apis/apps/v1/deployments")), { timeoutMs: 10_000, intervalMs: 20, describe: () => JSON.stringify(openWatches(fx.log)) });
  assert.equal(fx.watcher.watchCount, 2);

  // shop deleted: the Secret watch (its alone) closes, the ConfigMap watch stays for billing.
  fx.watcher.untrack(shop);
  await eventually(() => Promise.resolve(!openWatches(fx.log).includes("/api/v1/secrets")), { timeoutMs: 10_000, intervalMs: 20, describe: () => JSON.stringify(openWatches(fx.log)) });
  assert.deepEqual(openWatches(fx.log), ["/api/v1/configmaps"]);
  assert.equal(fx.watcher.watchCount, 1);
  await fx.edit(shopSettings, "kubectl-edit", { data: { mode: "by-hand" } });
  await fx.edit(billingSettings, "kubectl-edit", { data: { mode: "by-hand" } });
  await fx.reported(billing, describe(billingSettings), "kubectl-edit");
  await barrier(fx, billing, billingBarrier);
  assert.deepEqual(fx.reportsFor(shop), [], "an untracked owner hears nothing");

  fx.watcher.untrack(billing);
  await eventually(() => Promise.resolve(openWatches(fx.log).length === 0), { timeoutMs: 10_000, intervalMs: 20, describe: () => JSON.stringify(openWatches(fx.log)) });
  assert.equal(fx.watcher.watchCount, 0);
});

test("after the watch breaks, the relist reports the edits and deletions made while it was down", async (t) => {
  const cluster = await useCluster();
  const dir = await mkdtemp(path.join(os.tmpdir(), "fjord-drift-watch-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const direct = KubeClient.load({ kubeconfig: cluster.kubeconfigPath });
  t.after(() => direct.close());
  const relay = await startTcpRelay(t, new URL(direct.server));
  const fx = await fixture(t, async () => {
    const client = KubeClient.load({ kubeconfig: await kubeconfigFor(cluster.kubeconfigPath, relay.server, dir) });
    t.after(() => client.close());
    return client;
  });
  const shop = fx.owner("shop");
  const [edited, deleted, untouched] = [await fx.apply(shop, configMap("edited")), await fx.apply(shop, configMap("deleted")), await fx.apply(shop, configMap("untouched"))];
  await fx.watcher.track(shop, [edited, deleted, untouched], now());
  await watching(fx.log, "/api/v1/configmaps");
  const listsBefore = fx.log.to("GET", "/api/v1/configmaps").length;

  relay.cut();
  await eventually(() => Promise.resolve(openWatches(fx.log).length === 0), { timeoutMs: 10_000, intervalMs: 20 });
  // Changed while the watcher cannot see the API server (the fixture's admin client is direct).
  await fx.edit(edited, "kubectl-edit", { data: { mode: "by-hand" } });
  await fx.remove(deleted);
  assert.deepEqual(fx.reports, [], "nothing can have been seen yet");
  relay.restore();

  await fx.reported(shop, describe(edited), "kubectl-edit");
  await fx.reported(shop, describe(deleted), "deleted by someone");
  await watching(fx.log, "/api/v1/configmaps");
  assert.deepEqual(fx.reportsFor(shop).map((event) => event.object).sort(), [describe(deleted), describe(edited)], "the untouched object is not reported");
  t.diagnostic(`relists after the break: ${fx.log.to("GET", "/api/v1/configmaps").length - listsBefore}`);
});

test("a kind the controller may not list and watch: each owner is told once, it is never listed, and the other kinds are still watched", async (t) => {
  const cluster = await useCluster();
  const dir = await mkdtemp(path.join(os.tmpdir(), "fjord-drift-watch-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const suffix = randomBytes(3).toString("hex");
  const fx = await fixture(t, async (admin, namespace) => {
    // An identity that may list and watch ConfigMaps cluster-wide, and nothing about Secrets.
    const account = { namespace, name: "watcher" };
    const rbac = "/apis/rbac.authorization.k8s.io/v1";
    const role = `drift-watch-test-${suffix}`;
    await admin.request("POST", `/api/v1/namespaces/${namespace}/serviceaccounts`, { body: { metadata: { name: account.name } } });
    await admin.request("POST", `${rbac}/clusterroles`, { body: { metadata: { name: role }, rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch"] }] } });
    t.after(() => admin.request("DELETE", `${rbac}/clusterroles/${role}`).catch(() => undefined));
    await admin.request("POST", `${rbac}/clusterrolebindings`, {
      body: { metadata: { name: role }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role }, subjects: [{ kind: "ServiceAccount", ...account }] },
    });
    t.after(() => admin.request("DELETE", `${rbac}/clusterrolebindings/${role}`).catch(() => undefined));
    await waitUntilAllowed(admin, account, { verb: "watch", resource: "configmaps" });
    const client = await serviceAccountClient(admin, cluster.kubeConfig, account, dir);
    t.after(() => client.close());
    return client;
  });
  const shop = fx.owner("shop");
  const billing = fx.owner("billing");
  const shopSettings = await fx.apply(shop, configMap("shop-settings"));
  const shopToken = await fx.apply(shop, { apiVersion: "v1", kind: "Secret", metadata: { name: "shop-token" }, stringData: { token: "x" } });
  const billingToken = await fx.apply(billing, { apiVersion: "v1", kind: "Secret", metadata: { name: "billing-token" }, stringData: { token: "x" } });

  await fx.watcher.track(shop, [shopSettings, shopToken], now());
  await fx.watcher.track(billing, [billingToken], now());
  const told = await eventually(() => Promise.resolve(fx.told.length >= 2 ? fx.told : undefined), { timeoutMs: 20_000, intervalMs: 20, describe: () => JSON.stringify(fx.told) });
  assert.deepEqual(
    told.map(({ owner, unwatched }) => `${owner} ${unwatched.kind} ${unwatched.resource} ${unwatched.why}`).sort(),
    [`${fx.namespace}/billing Secret secrets forbidden`, `${fx.namespace}/shop Secret secrets forbidden`],
  );

  // The next syncs track the same inventories: nobody is told again, and nothing is retried.
  const requests = fx.log.requests.length;
  await fx.watcher.track(shop, [shopSettings, shopToken], now());
  await fx.watcher.track(billing, [billingToken], now());
  assert.equal(fx.told.length, 2, JSON.stringify(fx.told));
  assert.equal(fx.log.requests.length, requests, "no request for a kind known to be forbidden");

  // The authorizer was asked; Secrets were never listed or watched.
  assert.deepEqual(fx.log.requests.filter((entry) => entry.path.startsWith("/api/v1/secrets")), []);
  assert.ok(fx.log.to("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews").length >= 2, "asked before watching");

  // ConfigMaps are still watched for shop.
  await watching(fx.log, "/api/v1/configmaps");
  await fx.edit(shopSettings, "kubectl-edit", { data: { mode: "by-hand" } });
  await fx.reported(shop, describe(shopSettings), "kubectl-edit");
});
