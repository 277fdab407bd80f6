import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Application, GitRepository } from "../src/api/types.ts";
import { needsReconcile } from "../src/controller/controller.ts";
import type { KubeClient } from "../src/kube/client.ts";
import { isNotFound } from "../src/kube/errors.ts";
import type { KubeObject } from "../src/model/object.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";
import { startInProcessController, suiteLabels, type InProcessController } from "./support/in-process-controller.ts";
import { requestReconcile } from "./support/reconcile-request.ts";

const SUITE = suiteLabels("controller");

let git: GitServer;
let client: KubeClient;
let controller: InProcessController;

before(async () => {
  controller = await startInProcessController("controller");
  client = controller.client;
  git = await startGitServer();
});
after(async () => {
  await controller.stop();
  await git.close();
});

const api = "/apis/fjord.dev/v1alpha1";

async function get<T extends KubeObject>(apiPath: string): Promise<T | undefined> {
  return client.request<T>("GET", apiPath).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
}

test("the controller applies a new commit without anyone asking, and records it", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = `ctl-${namespace}`;
  await git.createRepo(repo);
  const first = await git.commitFiles(repo, { "app/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: one\n" }, { message: "one" });
  await client.request("POST", `${api}/namespaces/${namespace}/gitrepositories`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "source", labels: SUITE }, spec: { url: git.repoUrl(repo), interval: "1s" } },
  });
  await client.request("POST", `${api}/namespaces/${namespace}/applications`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "app", labels: SUITE }, spec: { sourceRef: { kind: "GitRepository", name: "source" }, path: "./app", prune: true } },
  });
  const appPath = `${api}/namespaces/${namespace}/applications/app`;
  const readyAt = async (commit: string) => {
    const app = await get<Application>(appPath);
    return app?.status?.lastAppliedRevision === `main@sha1:${commit}` && app.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? app : undefined;
  };
  await eventually(() => readyAt(first), { timeoutMs: 30_000, describe: async () => JSON.stringify((await get<Application>(appPath))?.status) });
  assert.equal(((await get(`/api/v1/namespaces/${namespace}/configmaps/settings`))?.data as Record<string, string>).mode, "one");

  const second = await git.commitFiles(repo, { "app/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: two\n" }, { message: "two" });
  const app = await eventually(() => readyAt(second), { timeoutMs: 30_000, describe: async () => JSON.stringify((await get<Application>(appPath))?.status) });
  assert.equal(((await get(`/api/v1/namespaces/${namespace}/configmaps/settings`))?.data as Record<string, string>).mode, "two");
  assert.equal(app.status?.history?.[0]?.message, "two");
  assert.deepEqual(app.status?.history?.[0]?.summary, { created: 0, configured: 1, deleted: 0, unchanged: 0 });
});

test("only spec, deletion and annotation changes trigger a reconcile, never status or finalizer writes", () => {
  const base: KubeObject = { apiVersion: "v1", kind: "X", metadata: { name: "a", generation: 1, annotations: {} }, status: { ready: false } };
  assert.equal(needsReconcile(undefined, base), true);
  assert.equal(needsReconcile(base, { ...base, status: { ready: true }, metadata: { ...base.metadata, resourceVersion: "9" } }), false);
  assert.equal(needsReconcile(base, { ...base, metadata: { ...base.metadata, generation: 2 } }), true);
  assert.equal(needsReconcile(base, { ...base, metadata: { ...base.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } }), true);
  assert.equal(needsReconcile(base, { ...base, metadata: { ...base.metadata, annotations: { "fjord.dev/reconcile": "now" } } }), true);
  // Regression: adding the finalizer made every new Application reconcile twice.
  assert.equal(needsReconcile(base, { ...base, metadata: { ...base.metadata, finalizers: ["finalizers.fjord.dev"] } }), false);
});

