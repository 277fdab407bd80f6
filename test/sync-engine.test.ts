import assert from "node:assert/strict";
import { test } from "node:test";
import { SyncError } from "../src/apply/errors.ts";
import { loadInventory } from "../src/inventory/configmap-store.ts";
import { KubeClient } from "../src/kube/client.ts";
import { Discovery } from "../src/kube/discovery.ts";
import { isNotFound } from "../src/kube/errors.ts";
import type { KubeObject, RenderedObject } from "../src/model/object.ts";
import { syncObjects, type SyncRequest } from "../src/sync/sync.ts";
import { createTestNamespace, useCluster } from "./support/cluster.ts";
import { grantRole } from "./support/rbac.ts";

function rendered(object: KubeObject, file = "app.yaml"): RenderedObject {
  return { object, source: { file, line: 1 } };
}

const configMap = (name: string, data: Record<string, string>): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data });

const deployment = (name: string, replicas: number, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image: "registry.example/app:1.0.0" }], ...extra } },
  },
});

async function setup(t: Parameters<typeof createTestNamespace>[1]) {
  const cluster = await useCluster();
  const namespace = await createTestNamespace(cluster, t);
  const client = KubeClient.load({ kubeconfig: cluster.kubeconfigPath });
  t.after(() => client.close());
  const sync = (objects: RenderedObject[], options: Partial<SyncRequest> = {}) =>
    syncObjects({ client, objects, owner: { name: "app", namespace }, defaultNamespace: namespace, ...options });
  const get = (path: string) => client.request<KubeObject>("GET", path);
  const exists = (path: string) => get(path).then(() => true, (error: unknown) => {
    if (isNotFound(error)) return false;
    throw error;
  });
  return { client, namespace, sync, get, exists };
}

test("the first sync creates everything; a second one changes nothing and writes nothing", async (t) => {
  const { client, namespace, sync, get } = await setup(t);
  const objects = [rendered(configMap("settings", { mode: "fast" })), rendered(deployment("web", 2), "web.yaml")];
  const first = await sync(objects);
  assert.deepEqual(first.changes.map((change) => [change.ref.kind, change.action]), [["ConfigMap", "created"], ["Deployment", "created"]]);
  const live = await get(`/apis/apps/v1/namespaces/${namespace}/deployments/web`);
  assert.equal(live.metadata.labels?.["fjord.dev/name"], "app", "owner labels are applied");
  assert.equal((live.metadata.managedFields as Array<{ manager: string }>).some((entry) => entry.manager === "fjord"), true);

  const before = { ...client.counts };
  const second = await sync(objects);
  assert.deepEqual(second.changes.map((change) => change.action), ["unchanged", "unchanged"]);
  assert.equal(client.counts.writes - before.writes, 0, "no persisted write, not even the inventory");
  assert.equal(client.counts.dryRunWrites - before.dryRunWrites, 0, "nothing needed a dry run");
});

test("a first sync of n new objects costs n dry runs and n applies, and reads none of them one by one", async (t) => {
  const { client, sync } = await setup(t);
  const discovery = new Discovery(client);
  await discovery.refresh();
  const before = { ...client.counts };
  const result = await sync([rendered(configMap("a", {})), rendered(configMap("b", {})), rendered(deployment("web", 1), "web.yaml")], { discovery });
  assert.deepEqual(result.changes.map((change) => change.action), ["created", "created", "created"]);
  assert.equal(client.counts.dryRunWrites - before.dryRunWrites, 3, "every object is validated before anything is written");
  assert.equal(client.counts.writes - before.writes, 3 + 2, "three objects, and the inventory reserved before them and recorded after");
  assert.equal(client.counts.reads - before.reads, 1, "only the inventory's GET: no LIST on a first sync, no GET per object");
});

test("an object that exists as desired but is missing from the inventory is reported unchanged (regression: bootstrap's second run said configured)", async (t) => {
  const { client, namespace, sync } = await setup(t);
  await sync([rendered(configMap("a", { v: "1" }))]);
  await client.request("DELETE", `/api/v1/namespaces/${namespace}/configmaps/fjord-inventory-app`);
  const before = { ...client.counts };
  const result = await sync([rendered(configMap("a", { v: "1" }))]);
  assert.deepEqual(result.changes.map((change) => [change.ref.name, change.action, change.note]), [["a", "unchanged", undefined]]);
  assert.equal(client.counts.dryRunWrites - before.dryRunWrites, 1, "new to the inventory, so validated: the dry run and a GET show it unchanged");
  assert.equal(client.counts.writes - before.writes, 1, "only the inventory");
});

