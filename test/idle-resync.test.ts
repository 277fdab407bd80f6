// A resync that changes nothing, against the real API server: the Application reconciler reads
// the live objects and their health from the drift watches' cache, so it lists nothing, opens no
// watch and dry-runs nothing; drift the watches saw, an edit or a deletion, is still reverted.
// Every request the reconcile makes goes through a request log on the real client.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test, type TestContext } from "node:test";
import type { Application, GitRepository } from "../src/api/types.ts";
import { reconcileApplication } from "../src/controller/application-reconciler.ts";
import { installCustomResourceDefinitions } from "../src/controller/crd-install.ts";
import { DriftWatcher, type DriftEvent } from "../src/controller/drift-watch.ts";
import { reconcileGitRepository } from "../src/controller/git-repository-reconciler.ts";
import { KubeClient } from "../src/kube/client.ts";
import { Discovery } from "../src/kube/discovery.ts";
import type { KubeObject } from "../src/model/object.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";
import { logRequests, type LoggedRequest } from "./support/request-log.ts";

let git: GitServer;
let admin: KubeClient;
let cacheDir: string;

before(async () => {
  const cluster = await useCluster();
  admin = KubeClient.load({ kubeconfig: cluster.kubeconfigPath });
  await installCustomResourceDefinitions(admin);
  git = await startGitServer();
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "fjord-idle-cache-"));
});
after(async () => {
  admin.close();
  await git.close();
  await rm(cacheDir, { recursive: true, force: true });
});

const api = "/apis/fjord.dev/v1alpha1";
const MANIFESTS = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: gitops
---
apiVersion: v1
kind: Secret
metadata:
  name: token
data:
  token: c2VjcmV0
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: app
          image: registry.example/web:1
