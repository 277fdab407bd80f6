// Faults around a running `fjord controller` process: Git going away, the controller killed
// mid-sync, and two replicas with leader election. Each test runs its own controller
// process(es), scoped by label to the objects the test creates.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test, type TestContext } from "node:test";
import type { Application, GitRepository } from "../src/api/types.ts";
import { KubeClient } from "../src/kube/client.ts";
import { isNotFound } from "../src/kube/errors.ts";
import { watchUntil } from "../src/kube/watch-until.ts";
import type { KubeObject } from "../src/model/object.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";
import { startControllerProcess, type ControllerProcess } from "./support/controller-process.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";
import { requestReconcile } from "./support/reconcile-request.ts";

let client: KubeClient;
let kubeconfig: string;
let work: string;
const controllers: ControllerProcess[] = [];

before(async () => {
  const cluster = await useCluster();
  kubeconfig = cluster.kubeconfigPath;
  client = KubeClient.load({ kubeconfig });
  work = await mkdtemp(path.join(os.tmpdir(), "fjord-faults-"));
});
after(async () => {
  await Promise.all(controllers.map((controller) => controller.stop("SIGKILL")));
  client.close();
  await rm(work, { recursive: true, force: true });
});

const api = (namespace: string) => `/apis/fjord.dev/v1alpha1/namespaces/${namespace}`;
const isReady = (object: KubeObject | undefined) =>
  (object?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;

async function get<T extends KubeObject>(apiPath: string): Promise<T | undefined> {
  return client.request<T>("GET", apiPath).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
}

async function controller(t: TestContext, suite: string, name: string, args: string[] = []): Promise<ControllerProcess> {
  const started = await startControllerProcess({
    kubeconfig,
    logFile: path.join(work, `${suite}-${name}.log`),
    cacheDir: path.join(work, `${suite}-${name}-cache`),
    args: ["--watch-label-selector", `fjord.dev/test-suite=${suite}`, ...args],
  });
  controllers.push(started);
  t.after(() => started.stop("SIGKILL"));
  await started.ready();
  return started;
}

/** A GitRepository `source` and an Application `app` over `./app`, labelled for `suite`. */
async function createApp(namespace: string, suite: string, url: string, spec: Record<string, unknown> = {}): Promise<void> {
  const labels = { "fjord.dev/test-suite": suite };
  await client.request("POST", `${api(namespace)}/gitrepositories`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "source", labels }, spec: { url, interval: "1h" } },
  });
  await client.request("POST", `${api(namespace)}/applications`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "app", labels }, spec: { sourceRef: { kind: "GitRepository", name: "source" }, path: "./app", interval: "1h", prune: true, ...spec } },
  });
}

