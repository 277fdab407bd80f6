/**
 * The apply engine's verbs, one by one, against a real API server: applyAll (staged,
 * validated before anything is written), diff, prune and wait.
 */
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { ApplyEngine, type ApplyRequest } from "../src/apply/engine.ts";
import { SyncError } from "../src/apply/errors.ts";
import type { Inventory } from "../src/inventory/inventory.ts";
import { KubeClient } from "../src/kube/client.ts";
import { Discovery } from "../src/kube/discovery.ts";
import { isNotFound } from "../src/kube/errors.ts";
import type { KubeObject, RenderedObject } from "../src/model/object.ts";
import { rejection } from "./support/assertions.ts";
import { createTestNamespace, useCluster } from "./support/cluster.ts";
import { grantRole } from "./support/rbac.ts";

function rendered(object: KubeObject, file = "app.yaml"): RenderedObject {
  return { object, source: { file, line: 1 } };
}

const configMap = (name: string, data: Record<string, string> = {}, namespace?: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, ...(namespace ? { namespace } : {}) },
  data,
});

const deployment = (name: string, replicas: number | string, podSpec: Record<string, unknown> = {}, namespace?: string): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, ...(namespace ? { namespace } : {}) },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image: "registry.example/app:1.0.0" }], ...podSpec } },
  },
});

const job = (name: string, image: string): KubeObject => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name },
  spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "job", image }] } } },
});