test("an edited object is the only one configured", async (t) => {
  const { namespace, sync, get } = await setup(t);
  await sync([rendered(configMap("a", { v: "1" })), rendered(configMap("b", { v: "1" }))]);
  const result = await sync([rendered(configMap("a", { v: "1" })), rendered(configMap("b", { v: "2" }))]);
  assert.deepEqual(
    result.changes.map((change) => [change.ref.name, change.action]),
    [["a", "unchanged"], ["b", "configured"]],
  );
  assert.deepEqual((await get(`/api/v1/namespaces/${namespace}/configmaps/b`)).data, { v: "2" });
});

test("a field removed from Git is removed from the cluster", async (t) => {
  const { namespace, sync, get } = await setup(t);
  await sync([rendered(configMap("a", { keep: "1", drop: "1" }))]);
  await sync([rendered(configMap("a", { keep: "1" }))]);
  assert.deepEqual((await get(`/api/v1/namespaces/${namespace}/configmaps/a`)).data, { keep: "1" });
});

test("a removed object is pruned with prune and kept without it", async (t) => {
  const { namespace, sync, exists } = await setup(t);
  await sync([rendered(configMap("a", {})), rendered(configMap("b", {}))]);
  const kept = await sync([rendered(configMap("a", {}))]);
  assert.ok(!kept.changes.some((change) => change.action === "deleted"));
  assert.ok(await exists(`/api/v1/namespaces/${namespace}/configmaps/b`), "kept without --prune");

  const pruned = await sync([rendered(configMap("a", {}))], { prune: true });
  assert.deepEqual(pruned.changes.filter((change) => change.action === "deleted").map((change) => change.ref.name), ["b"]);
  assert.ok(!(await exists(`/api/v1/namespaces/${namespace}/configmaps/b`)));
});

test("prune skips objects that opt out or that fjord did not create", async (t) => {
  const { client, namespace, sync, exists } = await setup(t);
  const keepMe = configMap("keep-me", {});
  keepMe.metadata.annotations = { "fjord.dev/prune": "disabled" };
  await sync([rendered(keepMe), rendered(configMap("taken-over", {}))]);
  // Someone relabels an object: it no longer says fjord created it.
  await client.request("PATCH", `/api/v1/namespaces/${namespace}/configmaps/taken-over`, {
    body: [{ op: "remove", path: "/metadata/labels/fjord.dev~1name" }],
    contentType: "application/json-patch+json",
  });
  const result = await sync([], { prune: true, allowEmpty: true });
  assert.deepEqual(result.changes.map((change) => [change.ref.name, change.action]).sort(), [["keep-me", "skipped"], ["taken-over", "skipped"]]);
  assert.ok(await exists(`/api/v1/namespaces/${namespace}/configmaps/keep-me`));
  assert.ok(await exists(`/api/v1/namespaces/${namespace}/configmaps/taken-over`));
});

test("one schema-invalid object fails the sync with nothing applied", async (t) => {
  const { namespace, sync, exists } = await setup(t);
  const invalid = deployment("broken", 1);
  (invalid.spec as Record<string, unknown>).replicas = "three";
  const error = await sync([rendered(configMap("fine", {})), rendered(invalid, "apps/broken.yaml")]).then(
    () => assert.fail("the sync should fail"),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof SyncError);
  assert.equal(error.failure, "validation");
  assert.match(error.message, /Deployment\.apps\/[^/]+\/broken \(apps\/broken\.yaml:1\)/);
  assert.match(error.message, /replicas/);
  assert.ok(!(await exists(`/api/v1/namespaces/${namespace}/configmaps/fine`)), "the valid object was not applied either");
});

test("an invalid new object among valid ones fails the sync with nothing applied and the inventory as it was", async (t) => {
  const { client, namespace, sync, exists } = await setup(t);
  await sync([rendered(configMap("base", {}))]);
  const invalid = deployment("broken", 1);
  (invalid.spec as Record<string, unknown>).replicas = "three";
  await assert.rejects(sync([rendered(invalid, "apps/broken.yaml"), rendered(configMap("fine", {})), rendered(configMap("base", {}))]), (error: unknown) => {
    assert.ok(error instanceof SyncError && error.failure === "validation", String(error));
    assert.match(error.message, /nothing was changed/);
    assert.match(error.message, /Deployment\.apps\/[^/]+\/broken \(apps\/broken\.yaml:1\)/);
    assert.match(error.message, /replicas/);
    return true;
  });
  assert.ok(!(await exists(`/api/v1/namespaces/${namespace}/configmaps/fine`)), "the valid object was not applied");
  assert.ok(!(await exists(`/apis/apps/v1/namespaces/${namespace}/deployments/broken`)));
  const { inventory } = await loadInventory(client, { name: "app", namespace });
  assert.deepEqual(inventory.entries.map((entry) => entry.name), ["base"], "the inventory is as it was");
});

