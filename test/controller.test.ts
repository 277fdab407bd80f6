import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { Application } from "../src/api/types.ts";
import { needsReconcile, runController } from "../src/controller/controller.ts";
import { KubeClient } from "../src/kube/client.ts";
import { isNotFound } from "../src/kube/errors.ts";
import type { KubeObject } from "../src/model/object.ts";
import { createLogger } from "../src/util/logger.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";

let git: GitServer;
let client: KubeClient;
let cacheDir: string;
const stop = new AbortController();
let running: Promise<void>;

before(async () => {
  const cluster = await useCluster();
  client = KubeClient.load({ kubeconfig: cluster.kubeconfigPath });
  git = await startGitServer();
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "fjord-controller-cache-"));
  const logger = createLogger("controller");
  logger.level = "warn";
  running = runController({ client, logger, cacheDir }, stop.signal);
});
after(async () => {
  stop.abort();
  await running;
  client.close();
  await git.close();
  await rm(cacheDir, { recursive: true, force: true });
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
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "source" }, spec: { url: git.repoUrl(repo), interval: "1s" } },
  });
  await client.request("POST", `${api}/namespaces/${namespace}/applications`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "app" }, spec: { sourceRef: { kind: "GitRepository", name: "source" }, path: "./app", prune: true } },
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

test("only spec, deletion, annotation and finalizer changes trigger a reconcile, never status writes", () => {
  const base: KubeObject = { apiVersion: "v1", kind: "X", metadata: { name: "a", generation: 1, annotations: {} }, status: { ready: false } };
  assert.equal(needsReconcile(undefined, base), true);
  assert.equal(needsReconcile(base, { ...base, status: { ready: true }, metadata: { ...base.metadata, resourceVersion: "9" } }), false);
  assert.equal(needsReconcile(base, { ...base, metadata: { ...base.metadata, generation: 2 } }), true);
  assert.equal(needsReconcile(base, { ...base, metadata: { ...base.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } }), true);
  assert.equal(needsReconcile(base, { ...base, metadata: { ...base.metadata, annotations: { "fjord.dev/reconcile": "now" } } }), true);
});

test("drift by edit and by delete is reverted within seconds and recorded with who did it", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = `drift-${namespace}`;
  await git.createRepo(repo);
  await git.commitFiles(repo, { "app/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: gitops\n" }, { message: "settings" });
  await client.request("POST", `${api}/namespaces/${namespace}/gitrepositories`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "source" }, spec: { url: git.repoUrl(repo), interval: "1h" } },
  });
  await client.request("POST", `${api}/namespaces/${namespace}/applications`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "app" }, spec: { sourceRef: { kind: "GitRepository", name: "source" }, path: "./app", interval: "1h" } },
  });
  const cmPath = `/api/v1/namespaces/${namespace}/configmaps/settings`;
  const mode = async () => ((await get(cmPath))?.data as Record<string, string> | undefined)?.mode;
  await eventually(async () => (await mode()) === "gitops", { timeoutMs: 30_000 });
  // The drift watch is armed right after the reconcile that applied it.
  await new Promise((resolve) => setTimeout(resolve, 3000));

  // `kubectl edit`: an update by another field manager.
  const edited = Date.now();
  await client.request("PATCH", cmPath, { query: { fieldManager: "kubectl-edit" }, body: { data: { mode: "hand-edited" } }, contentType: "application/merge-patch+json" });
  await eventually(async () => (await mode()) === "gitops", { timeoutMs: 20_000 });
  const editRevertMs = Date.now() - edited;

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