const configMaps = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${String(from + i).padStart(3, "0")}\ndata:\n  index: "${from + i}"\n`).join("---\n");

async function configMapNames(namespace: string): Promise<string[]> {
  const list = await client.request<{ items: KubeObject[] }>("GET", `/api/v1/namespaces/${namespace}/configmaps`, { query: { labelSelector: "fjord.dev/name=app" } });
  return list.items.map((item) => item.metadata.name ?? "").sort();
}

test("Git unreachable: the source says so, and nothing applied is pruned or changed", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const git: GitServer = await startGitServer();
  t.after(() => git.close());
  await git.createRepo("unreachable");
  await git.commitFiles("unreachable", { "app/cms.yaml": configMaps(0, 3) }, { message: "three" });
  await controller(t, "faults-git", "a");
  await createApp(namespace, "faults-git", git.repoUrl("unreachable"));
  await eventually(async () => isReady(await get(`${api(namespace)}/applications/app`)), { timeoutMs: 60_000 });
  const inventory = (await get<Application>(`${api(namespace)}/applications/app`))?.status?.inventory;

  await git.close();
  const sourceRequest = await requestReconcile(client, `${api(namespace)}/gitrepositories/source`);
  const source = await eventually(async () => {
    const current = await get<GitRepository>(`${api(namespace)}/gitrepositories/source`);
    return current?.status?.lastHandledReconcileAt === sourceRequest ? current : undefined;
  }, { timeoutMs: 60_000 });
  const condition = source.status?.conditions?.find((c) => c.type === "Ready");
  assert.equal(condition?.status, "False");
  assert.equal(condition?.reason, "ArtifactFailed");
  assert.ok(source.status?.artifact?.commit, "the last good artifact is kept");

  const appRequest = await requestReconcile(client, `${api(namespace)}/applications/app`);
  const app = await eventually(async () => {
    const current = await get<Application>(`${api(namespace)}/applications/app`);
    return current?.status?.lastHandledReconcileAt === appRequest ? current : undefined;
  }, { timeoutMs: 60_000 });
  assert.deepEqual(app.status?.inventory, inventory, "the inventory is unchanged");
  assert.deepEqual(await configMapNames(namespace), ["cm-000", "cm-001", "cm-002"], "nothing was pruned");
});

test("a controller killed (SIGKILL) in the middle of a sync converges on restart, with no object lost or left over", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const git: GitServer = await startGitServer();
  t.after(() => git.close());
  await git.createRepo("killed");
  await git.commitFiles("killed", { "app/cms.yaml": configMaps(0, 100) }, { message: "first hundred" });
  const first = await controller(t, "faults-kill", "first");
  await createApp(namespace, "faults-kill", git.repoUrl("killed"));
  await eventually(async () => isReady(await get(`${api(namespace)}/applications/app`)), { timeoutMs: 60_000 });

  // The next commit drops 0-49 and adds 100-399; the controller dies as soon as it starts writing.
  const second = await git.commitFiles("killed", { "app/cms.yaml": configMaps(50, 400) }, { message: "shift" });
  const firstWrite = watchUntil(client, { path: `/api/v1/namespaces/${namespace}/configmaps`, signal: AbortSignal.timeout(60_000) }, (objects, change) => change?.type === "ADDED" && objects.size > 0);
  await requestReconcile(client, `${api(namespace)}/gitrepositories/source`);
  await firstWrite;
  await first.stop("SIGKILL");
  const partial = await configMapNames(namespace);
  t.diagnostic(`when killed: ${partial.length} ConfigMaps (of 100 before and 350 wanted)`);

  await controller(t, "faults-kill", "second");
  const app = await eventually(async () => {
    const current = await get<Application>(`${api(namespace)}/applications/app`);
    return current?.status?.lastAppliedRevision === `main@sha1:${second}` && isReady(current) ? current : undefined;
  }, { timeoutMs: 120_000 });
  const names = await configMapNames(namespace);
  assert.equal(names.length, 350);
  assert.equal(names[0], "cm-050");
  assert.equal(names.at(-1), "cm-399");
  assert.equal(app.status?.inventory?.entries.length, 350);
  const sample = await get(`/api/v1/namespaces/${namespace}/configmaps/cm-250`);
  assert.equal((sample?.data as Record<string, string>).index, "250");
});

test("two replicas: only the leader acts; when it dies, the other takes over", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const git: GitServer = await startGitServer();
  t.after(() => git.close());
  await git.createRepo("replicas");
  await git.commitFiles("replicas", { "app/cms.yaml": configMaps(0, 1) }, { message: "one" });
  const election = ["--leader-elect", "--leader-election-namespace", namespace];
  const a = await controller(t, "faults-ha", "a", [...election, "--identity", "replica-a"]);
  const lease = await eventually(() => get<{ spec?: { holderIdentity?: string } } & KubeObject>(`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/fjord-controller`).then((current) => (current?.spec?.holderIdentity ? current : undefined)), {
    timeoutMs: 30_000,
  });
  assert.equal(lease.spec?.holderIdentity, "replica-a");
  const b = await controller(t, "faults-ha", "b", [...election, "--identity", "replica-b"]);

  await createApp(namespace, "faults-ha", git.repoUrl("replicas"));
  await eventually(async () => isReady(await get(`${api(namespace)}/applications/app`)), { timeoutMs: 60_000 });
  const follower = await readFile(b.logFile, "utf8");
  assert.doesNotMatch(follower, /"msg":"reconciled"/, "the follower never reconciles");
  assert.match(await readFile(a.logFile, "utf8"), /"msg":"reconciled"/);

  // Leader loss: replica-a dies without releasing the lease; replica-b waits it out and takes over.
  await a.stop("SIGKILL");
  const next = await git.commitFiles("replicas", { "app/cms.yaml": configMaps(0, 2) }, { message: "two" });
  await requestReconcile(client, `${api(namespace)}/gitrepositories/source`);
  await eventually(async () => (await get<Application>(`${api(namespace)}/applications/app`))?.status?.lastAppliedRevision === `main@sha1:${next}`, { timeoutMs: 90_000 });
  const holder = await get<{ spec?: { holderIdentity?: string } } & KubeObject>(`/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/fjord-controller`);
  assert.equal(holder?.spec?.holderIdentity, "replica-b");
  assert.deepEqual(await configMapNames(namespace), ["cm-000", "cm-001"]);
});
