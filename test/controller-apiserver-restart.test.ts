// The API server restarting under a running controller: its own control plane, since the
// shared one must not go down under other test files. The controller runs in this process,
// so the test can see the requests it makes (when its drift watch lists again).
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { Application } from "../src/api/types.ts";
import { installCustomResourceDefinitions } from "../src/controller/crd-install.ts";
import { runController } from "../src/controller/controller.ts";
import { KubeClient } from "../src/kube/client.ts";
import { isNotFound } from "../src/kube/errors.ts";
import type { KubeObject } from "../src/model/object.ts";
import { createLogger } from "../src/util/logger.ts";
import { ControlPlane } from "../testenv/control-plane.ts";
import { eventually } from "./support/cluster.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";
import { logRequests, type RequestLog } from "./support/request-log.ts";

let plane: ControlPlane;
let client: KubeClient;
let controllerClient: KubeClient;
let requests: RequestLog;
let git: GitServer;
let work: string;
const stop = new AbortController();
let running: Promise<void>;
let outcome: "running" | "stopped" | Error = "running";

before(async () => {
  plane = await ControlPlane.start({ progress: (message) => process.stderr.write(`testenv: ${message}\n`) });
  client = KubeClient.load({ kubeconfig: plane.kubeconfigPath });
  git = await startGitServer();
  work = await mkdtemp(path.join(os.tmpdir(), "fjord-apiserver-restart-"));
  await installCustomResourceDefinitions(client);
  controllerClient = KubeClient.load({ kubeconfig: plane.kubeconfigPath });
  requests = logRequests(controllerClient);
  const logger = createLogger("controller");
  logger.level = "warn";
  running = runController({ client: requests.client, logger, cacheDir: path.join(work, "cache") }, stop.signal).then(
    () => void (outcome = "stopped"),
    (error: unknown) => void (outcome = error instanceof Error ? error : new Error(String(error))),
  );
});
after(async () => {
  stop.abort();
  await running;
  controllerClient.close();
  client.close();
  await git.close();
  await plane.stop();
  await rm(work, { recursive: true, force: true });
});

async function get<T extends KubeObject>(apiPath: string): Promise<T | undefined> {
  return client.request<T>("GET", apiPath).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
}

const settings = (mode: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  mode: ${mode}\n`;

test("after an API server restart the controller recovers its watches: new commits and drift are handled again", async () => {
  await git.createRepo("restart");
  await git.commitFiles("restart", { "app/settings.yaml": settings("one") }, { message: "one" });
  const api = "/apis/fjord.dev/v1alpha1/namespaces/default";
  await client.request("POST", `${api}/gitrepositories`, { body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "source" }, spec: { url: git.repoUrl("restart"), interval: "2s" } } });
  await client.request("POST", `${api}/applications`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "app" }, spec: { sourceRef: { kind: "GitRepository", name: "source" }, path: "./app", interval: "1h" } },
  });
  const cm = "/api/v1/namespaces/default/configmaps/settings";
  const mode = async () => ((await get(cm))?.data as Record<string, string> | undefined)?.mode;
  await eventually(async () => (await mode()) === "one", { timeoutMs: 60_000 });

  const beforeRestart = requests.requests.length;
  await plane.restartApiServer(3000);
  assert.equal(outcome, "running", "the controller survived the outage");

  // A commit made after the restart arrives through the source's interval and the Application's watch.
  const second = await git.commitFiles("restart", { "app/settings.yaml": settings("two") }, { message: "two" });
  await eventually(async () => (await get<Application>(`${api}/applications/app`))?.status?.lastAppliedRevision === `main@sha1:${second}`, { timeoutMs: 90_000 });
  assert.equal(await mode(), "two");

  // Drift after the restart is seen by the drift watch once it has listed again, reverted, and
  // recorded as drift (a re-sync for another reason would revert it too, but record no drift).
  await eventually(
    () =>
      Promise.resolve(
        requests.requests.slice(beforeRestart).some((request) => request.method === "GET" && request.path === "/api/v1/configmaps" && request.query?.labelSelector === "fjord.dev/name" && request.answered),
      ),
    { timeoutMs: 60_000 },
  );
  await client.request("PATCH", cm, { query: { fieldManager: "kubectl-edit" }, body: { data: { mode: "hand-edited" } }, contentType: "application/merge-patch+json" });
  await eventually(async () => (await mode()) === "two", { timeoutMs: 60_000 });
  const app = await eventually(async () => {
    const current = await get<Application>(`${api}/applications/app`);
    return current?.status?.history?.some((record) => record.driftReverts?.some((revert) => revert.changedBy === "kubectl-edit")) ? current : undefined;
  }, { timeoutMs: 20_000, describe: async () => JSON.stringify((await get<Application>(`${api}/applications/app`))?.status?.history) });
  assert.equal(app.status?.history?.find((record) => record.driftReverts?.length)?.driftReverts?.[0]?.object, "ConfigMap/default/settings");
});