test("adopting an object another manager wrote: the change set says so and whose fields fjord took", async (t) => {
  const { client, namespace, sync, get } = await setup(t);
  await client.request("POST", `/api/v1/namespaces/${namespace}/configmaps`, { query: { fieldManager: "kubectl-create" }, body: configMap("legacy", { mode: "slow" }) });
  const result = await sync([rendered(configMap("legacy", { mode: "fast" })), rendered(configMap("other", {}))]);
  const legacy = result.changes.find((change) => change.ref.name === "legacy");
  assert.equal(legacy?.action, "configured");
  assert.match(legacy?.note ?? "", /adopted/);
  assert.match(legacy?.note ?? "", /took field ownership from kubectl-create/);
  assert.deepEqual((await get(`/api/v1/namespaces/${namespace}/configmaps/legacy`)).data, { mode: "fast" });
});

test("an unknown kind is named with its file, and nothing is applied", async (t) => {
  const { namespace, sync, exists } = await setup(t);
  const widget: KubeObject = { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } };
  await assert.rejects(sync([rendered(configMap("fine", {})), rendered(widget, "widget.yaml")]), (error: unknown) => {
    assert.ok(error instanceof SyncError && error.failure === "validation");
    assert.match(error.message, /Widget\.example\.com\/w \(widget\.yaml:1\): unknown kind Widget/);
    assert.match(error.message, /install its CustomResourceDefinition/);
    return true;
  });
  assert.ok(!(await exists(`/api/v1/namespaces/${namespace}/configmaps/fine`)));
});