test("drift by edit and by delete is reverted within seconds and recorded with who did it", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = `drift-${namespace}`;
  await git.createRepo(repo);
  await git.commitFiles(repo, { "app/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: gitops\n" }, { message: "settings" });
  await client.request("POST", `${api}/namespaces/${namespace}/gitrepositories`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "source", labels: SUITE }, spec: { url: git.repoUrl(repo), interval: "1h" } },
  });
  await client.request("POST", `${api}/namespaces/${namespace}/applications`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "app", labels: SUITE }, spec: { sourceRef: { kind: "GitRepository", name: "source" }, path: "./app", interval: "1h" } },
  });
  const cmPath = `/api/v1/namespaces/${namespace}/configmaps/settings`;
  const mode = async () => ((await get(cmPath))?.data as Record<string, string> | undefined)?.mode;
  await eventually(async () => isReady(await get<Application>(`${api}/namespaces/${namespace}/applications/app`)), { timeoutMs: 30_000 });
  assert.equal(await mode(), "gitops");

  // `kubectl edit`: an update by another field manager. (Made at once: an edit carries its time,
  // so one made before the drift watch has listed shows in its first list.)
  const edited = Date.now();
  await client.request("PATCH", cmPath, { query: { fieldManager: "kubectl-edit" }, body: { data: { mode: "hand-edited" } }, contentType: "application/merge-patch+json" });
  await eventually(async () => (await mode()) === "gitops", { timeoutMs: 20_000 });
  const editRevertMs = Date.now() - edited;

  // The revert was seen through the drift watch, so it is listening: a deletion has no time to
  // show in a later list, it needs the watch. Wait for the revert's sync to be on record, so the
  // deletion is not taken for that sync's own prune.
  await eventually(async () => (await get<Application>(`${api}/namespaces/${namespace}/applications/app`))?.status?.history?.some((record) => record.driftReverts?.length), { timeoutMs: 20_000 });
  const deleted = Date.now();
  await client.request("DELETE", cmPath);
  await eventually(async () => (await mode()) === "gitops", { timeoutMs: 20_000 });
  const deleteRevertMs = Date.now() - deleted;
  // Well under a second on an idle machine; generous here because CI runs test files in parallel.
  assert.ok(editRevertMs < 15_000 && deleteRevertMs < 15_000, `reverted in ${editRevertMs} ms and ${deleteRevertMs} ms`);

  const app = await eventually(async () => {
    const current = await get<Application>(`${api}/namespaces/${namespace}/applications/app`);
    return (current?.status?.history ?? []).filter((record) => record.driftReverts?.length).length >= 2 ? current : undefined;
  }, { timeoutMs: 20_000 });
  const reverts = (app.status?.history ?? []).flatMap((record) => record.driftReverts ?? []);
  assert.ok(reverts.some((revert) => revert.changedBy === "kubectl-edit" && /ConfigMap\/[^/]+\/settings/.test(revert.object)), JSON.stringify(reverts));
  assert.ok(reverts.some((revert) => revert.changedBy === "deleted by someone"), JSON.stringify(reverts));
});

interface EventItem {
  reason: string;
  type: string;
  message: string;
  count?: number;
  involvedObject: { kind: string; name: string };
  source?: { component?: string };
}

async function eventsFor(namespace: string, kind: string, name: string): Promise<EventItem[]> {
  const list = await client.request<{ items: EventItem[] }>("GET", `/api/v1/namespaces/${namespace}/events`);
  return list.items.filter((event) => event.involvedObject.kind === kind && event.involvedObject.name === name && event.source?.component === "fjord-controller");
}

/** A namespace with a repository `source` and an Application `app` over its `app/` directory. */
async function appFixture(t: Parameters<typeof createTestNamespace>[1], files: Record<string, string>, appSpec: Record<string, unknown> = {}) {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = `fx-${namespace}`;
  await git.createRepo(repo);
  await git.commitFiles(repo, files, { message: "initial" });
  await client.request("POST", `${api}/namespaces/${namespace}/gitrepositories`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "source", labels: SUITE }, spec: { url: git.repoUrl(repo), interval: "1h" } },
  });
  await client.request("POST", `${api}/namespaces/${namespace}/applications`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "app", labels: SUITE }, spec: { sourceRef: { kind: "GitRepository", name: "source" }, path: "./app", interval: "1h", ...appSpec } },
  });
  const appPath = `${api}/namespaces/${namespace}/applications/app`;
  const readApp = async () => (await get<Application>(appPath)) as Application;
  const describe = async () => JSON.stringify((await get<Application>(appPath))?.status);
  return { namespace, repo, appPath, sourcePath: `${api}/namespaces/${namespace}/gitrepositories/source`, readApp, describe, requestReconcile: (resourcePath: string) => requestReconcile(client, resourcePath) };
}