`;

/**
 * An Application `web` (wait: true) over a repository of a ConfigMap, a Secret and a
 * Deployment, a DriftWatcher as the controller keeps it, and a reconcile that, as the
 * controller's does, hands the watcher to the sync and tracks the inventory afterwards.
 */
async function fixture(t: TestContext) {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = `idle-${namespace}`;
  await git.createRepo(repo);
  await git.commitFiles(repo, { "manifests.yaml": MANIFESTS }, { message: "initial" });
  await admin.request("POST", `${api}/namespaces/${namespace}/gitrepositories`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "source" }, spec: { url: git.repoUrl(repo) } },
  });
  await admin.request("POST", `${api}/namespaces/${namespace}/applications`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "web" }, spec: { sourceRef: { kind: "GitRepository", name: "source" }, path: "./", wait: true, timeout: "2m" } },
  });
  await reconcileGitRepository(admin, await admin.request<GitRepository>("GET", `${api}/namespaces/${namespace}/gitrepositories/source`), { cacheDir });

  const log = logRequests(admin);
  const discovery = new Discovery(log.client);
  const drift: DriftEvent[] = [];
  const owner = { name: "web", namespace };
  let lastStart = new Date().toISOString();
  const watcher = new DriftWatcher(log.client, discovery, { onDrift: (_owner, event) => drift.push(event), syncing: () => false });
  t.after(() => watcher.close());
  /** One reconcile as the controller runs it; returns its outcome and every request it made. */
  const reconcile = async () => {
    const from = log.requests.length;
    lastStart = new Date().toISOString();
    const app = await admin.request<Application>("GET", `${api}/namespaces/${namespace}/applications/web`);
    const outcome = await reconcileApplication(log.client, app, { cacheDir, discovery, liveCache: watcher });
    await watcher.track(owner, outcome.inventory ?? [], () => lastStart);
    return { outcome, requests: log.requests.slice(from) };
  };
  return { namespace, reconcile, drift, object: (kind: string, name: string) => admin.request<KubeObject>("GET", `${kind === "Deployment" ? `/apis/apps/v1` : "/api/v1"}/namespaces/${namespace}/${kind.toLowerCase()}s/${name}`) };
}

/** Requests to anything but fjord's own objects (its Application and GitRepository): the managed objects and their collections. */
const toManagedObjects = (requests: readonly LoggedRequest[]) => requests.filter((request) => !request.path.startsWith(`${api}/`)).map((request) => `${request.method} ${request.path}${request.query?.dryRun ? " (dry run)" : ""}`);

test("a resync that changes nothing lists nothing, watches nothing and sends no request for the objects it manages", async (t) => {
  const fx = await fixture(t);
  const first = await fx.reconcile();
  assert.equal(first.outcome.report.ready, true);
  assert.deepEqual(first.outcome.changes?.map((change) => `${change.ref.kind} ${change.action}`).sort(), ["ConfigMap created", "Deployment created", "Secret created"]);

  const resync = await fx.reconcile();
  assert.equal(resync.outcome.report.ready, true);
  assert.deepEqual(resync.outcome.changes?.map((change) => change.action), ["unchanged", "unchanged", "unchanged"]);
  assert.deepEqual(toManagedObjects(resync.requests), [], "the objects and their health come from the watches' cache");
  assert.deepEqual(resync.requests.filter((request) => request.watch), [], "no watch opened for health");
  assert.deepEqual(fx.drift, [], "fjord's own sync is not drift");
});

test("drift the watches saw is still reverted from the cache: an edit by someone else, and a deletion", async (t) => {
  const fx = await fixture(t);
  await fx.reconcile();
  await fx.reconcile();

  await admin.request("PATCH", `/api/v1/namespaces/${fx.namespace}/configmaps/settings`, { query: { fieldManager: "kubectl-edit" }, body: { data: { mode: "by-hand" } }, contentType: "application/merge-patch+json" });
  await eventually(() => Promise.resolve(fx.drift.some((event) => event.object.endsWith("/settings") && event.changedBy === "kubectl-edit")), { timeoutMs: 20_000, intervalMs: 20, describe: () => JSON.stringify(fx.drift) });
  const edited = await fx.reconcile();
  assert.deepEqual(edited.outcome.changes?.map((change) => `${change.ref.kind} ${change.action}`).sort(), ["ConfigMap configured", "Deployment unchanged", "Secret unchanged"]);
  assert.equal(((await fx.object("ConfigMap", "settings")).data as Record<string, string>).mode, "gitops", "reverted");
  assert.deepEqual(
    toManagedObjects(edited.requests),
    [
      `PATCH /api/v1/namespaces/${fx.namespace}/configmaps/settings (dry run)`,
      `PATCH /api/v1/namespaces/${fx.namespace}/configmaps/settings`,
    ],
    "only the changed object is dry-run (compared with the cache's copy) and written; its health is the write's answer",
  );

  await admin.request("DELETE", `/api/v1/namespaces/${fx.namespace}/secrets/token`);
  await eventually(() => Promise.resolve(fx.drift.some((event) => event.object.endsWith("/token") && event.changedBy === "deleted by someone")), { timeoutMs: 20_000, intervalMs: 20, describe: () => JSON.stringify(fx.drift) });
  const deleted = await fx.reconcile();
  assert.deepEqual(deleted.outcome.changes?.map((change) => `${change.ref.kind} ${change.action}`).sort(), ["ConfigMap unchanged", "Deployment unchanged", "Secret created"]);
  assert.equal(((await fx.object("Secret", "token")).data as Record<string, string>).token, "c2VjcmV0", "recreated");
  assert.deepEqual(toManagedObjects(deleted.requests), [`PATCH /api/v1/namespaces/${fx.namespace}/secrets/token (dry run)`, `PATCH /api/v1/namespaces/${fx.namespace}/secrets/token`]);
});

test("a change the cache shows to a Deployment's spec is applied and waited for", async (t) => {
  const fx = await fixture(t);
  await fx.reconcile();
  await admin.request("PATCH", `/apis/apps/v1/namespaces/${fx.namespace}/deployments/web/scale`, { query: { fieldManager: "kubectl-scale" }, body: { spec: { replicas: 3 } }, contentType: "application/merge-patch+json" });
  await eventually(() => Promise.resolve(fx.drift.some((event) => event.object.endsWith("/web") && event.changedBy === "kubectl-scale")), { timeoutMs: 20_000, intervalMs: 20, describe: () => JSON.stringify(fx.drift) });
  const scaled = await fx.reconcile();
  assert.equal(scaled.outcome.report.ready, true);
  assert.deepEqual(scaled.outcome.changes?.map((change) => `${change.ref.kind} ${change.action}`).sort(), ["ConfigMap unchanged", "Deployment configured", "Secret unchanged"]);
  assert.equal(((await fx.object("Deployment", "web")).spec as { replicas: number }).replicas, 1, "scaled back");
  // The write's answer shows a generation the Deployment controller has not observed: its rollout
  // is checked with the server (a list, then a watch unless the rollout was already observed by
  // then), never judged from the cache's older copy.
  assert.ok(
    scaled.requests.some((request) => request.path === `/apis/apps/v1/namespaces/${fx.namespace}/deployments` && request.method === "GET"),
    JSON.stringify(toManagedObjects(scaled.requests)),
  );
});
