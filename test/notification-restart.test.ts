/**
 * Undelivered notifications survive a controller restart: with the receiver down, a failed
 * sync and then a successful one are queued; the controller is stopped (SIGTERM), the receiver
 * comes back, a new controller process starts, and each notification arrives exactly once, in
 * the order it happened. Real API server, real Git server, `fjord controller` processes.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { after, before, test } from "node:test";
import { installCustomResourceDefinitions } from "../src/controller/crd-install.ts";
import { KubeClient } from "../src/kube/client.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";
import { startControllerProcess, type ControllerProcess } from "./support/controller-process.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";
import { startHttpReceiver } from "./support/http-receiver.ts";

const SUITE = { "fjord.dev/test-suite": "notification-restart" };
const api = "/apis/fjord.dev/v1alpha1";
let client: KubeClient;
let git: GitServer;
let work: string;

before(async () => {
  client = KubeClient.load({ kubeconfig: (await useCluster()).kubeconfigPath });
  // The objects are created before the first controller starts (and installs them itself).
  await installCustomResourceDefinitions(client);
  git = await startGitServer();
  work = await mkdtemp(path.join(os.tmpdir(), "fjord-notify-restart-"));
});
after(async () => {
  client.close();
  await git.close();
  await rm(work, { recursive: true, force: true });
});

test("notifications queued while the receiver is down are delivered after a controller restart, exactly once each, in order", async (t) => {
  const cluster = await useCluster();
  const namespace = await createTestNamespace(cluster, t);
  let down = true;
  const hook = await startHttpReceiver(0, () => down);
  t.after(() => hook.close());
  const start = (name: string): Promise<ControllerProcess> =>
    startControllerProcess({
      kubeconfig: cluster.kubeconfigPath,
      logFile: path.join(work, `${name}.log`),
      cacheDir: work,
      args: ["--watch-label-selector", "fjord.dev/test-suite=notification-restart"],
      // The queue Secret lives in the controller's own namespace: this test's.
      env: { POD_NAMESPACE: namespace },
    });
  const create = (resource: string, kind: string, name: string, spec: Record<string, unknown>) =>
    client.request("POST", `${api}/namespaces/${namespace}/${resource}`, { body: { apiVersion: "fjord.dev/v1alpha1", kind, metadata: { name, labels: SUITE }, spec } });
  const repo = `restart-${namespace}`;
  await git.createRepo(repo);
  await git.commitFiles(repo, { "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: one\n" }, { message: "one" });
  await create("providers", "Provider", "hook", { type: "generic", address: `${hook.url}/events` });
  await create("alerts", "Alert", "apps", { providerRef: { name: "hook" }, eventSources: [{ kind: "Application", name: "*" }] });
  await create("gitrepositories", "GitRepository", "source", { url: git.repoUrl(repo), interval: "1h" });

  const first = await start("first");
  t.after(() => first.stop());
  await first.ready();
  // The source first, so the Application's first result is the failure below, not "waiting for its source".
  await eventually(async () => (await client.request<{ status?: { artifact?: unknown } }>("GET", `${api}/namespaces/${namespace}/gitrepositories/source`)).status?.artifact !== undefined, { timeoutMs: 30_000 });
  // A path the repository does not have: the sync fails (an error notification)...
  await create("applications", "Application", "web", { sourceRef: { kind: "GitRepository", name: "source" }, path: "./missing", interval: "1h" });
  await eventually(() => Promise.resolve(hook.attempts() >= 1), { timeoutMs: 30_000, describe: async () => (await readFile(first.logFile, "utf8")).slice(-2000) });
  // ...then the right path: it applies (an info notification). Both wait: the receiver is down.
  await client.request("PATCH", `${api}/namespaces/${namespace}/applications/web`, { body: { spec: { path: "./app" } }, contentType: "application/merge-patch+json" });
  const stored = async () => {
    const secret = await client.request<{ data?: Record<string, string> }>("GET", `/api/v1/namespaces/${namespace}/secrets/fjord-notification-queue`).catch(() => undefined);
    const data = secret?.data?.["queue.json.gz"];
    return data === undefined ? undefined : (JSON.parse(gunzipSync(Buffer.from(data, "base64")).toString("utf8")) as { pending: Array<{ provider: string; item: { request: { body: string } } }> }).pending;
  };
  // Persisted while running (batched every 2 s), not only at the stop.
  await eventually(async () => (await stored())?.length === 2, { timeoutMs: 30_000, describe: async () => JSON.stringify(await stored()) });
  await first.stop("SIGTERM");
  assert.equal(hook.received.length, 0, "nothing was delivered while the receiver was down");
  assert.equal((await stored())?.length, 2, "the stopping controller left both in the queue Secret");

  down = false;
  const second = await start("second");
  t.after(() => second.stop());
  await second.ready();
  await eventually(() => Promise.resolve(hook.received.length >= 2), { timeoutMs: 30_000, describe: async () => (await readFile(second.logFile, "utf8")).slice(-2000) });
  // Time for a duplicate to show up, if the new controller were to send anything twice.
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  const events = hook.received.map(({ body }) => JSON.parse(body) as { severity: string; message: string; involvedObject: { name: string } });
  assert.equal(events.length, 2, `exactly once each: ${JSON.stringify(events)}`);
  assert.deepEqual(events.map((event) => [event.involvedObject.name, event.severity]), [["web", "error"], ["web", "info"]], "in the order they happened");
  assert.match(events[1]?.message ?? "", /^Applied revision main@sha1:/);
  assert.match(await readFile(second.logFile, "utf8"), /"pending":2,"msg":"restored undelivered notifications"/);
  await eventually(async () => (await stored())?.length === 0, { timeoutMs: 15_000 });
});
