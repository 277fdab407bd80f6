// Faults around a running `fjord controller` process: Git going away, the controller killed
// mid-sync, and two replicas with leader election. Each test runs its own controller
// process(es), scoped by label to the objects the test creates.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
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

async function appConfigMaps(namespace: string): Promise<Array<KubeObject & { data?: Record<string, string> }>> {
  const list = await client.request<{ items: Array<KubeObject & { data?: Record<string, string> }> }>("GET", `/api/v1/namespaces/${namespace}/configmaps`, { query: { labelSelector: "fjord.dev/name=app" } });
  return list.items.sort((a, b) => (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
}

async function configMapNames(namespace: string): Promise<string[]> {
  return (await appConfigMaps(namespace)).map((item) => item.metadata.name ?? "");
}

const cmName = (index: number) => `cm-${String(index).padStart(3, "0")}`;
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

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

  const firstRevision = (await get<Application>(`${api(namespace)}/applications/app`))?.status?.lastAppliedRevision;

  // The next commit drops 0-49 and adds 100-399; the controller dies as soon as it starts writing.
  const second = await git.commitFiles("killed", { "app/cms.yaml": configMaps(50, 400) }, { message: "shift" });
  const firstWrite = watchUntil(client, { path: `/api/v1/namespaces/${namespace}/configmaps`, signal: AbortSignal.timeout(60_000) }, (objects, change) => change?.type === "ADDED" && objects.size > 0);
  await requestReconcile(client, `${api(namespace)}/gitrepositories/source`);
  await firstWrite;
  await first.stop("SIGKILL");

  // The fault landed mid-sync: with the process gone, the cluster holds a sync half done.
  const partial = await configMapNames(namespace);
  const added = range(100, 400).map(cmName).filter((name) => partial.includes(name));
  t.diagnostic(`when killed: ${added.length} of the 300 new ConfigMaps written`);
  assert.ok(added.length > 0 && added.length < 300, `killed while applying: ${added.length} of 300 new ConfigMaps written`);
  assert.deepEqual(range(0, 100).map(cmName).filter((name) => !partial.includes(name)), [], "nothing pruned yet");
  const killed = await get<Application>(`${api(namespace)}/applications/app`);
  assert.equal(killed?.status?.lastAppliedRevision, firstRevision, "the new revision was not recorded as applied");
  // The reservation: every object of the new commit was in the inventory before the first was written.
  assert.equal(killed?.status?.inventory?.entries.length, 400, "the old 100 and the 300 about to be created");

  await controller(t, "faults-kill", "second");
  const app = await eventually(async () => {
    const current = await get<Application>(`${api(namespace)}/applications/app`);
    return current?.status?.lastAppliedRevision === `main@sha1:${second}` && isReady(current) ? current : undefined;
  }, { timeoutMs: 120_000 });
  // Exactly the commit: no object lost, none left over, every one with its content.
  const converged = await appConfigMaps(namespace);
  assert.deepEqual(converged.map((item) => item.metadata.name), range(50, 400).map(cmName));
  assert.deepEqual(converged.filter((item) => item.data?.index !== String(Number((item.metadata.name ?? "").slice(3)))).map((item) => item.metadata.name), []);
  assert.deepEqual(app.status?.inventory?.entries.map((entry) => entry.id.split("_")[1]).sort(), range(50, 400).map(cmName));
});

interface LeaseObject extends KubeObject {
  spec?: { holderIdentity?: string; acquireTime?: string; leaseTransitions?: number };
}

test("two replicas: only the leader acts; when it dies, the other takes over", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const git: GitServer = await startGitServer();
  t.after(() => git.close());
  await git.createRepo("replicas");
  await git.commitFiles("replicas", { "app/cms.yaml": configMaps(0, 1) }, { message: "one" });
  const election = ["--leader-elect", "--leader-election-namespace", namespace];
  const a = await controller(t, "faults-ha", "a", [...election, "--identity", "replica-a"]);
  const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/fjord-controller`;
  const lease = await eventually(() => get<LeaseObject>(leasePath).then((current) => (current?.spec?.holderIdentity ? current : undefined)), { timeoutMs: 30_000 });
  assert.equal(lease.spec?.holderIdentity, "replica-a");
  await controller(t, "faults-ha", "b", [...election, "--identity", "replica-b"]);

  await createApp(namespace, "faults-ha", git.repoUrl("replicas"));
  const appPath = `${api(namespace)}/applications/app`;
  const sourcePath = `${api(namespace)}/gitrepositories/source`;
  await eventually(async () => isReady(await get(appPath)), { timeoutMs: 60_000 });

  // Leader loss: replica-a dies without releasing the lease, and there is work to do at once: a
  // new commit and a request to fetch it. Until replica-b holds the lease, it is only a
  // follower and must leave everything as it is.
  await a.stop("SIGKILL");
  const next = await git.commitFiles("replicas", { "app/cms.yaml": configMaps(0, 2) }, { message: "two" });
  const request = await requestReconcile(client, sourcePath);
  const [appBefore, sourceBefore, configMapsBefore] = [await get<Application>(appPath), await get<GitRepository>(sourcePath), await configMapNames(namespace)];
  let followerChecks = 0;
  const takenOver = await eventually(
    async () => {
      // Read the objects first, then the lease: if the lease still names replica-a, replica-b
      // was a follower when the objects were read.
      const [app, source, names] = [await get<Application>(appPath), await get<GitRepository>(sourcePath), await configMapNames(namespace)];
      const current = await get<LeaseObject>(leasePath);
      if (current?.spec?.holderIdentity === "replica-b") return current;
      assert.equal(current?.spec?.holderIdentity, "replica-a");
      assert.equal(app?.metadata.resourceVersion, appBefore?.metadata.resourceVersion, "the follower wrote nothing to the Application");
      assert.deepEqual(source?.status, sourceBefore?.status, "the follower did not fetch");
      assert.notEqual(source?.status?.lastHandledReconcileAt, request);
      assert.deepEqual(names, configMapsBefore, "the follower applied nothing");
      followerChecks++;
      return undefined;
    },
    { timeoutMs: 60_000 },
  );
  t.diagnostic(`checked ${followerChecks} times while replica-b followed`);
  assert.ok(followerChecks > 0, "replica-b was seen as a follower with work waiting");
  assert.equal(takenOver.spec?.leaseTransitions, (lease.spec?.leaseTransitions ?? 0) + 1);

  // Then replica-b leads and does the work: the sync of the new commit started after it took the lease.
  const app = await eventually(async () => {
    const current = await get<Application>(appPath);
    return current?.status?.lastAppliedRevision === `main@sha1:${next}` ? current : undefined;
  }, { timeoutMs: 90_000 });
  const sync = app.status?.history?.find((record) => record.revision === `main@sha1:${next}`);
  // status keeps whole seconds, the lease microseconds: compare at the status's precision.
  const acquiredSecond = Math.floor(Date.parse(takenOver.spec?.acquireTime ?? "") / 1000) * 1000;
  assert.ok(sync && Date.parse(sync.startedAt) >= acquiredSecond, `synced at ${sync?.startedAt}, lease taken at ${takenOver.spec?.acquireTime}`);
  assert.equal((await get<GitRepository>(sourcePath))?.status?.lastHandledReconcileAt, request);
  assert.deepEqual(await configMapNames(namespace), ["cm-000", "cm-001"]);
});