function gadgetDefinition(group: string): KubeObject {
  return {
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
}

async function setup(t: TestContext) {
  const cluster = await useCluster();
  const namespace = await createTestNamespace(cluster, t);
  const client = KubeClient.load({ kubeconfig: cluster.kubeconfigPath });
  t.after(() => client.close());
  // Discovery read once up front, so request counts below are the verbs' own.
  const discovery = new Discovery(client);
  await discovery.refresh();
  const engine = new ApplyEngine(client, discovery);
  const owner = { name: "engine", namespace };
  const request = (objects: RenderedObject[], options: Partial<ApplyRequest> = {}): ApplyRequest => ({ objects, owner, defaultNamespace: namespace, ...options });
  const get = (path: string) => client.request<KubeObject>("GET", path);
  const exists = (path: string) =>
    get(path).then(
      () => true,
      (error: unknown) => {
        if (isNotFound(error)) return false;
        throw error;
      },
    );
  const counted = async <T>(body: () => Promise<T>) => {
    const before = { ...client.counts };
    const value = await body();
    return { value, reads: client.counts.reads - before.reads, writes: client.counts.writes - before.writes, dryRuns: client.counts.dryRunWrites - before.dryRunWrites };
  };
  /** Deletes cluster-scoped objects a test creates (the namespace takes the rest). */
  const cleanUp = (path: string) => t.after(() => client.request("DELETE", path).catch(() => undefined));
  return { client, namespace, engine, owner, request, get, exists, counted, cleanUp };
}

test("applyAll: a CRD and its objects, a Namespace and its contents, in one staged sync; what needs them is validated once they exist", async (t) => {
  const { client, namespace, engine, request, exists, counted, cleanUp } = await setup(t);
  const group = `e${namespace.slice(-6)}.example.com`;
  const fresh = `${namespace}-new`;
  cleanUp(`/api/v1/namespaces/${fresh}`);
  cleanUp(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.${group}`);
  const reservations: Array<{ entries: string[]; namespaceExisted: boolean; dryRuns: number; writes: number }> = [];
  const before = { ...client.counts };
  const reserve = async (planned: Inventory) => {
    reservations.push({
      entries: planned.entries.map((entry) => `${entry.kind}/${entry.name}`).sort(),
      namespaceExisted: await exists(`/api/v1/namespaces/${fresh}`),
      dryRuns: client.counts.dryRunWrites - before.dryRunWrites,
      writes: client.counts.writes - before.writes,
    });
    return true;
  };
  const { value: result, dryRuns, writes } = await counted(() =>
    engine.applyAll(
      request(
        [
          rendered({ apiVersion: `${group}/v1`, kind: "Gadget", metadata: { name: "g" }, spec: { size: 3 } }, "gadget.yaml"),
          rendered(configMap("inside", {}, fresh), "inside.yaml"),
          rendered({ apiVersion: "v1", kind: "Namespace", metadata: { name: fresh } }, "namespace.yaml"),
          rendered(gadgetDefinition(group), "crd.yaml"),
        ],
        { reserve },
      ),
    ),
  );
  assert.deepEqual(result.failures, []);
  assert.deepEqual(
    result.changes.map((change) => [change.ref.kind, change.action, change.note]),
    [
      ["ConfigMap", "created", undefined],
      ["Namespace", "created", undefined],
      ["CustomResourceDefinition", "created", undefined],
      ["Gadget", "created", undefined],
    ],
    "created and validated, none left unvalidated",
  );
  assert.deepEqual(reservations, [
    { entries: [`ConfigMap/inside`, `CustomResourceDefinition/gadgets.${group}`, "Gadget/g", `Namespace/${fresh}`].sort(), namespaceExisted: false, dryRuns: 2, writes: 0 },
  ], "reserved once, before the first write, with every new object: only the prerequisites had been dry-run");
  assert.equal(dryRuns, 4, "each object validated once: the deferred ones after their Namespace and CRD existed");
  assert.equal(writes, 4);
  assert.ok(await exists(`/apis/${group}/v1/namespaces/${namespace}/gadgets/g`));
  assert.ok(await exists(`/api/v1/namespaces/${fresh}/configmaps/inside`));
  assert.deepEqual(result.inventory.entries.map((entry) => entry.kind).sort(), ["ConfigMap", "CustomResourceDefinition", "Gadget", "Namespace"]);
});

test("applyAll: deferred validation that fails applies only the prerequisites, keeps them in the inventory and names each invalid object", async (t) => {
  const { namespace, engine, request, exists, cleanUp } = await setup(t);
  const group = `e${namespace.slice(-6)}.example.com`;
  const fresh = `${namespace}-new`;
  cleanUp(`/api/v1/namespaces/${fresh}`);
  cleanUp(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.${group}`);
  const result = await engine.applyAll(
    request([
      rendered({ apiVersion: "v1", kind: "Namespace", metadata: { name: fresh } }),
      rendered(configMap("fine", {}, fresh)),
      rendered(deployment("broken", "three", {}, fresh), "broken.yaml"),
      rendered(gadgetDefinition(group), "crd.yaml"),
      rendered({ apiVersion: `${group}/v1`, kind: "Gadget", metadata: { name: "g" }, spec: { size: "big" } }, "gadget.yaml"),
    ]),
  );
  assert.equal(result.failedPhase, "validation");
  assert.deepEqual(
    result.failures.map((problem) => `${problem.ref.kind}/${problem.ref.name} ${problem.source?.file}`),
    ["Deployment/broken broken.yaml", "Gadget/g gadget.yaml"],
  );
  assert.match(result.failures[0]?.message ?? "", /replicas/);
  assert.match(result.failures[1]?.message ?? "", /size/);
  assert.deepEqual(result.inventory.entries.map((entry) => entry.kind).sort(), ["CustomResourceDefinition", "Namespace"], "the prerequisites it applied are tracked for pruning");
  assert.ok(!(await exists(`/api/v1/namespaces/${fresh}/configmaps/fine`)), "nothing of the second stage was written");
});

test("applyAll: one invalid object fails validation and nothing is written, not even the reservation", async (t) => {
  const { namespace, engine, request, exists, counted } = await setup(t);
  let reserved = false;
  const reserve = () => {
    reserved = true;
    return Promise.resolve(true);
  };
  const { value: error, writes } = await counted(() =>
    rejection(engine.applyAll(request([rendered(configMap("fine")), rendered(deployment("broken", "three"), "apps/broken.yaml")], { reserve })), SyncError),
  );
  assert.equal(error.failure, "validation");
  assert.match(error.message, /1 object\(s\) failed server-side validation; nothing was changed/);
  assert.match(error.message, /Deployment\.apps\/[^ ]+\/broken \(apps\/broken\.yaml:1\): .*replicas/);
  assert.equal(writes, 0);
  assert.equal(reserved, false);
  assert.ok(!(await exists(`/api/v1/namespaces/${namespace}/configmaps/fine`)));
});

test("applyAll: an immutable field change is refused with the way out, and force recreates the object", async (t) => {
  const { namespace, engine, request, get } = await setup(t);
  const first = await engine.applyAll(request([rendered(job("migrate", "registry.example/migrate:1"), "job.yaml")]));
  const uid = (await get(`/apis/batch/v1/namespaces/${namespace}/jobs/migrate`)).metadata.uid;
  const changed = [rendered(job("migrate", "registry.example/migrate:2"), "job.yaml")];
  const refused = await rejection(engine.applyAll(request(changed, { previous: first.inventory })), SyncError);
  assert.equal(refused.failure, "validation");
  assert.match(refused.message, /Job\.batch\/[^ ]+\/migrate \(job\.yaml:1\): .*\(an immutable field changed: set force to delete and recreate the object\)/);
  assert.equal((await get(`/apis/batch/v1/namespaces/${namespace}/jobs/migrate`)).metadata.uid, uid, "refused: the Job is untouched");

  const forced = await engine.applyAll(request(changed, { previous: first.inventory, force: true }));
  assert.deepEqual(forced.changes.map((change) => [change.action, change.note]), [["configured", "recreated: an immutable field changed"]]);
  const recreated = await get(`/apis/batch/v1/namespaces/${namespace}/jobs/migrate`);
  assert.notEqual(recreated.metadata.uid, uid);
  assert.equal(((recreated.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers[0]?.image), "registry.example/migrate:2");
});

test("applyAll: adopting an object another manager created says so and whose fields it took; later drift names only the manager", async (t) => {
  const { client, namespace, owner, engine, request, get } = await setup(t);
  await client.request("POST", `/api/v1/namespaces/${namespace}/configmaps`, { query: { fieldManager: "kubectl-create" }, body: configMap("legacy", { mode: "slow" }) });
  const adopted = await engine.applyAll(request([rendered(configMap("legacy", { mode: "fast" }))]));
  assert.deepEqual(adopted.changes.map((change) => [change.action, change.note]), [["configured", "adopted: existed without fjord's labels; took field ownership from kubectl-create"]]);
  const live = await get(`/api/v1/namespaces/${namespace}/configmaps/legacy`);
  assert.deepEqual(live.data, { mode: "fast" });
  assert.equal(live.metadata.labels?.["fjord.dev/name"], owner.name);

  await engine.applyAll(request([rendered(deployment("web", 2))], { previous: adopted.inventory }));
  await client.request("PATCH", `/apis/apps/v1/namespaces/${namespace}/deployments/web`, {
    query: { fieldManager: "kubectl-scale" },
    body: { spec: { replicas: 5 } },
    contentType: "application/merge-patch+json",
  });
  const taken = await engine.applyAll(request([rendered(deployment("web", 2))], { previous: { entries: [{ group: "apps", kind: "Deployment", namespace, name: "web", version: "v1" }] } }));
  assert.deepEqual(taken.changes.map((change) => [change.action, change.note]), [["configured", "took field ownership from kubectl-scale"]]);
  assert.equal(((await get(`/apis/apps/v1/namespaces/${namespace}/deployments/web`)).spec as { replicas: number }).replicas, 2);
});

test("applyAll: unchanged objects cost no request beyond one LIST per resource type", async (t) => {
  const { engine, request, counted } = await setup(t);
  const objects = [rendered(configMap("a", { v: "1" })), rendered(configMap("b", { v: "1" })), rendered(deployment("web", 1))];
  const first = await counted(() => engine.applyAll(request(objects)));
  assert.deepEqual([first.reads, first.dryRuns, first.writes], [0, 3, 3], "a first sync lists nothing and reads no object: n dry runs, n applies");
  const second = await counted(() => engine.applyAll(request(objects, { previous: first.value.inventory })));
  assert.deepEqual(second.value.changes.map((change) => change.action), ["unchanged", "unchanged", "unchanged"]);
  assert.deepEqual([second.reads, second.dryRuns, second.writes], [2, 0, 0], "one LIST of ConfigMaps, one of Deployments; no dry run, no write");

  const edited = await counted(() => engine.applyAll(request([objects[0]!, rendered(configMap("b", { v: "2" })), objects[2]!], { previous: first.value.inventory })));
  assert.deepEqual(edited.value.changes.map((change) => `${change.ref.name} ${change.action}`), ["a unchanged", "b configured", "web unchanged"]);
  assert.deepEqual([edited.dryRuns, edited.writes], [1, 1], "only the edited object is dry-run and written");
});

test("diff: every object is dry-run for the server's view, nothing is written, and an object waiting for its Namespace is reported unvalidated", async (t) => {
  const { namespace, engine, request, exists, counted } = await setup(t);
  const applied = await engine.applyAll(request([rendered(configMap("a", { v: "1" })), rendered(configMap("b", { v: "1" }))]));
  const fresh = `${namespace}-never`;
  const { value: plan, dryRuns, writes } = await counted(() =>
    engine.diff(
      request(
        [
          rendered(configMap("a", { v: "1" })),
          rendered(configMap("b", { v: "2" })),
          rendered({ apiVersion: "v1", kind: "Namespace", metadata: { name: fresh } }),
          rendered(configMap("inside", {}, fresh)),
        ],
        { previous: applied.inventory },
      ),
      { everyObject: true },
    ),
  );
  assert.deepEqual(
    plan.changes.map((change) => `${change.ref.kind}/${change.ref.name} ${change.action}${change.note ? ` (${change.note})` : ""}`),
    // Ordered by identity: namespace "<test>-never" sorts before "<test>".
    [`ConfigMap/inside created (not validated: its namespace or CustomResourceDefinition does not exist yet)`, "ConfigMap/a unchanged", "ConfigMap/b configured", `Namespace/${fresh} created`],
  );
  const b = plan.states.find((state) => state.prepared.ref.name === "b");
  assert.deepEqual([b?.live?.data, b?.result?.data], [{ v: "1" }, { v: "2" }], "live and dry-run result side by side for the diff");
  assert.equal(dryRuns, 3, "a, b and the Namespace; the object inside it cannot be dry-run yet");
  assert.equal(writes, 0);
  assert.ok(!(await exists(`/api/v1/namespaces/${fresh}`)));
});

test("prune: namespaced objects, then cluster-scoped ones, then Namespaces, CRDs last; never one annotated fjord.dev/prune: disabled", async (t) => {
  const { namespace, owner, engine, request, exists, cleanUp } = await setup(t);
  const group = `e${namespace.slice(-6)}.example.com`;
  const fresh = `${namespace}-gone`;
  const role = `${namespace}-reader`;
  cleanUp(`/api/v1/namespaces/${fresh}`);
  cleanUp(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.${group}`);
  cleanUp(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${role}`);
  const keep = configMap("keep");
  keep.metadata.annotations = { "fjord.dev/prune": "disabled" };
  const applied = await engine.applyAll(
    request([
      rendered(gadgetDefinition(group)),
      rendered({ apiVersion: "v1", kind: "Namespace", metadata: { name: fresh } }),
      rendered({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: role }, rules: [] }),
      rendered(configMap("inside", {}, fresh)),
      rendered(keep),
    ]),
  );
  assert.deepEqual(applied.failures, []);
  const pruned = await engine.prune(applied.inventory.entries, owner);
  assert.deepEqual(pruned.failures, []);
  const steps = pruned.changes.map((change) => `${change.ref.kind} ${change.action}`);
  assert.deepEqual(steps.slice(0, 2).sort(), ["ConfigMap deleted", "ConfigMap skipped"], "namespaced objects first");
  assert.deepEqual(steps.slice(2), ["ClusterRole deleted", "Namespace deleted", "CustomResourceDefinition deleted"], "cluster objects next, then Namespaces, CRDs last");
  const skipped = pruned.changes.find((change) => change.action === "skipped");
  assert.deepEqual([skipped?.ref.name, skipped?.note], ["keep", "not pruned: annotated fjord.dev/prune: disabled"]);
  assert.ok(await exists(`/api/v1/namespaces/${namespace}/configmaps/keep`));
  assert.ok(!(await exists(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${role}`)));
  assert.deepEqual(pruned.remaining, []);
});

test("prune: a failed delete is named and stays in the inventory's remaining entries", async (t) => {
  const { client, namespace, owner, engine, request, exists } = await setup(t);
  const applied = await engine.applyAll(request([rendered(configMap("a")), rendered(configMap("b"))]));
  await client.request("POST", `/api/v1/namespaces/${namespace}/serviceaccounts`, { body: { metadata: { name: "no-delete" } } });
  await grantRole(client, namespace, "no-delete", "no-delete", [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create", "patch", "update"] }]);
  const restricted = client.impersonating(`system:serviceaccount:${namespace}:no-delete`);
  t.after(() => restricted.close());
  const stale = applied.inventory.entries.filter((entry) => entry.name === "b");
  const pruned = await new ApplyEngine(restricted, new Discovery(restricted)).prune(stale, owner);
  assert.deepEqual(pruned.remaining.map((entry) => entry.name), ["b"]);
  assert.equal(pruned.failures.length, 1);
  assert.match(pruned.failures[0]?.message ?? "", /^delete failed: .*forbidden/i);
  assert.ok(await exists(`/api/v1/namespaces/${namespace}/configmaps/b`));
});

test("wait: healthy objects pass; on timeout it names each object that is not ready, with its file, and only those", async (t) => {
  const { engine, owner, request } = await setup(t);
  const ready = await engine.applyAll(request([rendered(deployment("web", 1), "web.yaml"), rendered(configMap("fine"))]));
  await engine.wait(ready.states, { timeoutMs: 60_000, owner });

  const stuck = await engine.applyAll(request([rendered(deployment("stuck", 1, { nodeSelector: { "fjord.dev/no-such-node": "true" } }), "stuck.yaml"), rendered(configMap("fine"))], { previous: ready.inventory }));
  const error = await rejection(engine.wait(stuck.states, { timeoutMs: 3000, owner }), SyncError);
  assert.equal(error.failure, "health");
  assert.match(error.message, /^timed out after 3s waiting for 1 object\(s\) to become ready/);
  assert.match(error.message, /Deployment\.apps\/[^ ]+\/stuck \(stuck\.yaml:1\): InProgress/);
  assert.doesNotMatch(error.message, /ConfigMap/);
});