test("a CRD and its objects, and a namespace and its contents, apply in one sync", async (t) => {
  const { client, namespace, sync, exists } = await setup(t);
  const suffix = namespace.slice(-6);
  const group = `t${suffix}.example.com`;
  const crd: KubeObject = {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `gadgets.${group}` },
    spec: {
      group,
      names: { kind: "Gadget", plural: "gadgets", singular: "gadget" },
      scope: "Namespaced",
      versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: { size: { type: "integer" } } } } } } }],
    },
  };
  const extraNamespace = `${namespace}-extra`;
  t.after(() => client.request("DELETE", `/api/v1/namespaces/${extraNamespace}`).catch(() => undefined));
  t.after(() => client.request("DELETE", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.${group}`).catch(() => undefined));
  const result = await sync([
    rendered({ apiVersion: `${group}/v1`, kind: "Gadget", metadata: { name: "g" }, spec: { size: 3 } }, "gadget.yaml"),
    rendered({ ...configMap("inside", {}), metadata: { name: "inside", namespace: extraNamespace } }),
    rendered({ apiVersion: "v1", kind: "Namespace", metadata: { name: extraNamespace } }),
    rendered(crd, "crd.yaml"),
  ]);
  assert.ok(result.changes.every((change) => change.action === "created"), JSON.stringify(result.changes));
  assert.ok(await exists(`/apis/${group}/v1/namespaces/${namespace}/gadgets/g`));
  assert.ok(await exists(`/api/v1/namespaces/${extraNamespace}/configmaps/inside`));
});

test("an immutable field change is reported, and force recreates the object", async (t) => {
  const { client, namespace, sync, get } = await setup(t);
  const job = (image: string): KubeObject => ({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "migrate" },
    spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "m", image }] } } },
  });
  await sync([rendered(job("registry.example/migrate:1"), "job.yaml")]);
  const uid = (await get(`/apis/batch/v1/namespaces/${namespace}/jobs/migrate`)).metadata.uid;
  await assert.rejects(sync([rendered(job("registry.example/migrate:2"), "job.yaml")]), (error: unknown) => {
    assert.ok(error instanceof SyncError && error.failure === "validation", String(error));
    assert.match(error.message, /Job\.batch\/[^ ]+\/migrate \(job\.yaml:1\)/);
    assert.match(error.message, /immutable field changed: set force/);
    return true;
  });
  const forced = await sync([rendered(job("registry.example/migrate:2"), "job.yaml")], { force: true });
  assert.equal(forced.changes[0]?.note, "recreated: an immutable field changed");
  const recreated = await get(`/apis/batch/v1/namespaces/${namespace}/jobs/migrate`);
  assert.notEqual(recreated.metadata.uid, uid);

  // The same for a Job fjord did not create (adopted: not listed, so its dry run is the first request).
  await client.request("POST", `/apis/batch/v1/namespaces/${namespace}/jobs`, { body: { ...job("registry.example/seed:1"), metadata: { name: "seed" } } });
  const seed = (image: string) => ({ ...job(image), metadata: { name: "seed" } });
  await assert.rejects(sync([rendered(seed("registry.example/seed:2"), "seed.yaml")]), /seed \(seed\.yaml:1\).*immutable field changed: set force/s);
  const adopted = await sync([rendered(seed("registry.example/seed:2"), "seed.yaml")], { force: true });
  assert.equal(adopted.changes.find((change) => change.ref.name === "seed")?.note, "recreated: an immutable field changed");
});

test("fields another manager changed are taken back, and the change set says from whom", async (t) => {
  const { client, namespace, sync, get } = await setup(t);
  await sync([rendered(deployment("web", 2))]);
  // What `kubectl scale` does: an update by another field manager.
  await client.request("PATCH", `/apis/apps/v1/namespaces/${namespace}/deployments/web`, {
    query: { fieldManager: "kubectl-scale" },
    body: { spec: { replicas: 5 } },
    contentType: "application/merge-patch+json",
  });
  const result = await sync([rendered(deployment("web", 2))]);
  assert.equal(result.changes[0]?.action, "configured");
  assert.match(result.changes[0]?.note ?? "", /took field ownership from kubectl-scale/);
  assert.equal((await get(`/apis/apps/v1/namespaces/${namespace}/deployments/web`)).spec && ((await get(`/apis/apps/v1/namespaces/${namespace}/deployments/web`)).spec as { replicas: number }).replicas, 2);
});

test("a failed delete keeps the object in the inventory", async (t) => {
  const { client, namespace, sync } = await setup(t);
  await sync([rendered(configMap("a", {})), rendered(configMap("b", {}))]);
  // A ServiceAccount that may do everything but delete ConfigMaps.
  await client.request("POST", `/api/v1/namespaces/${namespace}/serviceaccounts`, { body: { metadata: { name: "no-delete" } } });
  await grantRole(client, namespace, "no-delete", "no-delete", [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create", "patch", "update"] }]);
  const restricted = client.impersonating(`system:serviceaccount:${namespace}:no-delete`);
  t.after(() => restricted.close());
  await assert.rejects(
    syncObjects({ client: restricted, objects: [rendered(configMap("a", {}))], owner: { name: "app", namespace }, defaultNamespace: namespace, prune: true }),
    (error: unknown) => error instanceof SyncError && /could not be pruned/.test(error.message) && /ConfigMap\/[^ ]+\/b: delete failed/.test(error.message),
  );
  const { inventory } = await loadInventory(client, { name: "app", namespace });
  assert.deepEqual(inventory.entries.map((entry) => entry.name).sort(), ["a", "b"], "b is still tracked, so a later prune retries it");
});

test("wait names a Deployment that never becomes ready", async (t) => {
  const { sync } = await setup(t);
  const stuck = deployment("stuck", 1, { nodeSelector: { "fjord.dev/no-such-node": "true" } });
  await assert.rejects(sync([rendered(configMap("fine", {})), rendered(stuck)], { wait: true, timeoutMs: 4000 }), (error: unknown) => {
    assert.ok(error instanceof SyncError && error.failure === "health", String(error));
    assert.match(error.message, /timed out after 4s waiting for 1 object/);
    assert.match(error.message, /Deployment\.apps\/[^ ]+\/stuck \(app\.yaml:1\): InProgress/);
    assert.doesNotMatch(error.message, /ConfigMap/);
    return true;
  });
});

test("wait succeeds once a Deployment is available", async (t) => {
  const { sync } = await setup(t);
  const result = await sync([rendered(deployment("web", 2))], { wait: true, timeoutMs: 60_000 });
  assert.equal(result.changes[0]?.action, "created");
});

test("an invalid object in a namespace the same sync creates: only the namespace is applied, and it is tracked", async (t) => {
  const { client, namespace, sync } = await setup(t);
  const fresh = `${namespace}-new`;
  t.after(() => client.request("DELETE", `/api/v1/namespaces/${fresh}`).catch(() => undefined));
  const invalid = deployment("broken", 1);
  invalid.metadata.namespace = fresh;
  (invalid.spec as Record<string, unknown>).replicas = "three";
  const good = { ...configMap("fine", {}), metadata: { name: "fine", namespace: fresh } };
  await assert.rejects(sync([rendered({ apiVersion: "v1", kind: "Namespace", metadata: { name: fresh } }), rendered(good), rendered(invalid, "broken.yaml")]), (error: unknown) => {
    assert.ok(error instanceof SyncError && error.failure === "validation", String(error));
    assert.match(error.message, /only prerequisites .* were applied/);
    assert.match(error.message, /broken \(broken\.yaml:1\)/);
    return true;
  });
  const { inventory } = await loadInventory(client, { name: "app", namespace });
  assert.deepEqual(inventory.entries.map((entry) => `${entry.kind}/${entry.name}`), [`Namespace/${fresh}`], "the namespace it created is tracked for pruning");
  await assert.rejects(client.request("GET", `/api/v1/namespaces/${fresh}/configmaps/fine`), "objects inside were not applied");
});