const settings = (mode: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: ${mode}\n`;
const isReady = (app: Application | undefined) => app?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;

test("a reconcile request is handled at once, and Events are written only when something changed", async (t) => {
  const fx = await appFixture(t, { "app/settings.yaml": settings("one") });
  await eventually(async () => isReady(await fx.readApp()), { timeoutMs: 30_000, describe: fx.describe });
  const applied = await eventually(async () => {
    const events = await eventsFor(fx.namespace, "Application", "app");
    return events.find((event) => event.reason === "ReconciliationSucceeded");
  }, { timeoutMs: 10_000 });
  assert.match(applied.message, /Applied revision main@sha1:[0-9a-f]{40}: 1 created, 0 configured, 0 deleted/);
  assert.ok((await eventsFor(fx.namespace, "GitRepository", "source")).some((event) => event.reason === "NewArtifact" && /initial/.test(event.message)));

  // Nothing changed: the request is handled, and no Event is added.
  const before = JSON.stringify(await eventsFor(fx.namespace, "Application", "app"));
  const request = await fx.requestReconcile(fx.appPath);
  await eventually(async () => (await fx.readApp()).status?.lastHandledReconcileAt === request, { timeoutMs: 20_000, describe: fx.describe });
  assert.equal(JSON.stringify(await eventsFor(fx.namespace, "Application", "app")), before);

  // A new commit with an interval of 1h: a request on the source brings it in at once.
  await git.commitFiles(fx.repo, { "app/settings.yaml": settings("two") }, { message: "two" });
  const sourceRequest = await fx.requestReconcile(fx.sourcePath);
  await eventually(async () => (await get<GitRepository>(fx.sourcePath))?.status?.lastHandledReconcileAt === sourceRequest, { timeoutMs: 20_000 });
  await eventually(async () => (await fx.readApp()).status?.history?.[0]?.message === "two", { timeoutMs: 20_000, describe: fx.describe });
  const changed = await eventually(async () => (await eventsFor(fx.namespace, "Application", "app")).find((event) => /1 configured/.test(event.message)), { timeoutMs: 10_000 });
  assert.equal(changed.type, "Normal");
});

test("with selfHeal off, drift is reported in status and as an Event, and left in place", async (t) => {
  const fx = await appFixture(t, { "app/settings.yaml": settings("gitops") }, { selfHeal: false });
  await eventually(async () => isReady(await fx.readApp()), { timeoutMs: 30_000, describe: fx.describe });
  const cmPath = `/api/v1/namespaces/${fx.namespace}/configmaps/settings`;
  // Made at once: an edit carries its time, so one made before the drift watch has listed shows in its first list.
  await client.request("PATCH", cmPath, { query: { fieldManager: "kubectl-edit" }, body: { data: { mode: "hand-edited" } }, contentType: "application/merge-patch+json" });
  const app = await eventually(async () => {
    const current = await fx.readApp();
    return current.status?.drift?.length ? current : undefined;
  }, { timeoutMs: 20_000, describe: fx.describe });
  assert.equal(app.status?.drift?.[0]?.changedBy, "kubectl-edit");
  assert.match(app.status?.drift?.[0]?.object ?? "", /ConfigMap\/[^/]+\/settings/);
  const warning = await eventually(async () => (await eventsFor(fx.namespace, "Application", "app")).find((event) => event.reason === "DriftDetected"), { timeoutMs: 10_000 });
  assert.equal(warning.type, "Warning");
  // The one wait that is the point: a revert would follow the report within the 250 ms drift
  // debounce plus one sync of one ConfigMap; nothing must happen in four times that debounce.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal(((await get(cmPath))?.data as Record<string, string>).mode, "hand-edited", "not reverted");

  // The next sync (here a manual one) puts Git back and clears the report.
  await fx.requestReconcile(fx.appPath);
  await eventually(async () => ((await get(cmPath))?.data as Record<string, string>).mode === "gitops" && (await fx.readApp()).status?.drift?.length === 0, { timeoutMs: 20_000, describe: fx.describe });
});

test("a new revision ends a health wait still in progress instead of waiting for its timeout", async (t) => {
  const stuck = `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      nodeSelector: {fjord.dev/no-such-node: "true"}\n      containers: [{name: app, image: registry.example/app:1}]\n`;
  const fx = await appFixture(t, { "app/web.yaml": stuck }, { wait: true, timeout: "10m" });
  await eventually(async () => (await get(`/apis/apps/v1/namespaces/${fx.namespace}/deployments/web`)) !== undefined, { timeoutMs: 30_000 });
  const fixed = await git.commitFiles(fx.repo, { "app/web.yaml": stuck.replace(/ {6}nodeSelector.*\n/, "") }, { message: "schedulable" });
  await fx.requestReconcile(fx.sourcePath);
  // Well within the stuck sync's 10-minute health timeout.
  await eventually(async () => {
    const app = await fx.readApp();
    return app.status?.lastAppliedRevision === `main@sha1:${fixed}` && isReady(app);
  }, { timeoutMs: 90_000, describe: fx.describe });
  const history = (await fx.readApp()).status?.history ?? [];
  const superseded = history.find((record) => record.result === "Failed");
  assert.ok(superseded, `the superseded sync is on record: ${JSON.stringify(history)}`);
  assert.notEqual(superseded.revision, `main@sha1:${fixed}`, "it is the stuck revision's sync");
  // It ended because of the new revision, not its timeout nor anything else.
  const cancelled = await eventually(async () => (await eventsFor(fx.namespace, "Application", "app")).find((event) => event.message.includes(`the health wait was cancelled: superseded by revision main@sha1:${fixed}`)), {
    timeoutMs: 10_000,
    describe: async () => JSON.stringify((await eventsFor(fx.namespace, "Application", "app")).map((event) => event.message)),
  });
  assert.equal(cancelled.type, "Warning");
});
