import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test, type TestContext } from "node:test";
import { installCustomResourceDefinitions } from "../src/controller/crd-install.ts";
import type { Application, GitRepository } from "../src/api/types.ts";
import { reconcileApplication } from "../src/controller/application-reconciler.ts";
import { EventRecorder } from "../src/controller/events.ts";
import { reconcileGitRepository } from "../src/controller/git-repository-reconciler.ts";
import { Tenancy } from "../src/controller/tenancy.ts";
import { KubeClient } from "../src/kube/client.ts";
import { isNotFound } from "../src/kube/errors.ts";
import type { KubeObject } from "../src/model/object.ts";
import { createTestNamespace, useCluster } from "./support/cluster.ts";
import { grantRole } from "./support/rbac.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";

let git: GitServer;
let client: KubeClient;
let cacheDir: string;

before(async () => {
  const cluster = await useCluster();
  client = KubeClient.load({ kubeconfig: cluster.kubeconfigPath });
  await installCustomResourceDefinitions(client);
  git = await startGitServer();
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "fjord-app-cache-"));
});
after(async () => {
  client.close();
  await git.close();
  await rm(cacheDir, { recursive: true, force: true });
});

const api = "/apis/fjord.dev/v1alpha1";
const configMap = (name: string, value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  value: "${value}"\n`;

async function get<T extends KubeObject>(apiPath: string): Promise<T | undefined> {
  return client.request<T>("GET", apiPath).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
}

/** A namespace with a GitRepository `source` over a fresh repo, and helpers to reconcile both. */
async function fixture(t: TestContext, files: Record<string, string>) {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = `app-${namespace}`;
  await git.createRepo(repo);
  await git.commitFiles(repo, files, { message: "initial", author: { name: "Grace", email: "grace@example.com" } });
  await client.request("POST", `${api}/namespaces/${namespace}/gitrepositories`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "source" }, spec: { url: git.repoUrl(repo) } },
  });
  const createApp = (name: string, spec: Record<string, unknown>) =>
    client.request("POST", `${api}/namespaces/${namespace}/applications`, {
      body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name }, spec: { sourceRef: { kind: "GitRepository", name: "source" }, path: "./", ...spec } },
    });
  const readApp = async (name: string) => (await get<Application>(`${api}/namespaces/${namespace}/applications/${name}`)) as Application;
  const syncSource = async () => reconcileGitRepository(client, (await get<GitRepository>(`${api}/namespaces/${namespace}/gitrepositories/source`)) as GitRepository, { cacheDir });
  const syncApp = async (name: string) => reconcileApplication(client, await readApp(name), { cacheDir });
  const commit = (changes: Record<string, string | null>, message: string) => git.commitFiles(repo, changes, { message });
  return { namespace, createApp, readApp, syncSource, syncApp, commit };
}

const ready = (app: Application) => app.status?.conditions?.find((condition) => condition.type === "Ready");

test("an Application applies its source's commit, records it, and prunes what leaves Git", async (t) => {
  const { namespace, createApp, readApp, syncSource, syncApp, commit } = await fixture(t, { "a.yaml": configMap("a", "1"), "b.yaml": configMap("b", "1") });
  await createApp("web", { prune: true });
  await syncSource();
  const outcome = await syncApp("web");
  assert.equal(outcome.report.ready, true);
  assert.equal(outcome.intervalMs, 600_000, "the Application's default interval, 10m");
  assert.deepEqual(outcome.changes?.map((change) => change.action), ["created", "created"]);

  let app = await readApp("web");
  assert.equal(ready(app)?.status, "True");
  assert.match(app.status?.lastAppliedRevision ?? "", /^main@sha1:[0-9a-f]{40}$/);
  assert.deepEqual(app.status?.inventory?.entries.map((entry) => entry.id).sort(), [`${namespace}_a__ConfigMap`, `${namespace}_b__ConfigMap`]);
  assert.equal(app.status?.history?.[0]?.author, "Grace <grace@example.com>");
  assert.deepEqual(app.status?.history?.[0]?.summary, { created: 2, configured: 0, deleted: 0, unchanged: 0 });
  assert.ok((app.metadata.finalizers as string[]).includes("finalizers.fjord.dev"));
  assert.ok(await get(`/api/v1/namespaces/${namespace}/configmaps/a`));

  await commit({ "b.yaml": null, "a.yaml": configMap("a", "2") }, "drop b, change a");
  await syncSource();
  await syncApp("web");
  app = await readApp("web");
  assert.deepEqual(app.status?.history?.[0]?.summary, { created: 0, configured: 1, deleted: 1, unchanged: 0 });
  assert.equal(app.status?.history?.length, 2);
  assert.equal(await get(`/api/v1/namespaces/${namespace}/configmaps/b`), undefined, "pruned");
  assert.equal(((await get(`/api/v1/namespaces/${namespace}/configmaps/a`))?.data as Record<string, string>).value, "2");
});

test("a bad commit sets Ready=False naming the object and file, and leaves what runs untouched", async (t) => {
  const { namespace, createApp, readApp, syncSource, syncApp, commit } = await fixture(t, { "a.yaml": configMap("a", "1") });
  await createApp("web", { prune: true });
  await syncSource();
  await syncApp("web");
  const good = (await readApp("web")).status?.lastAppliedRevision;

  await commit({ "a.yaml": configMap("a", "2"), "bad.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bad\nspec:\n  replicas: lots\n" }, "broken");
  await syncSource();
  const outcome = await syncApp("web");
  assert.equal(outcome.report.ready, false);
  const app = await readApp("web");
  assert.equal(ready(app)?.status, "False");
  assert.equal(ready(app)?.reason, "ValidationFailed");
  assert.match(ready(app)?.message ?? "", /Deployment\.apps\/[^ ]+\/bad \(bad\.yaml:1\)/);
  assert.equal(app.status?.lastAppliedRevision, good, "the last applied revision is still the good one");
  assert.notEqual(app.status?.lastAttemptedRevision, good);
  assert.equal(app.status?.history?.[0]?.result, "Failed");
  assert.equal(((await get(`/api/v1/namespaces/${namespace}/configmaps/a`))?.data as Record<string, string>).value, "1", "nothing was applied");
});

test("attack 12: a YAML error in a Secret never reaches the Application's status or Events", async (t) => {
  const password = "hunter2-Sesame-4e1a";
  const { namespace, createApp, readApp, syncSource } = await fixture(t, {
    // A stray colon on the password's line: the error points there.
    "secret.yaml": `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: ${password} x: y\n  user: admin\n`,
  });
  await createApp("web", {});
  await syncSource();
  const events = new EventRecorder(client);
  const outcome = await reconcileApplication(client, await readApp("web"), { cacheDir, events });
  assert.equal(outcome.report.ready, false);
  const condition = ready(await readApp("web"));
  assert.equal(condition?.reason, "RenderFailed");
  assert.match(condition?.message ?? "", /^secret\.yaml:\d+:\d+: malformed YAML/, "the file, line and column are still named");
  const recorded = await client.request<{ items: Array<{ message?: string; reason?: string }> }>("GET", `/api/v1/namespaces/${namespace}/events`);
  assert.ok(recorded.items.some((event) => event.reason === "RenderFailed"), "the failure was recorded as an Event");
  const everything = JSON.stringify({ status: (await readApp("web")).status, events: recorded.items });
  assert.ok(!everything.includes(password), `the status or an Event quotes the Secret: ${condition?.message ?? ""}`);
});

test("an Application waits for the Applications it depends on", async (t) => {
  const { createApp, readApp, syncSource, syncApp } = await fixture(t, { "first/a.yaml": configMap("a", "1"), "second/b.yaml": configMap("b", "1") });
  await createApp("first", { path: "./first" });
  await createApp("second", { path: "./second", dependsOn: [{ name: "first" }] });
  await syncSource();
  assert.equal((await syncApp("second")).report.ready, false);
  assert.equal(ready(await readApp("second"))?.reason, "DependencyNotReady");
  await syncApp("first");
  assert.equal((await syncApp("second")).report.ready, true);
});

test("deleting an Application with prune deletes what it applied, then releases it", async (t) => {
  const { namespace, createApp, readApp, syncSource, syncApp } = await fixture(t, { "a.yaml": configMap("a", "1") });
  await createApp("web", { prune: true });
  await syncSource();
  await syncApp("web");
  await client.request("DELETE", `${api}/namespaces/${namespace}/applications/web`);
  const terminating = await readApp("web");
  assert.ok(terminating.metadata.deletionTimestamp, "the finalizer holds it");
  await reconcileApplication(client, terminating, { cacheDir });
  assert.equal(await get(`/api/v1/namespaces/${namespace}/configmaps/a`), undefined);
  assert.equal(await get(`${api}/namespaces/${namespace}/applications/web`), undefined);
});

test("an Application applies as its ServiceAccount, which may only do what RBAC grants it", async (t) => {
  const { namespace, createApp, readApp, syncSource, syncApp } = await fixture(t, { "a.yaml": configMap("a", "1") });
  await client.request("POST", `/api/v1/namespaces/${namespace}/serviceaccounts`, { body: { metadata: { name: "deployer" } } });
  await createApp("restricted", { serviceAccountName: "deployer" });
  await syncSource();
  assert.equal((await syncApp("restricted")).report.ready, false);
  const condition = ready(await readApp("restricted"));
  assert.equal(condition?.status, "False");
  assert.match(condition?.message ?? "", new RegExp(`system:serviceaccount:${namespace}:deployer`));
  assert.match(condition?.message ?? "", /forbidden/i);
  assert.equal(await get(`/api/v1/namespaces/${namespace}/configmaps/a`), undefined, "nothing was applied");

  // Granting the ServiceAccount ConfigMap rights in its namespace is enough.
  await grantRole(client, namespace, "deployer", "deployer", [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create", "patch", "update", "delete"] }]);
  assert.equal((await syncApp("restricted")).report.ready, true, JSON.stringify(ready(await readApp("restricted"))));
  assert.ok(await get(`/api/v1/namespaces/${namespace}/configmaps/a`));
});

test("healthChecks hold Ready until objects the Application does not manage are healthy, naming them", async (t) => {
  const { namespace, createApp, readApp, syncSource, syncApp } = await fixture(t, { "a.yaml": configMap("a", "1") });
  // Created by someone else (an operator, say): fjord only watches it.
  await client.request("POST", `/apis/apps/v1/namespaces/${namespace}/deployments`, {
    body: {
      metadata: { name: "operator-made" },
      spec: {
        selector: { matchLabels: { app: "operator-made" } },
        template: { metadata: { labels: { app: "operator-made" } }, spec: { nodeSelector: { "fjord.dev/no-such-node": "true" }, containers: [{ name: "app", image: "registry.example/app:1" }] } },
      },
    },
  });
  await createApp("checked", { timeout: "3s", healthChecks: [{ apiVersion: "apps/v1", kind: "Deployment", name: "operator-made", namespace }] });
  await syncSource();
  assert.equal((await syncApp("checked")).report.ready, false);
  const condition = ready(await readApp("checked"));
  assert.equal(condition?.reason, "HealthCheckFailed");
  assert.match(condition?.message ?? "", /Deployment\.apps\/[^ ]+\/operator-made/);
  assert.ok(await get(`/api/v1/namespaces/${namespace}/configmaps/a`), "the sync itself was applied");

  await client.request("PATCH", `/apis/apps/v1/namespaces/${namespace}/deployments/operator-made`, {
    body: { spec: { template: { spec: { nodeSelector: null } } } },
    contentType: "application/merge-patch+json",
  });
  await createApp("unknown-kind", { timeout: "3s", healthChecks: [{ apiVersion: "example.com/v1", kind: "Widget", name: "w", namespace }] });
  assert.equal((await syncApp("unknown-kind")).report.ready, false);
  assert.match(ready(await readApp("unknown-kind"))?.message ?? "", /Widget w of example\.com\/v1, which this cluster does not serve/);
});

test("a GitRepository in another namespace is refused unless the controller allows it", async (t) => {
  const { namespace, syncSource } = await fixture(t, { "a.yaml": configMap("a", "1") });
  await syncSource();
  const tenant = await createTestNamespace(await useCluster(), t);
  await client.request("POST", `${api}/namespaces/${tenant}/applications`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "borrower" }, spec: { sourceRef: { kind: "GitRepository", name: "source", namespace }, path: "./" } },
  });
  const read = async () => (await get<Application>(`${api}/namespaces/${tenant}/applications/borrower`)) as Application;
  assert.equal((await reconcileApplication(client, await read(), { cacheDir })).report.ready, false);
  assert.match(ready(await read())?.message ?? "", /cross-namespace source references are not allowed.*--allow-cross-namespace-sources/);
  assert.equal(await get(`/api/v1/namespaces/${tenant}/configmaps/a`), undefined);

  assert.equal((await reconcileApplication(client, await read(), { cacheDir, tenancy: new Tenancy({ allowCrossNamespaceSources: true }) })).report.ready, true);
  assert.ok(await get(`/api/v1/namespaces/${tenant}/configmaps/a`));
});
