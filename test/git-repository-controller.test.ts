// GitRepositories through the running controller: spec.ignore from the source to what an
// Application applies, and a stop that does not wait for a Git server that hangs.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Application, GitRepository } from "../src/api/types.ts";
import { isNotFound } from "../src/kube/errors.ts";
import type { KubeObject } from "../src/model/object.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";
import { startInProcessController, suiteLabels, type InProcessController } from "./support/in-process-controller.ts";
import { startSilentServer } from "./support/silent-server.ts";

const api = "/apis/fjord.dev/v1alpha1";
let git: GitServer;
let controller: InProcessController;

before(async () => {
  controller = await startInProcessController("git-repository-controller");
  git = await startGitServer();
});
after(async () => {
  await controller.stop();
  await git.close();
});

async function get<T extends KubeObject>(apiPath: string): Promise<T | undefined> {
  return controller.client.request<T>("GET", apiPath).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
}

const configMap = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  from: git\n`;
const ready = (object: { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } } | undefined) =>
  object?.status?.conditions?.find((condition) => condition.type === "Ready");

test("spec.ignore end to end: an Application over the root never sees ignored files, new rules re-sync it, a bad line leaves it running", async (t) => {
  const { client } = controller;
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = `ignore-${namespace}`;
  await git.createRepo(repo);
  await git.commitFiles(repo, { "kept.yaml": configMap("kept"), "secret-stuff/leak.yaml": configMap("leaked"), "drafts.tmpl/cm.yaml": configMap("drafted") }, { message: "one" });
  const labels = suiteLabels("git-repository-controller");
  const sourcePath = `${api}/namespaces/${namespace}/gitrepositories/source`;
  await client.request("POST", `${api}/namespaces/${namespace}/gitrepositories`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "source", labels }, spec: { url: git.repoUrl(repo), ignore: "secret-stuff/\n*.tmpl" } },
  });
  await client.request("POST", `${api}/namespaces/${namespace}/applications`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "app", labels }, spec: { sourceRef: { kind: "GitRepository", name: "source" }, path: "./", prune: true } },
  });
  const appPath = `${api}/namespaces/${namespace}/applications/app`;
  const configMaps = async () => {
    const list = await client.request<{ items: KubeObject[] }>("GET", `/api/v1/namespaces/${namespace}/configmaps?labelSelector=fjord.dev/name`);
    return list.items.map((item) => item.metadata.name).sort();
  };
  const describe = async () => `${JSON.stringify((await get<Application>(appPath))?.status?.conditions)} ${JSON.stringify(await configMaps())}`;

  await eventually(async () => ready(await get<Application>(appPath))?.status === "True", { timeoutMs: 30_000, describe });
  assert.deepEqual(await configMaps(), ["kept"], "neither secret-stuff/ nor the *.tmpl directory reached the Application");

  // Other rules for the same commit: the Application gets the new tree at once, not at its 10m interval.
  await client.request("PATCH", sourcePath, { body: { spec: { ignore: "*.tmpl" } }, contentType: "application/merge-patch+json" });
  await eventually(async () => JSON.stringify(await configMaps()) === JSON.stringify(["kept", "leaked"]), { timeoutMs: 30_000, describe });

  // A line that cannot be used stops the source, not what runs.
  await client.request("PATCH", sourcePath, { body: { spec: { ignore: "*.tmpl\n[z-a]" } }, contentType: "application/merge-patch+json" });
  const refused = await eventually(async () => {
    const condition = ready(await get<GitRepository>(sourcePath));
    return condition?.reason === "IgnoreInvalid" ? condition : undefined;
  }, { timeoutMs: 30_000 });
  assert.equal(refused.status, "False");
  assert.match(refused.message, /^spec\.ignore line 2: ignore pattern "\[z-a\]"/);
  assert.equal(ready(await get<Application>(appPath))?.status, "True");
  assert.deepEqual(await configMaps(), ["kept", "leaked"]);
});

test("shutdown does not wait for a hanging git: the controller stops at once, kills git and records no failure", async (t) => {
  const silent = await startSilentServer();
  t.after(() => silent.close());
  // A controller of its own: this test stops it.
  const suite = "git-repository-controller-stop";
  const own = await startInProcessController(suite);
  let stopped = false;
  t.after(() => (stopped ? undefined : own.stop()));
  const namespace = await createTestNamespace(await useCluster(), t);
  const sourcePath = `${api}/namespaces/${namespace}/gitrepositories/hanging`;
  await own.client.request("POST", `${api}/namespaces/${namespace}/gitrepositories`, {
    // The default timeout, 60s: the old code waited that long before it could stop.
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "hanging", labels: suiteLabels(suite) }, spec: { url: `http://127.0.0.1:${silent.port}/repo.git` } },
  });
  // The reconcile's git is waiting for the server's answer.
  await silent.connected(30_000);

  const client = controller.client;
  const started = Date.now();
  await own.stop();
  stopped = true;
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 5000, `stopping took ${elapsed} ms`);
  await silent.allClosed(1000);
  // Being stopped is no failure of the source.
  const status = (await client.request<GitRepository>("GET", sourcePath)).status;
  assert.equal(ready({ status }), undefined, JSON.stringify(status));
});
