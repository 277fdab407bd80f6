/**
 * Receiver objects end to end: the real API server, `fjord controller` as a process (with
 * --no-cross-namespace-refs), the real Git server and a real registry. A signed delivery to a
 * Receiver's status.webhookPath makes the controller fetch and apply a new commit at once (the
 * intervals are an hour), a forged one changes nothing, a Receiver naming another namespace's
 * resource is refused, a rotated token moves the path, generic-hmac triggers Applications by
 * label, a registry delivery triggers an ImageRepository scan; and no token appears in the
 * controller's log, in a status or in an Event.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { ImageRepository } from "../src/api/image-types.ts";
import { receiverWebhookPath, type Receiver } from "../src/api/receiver-types.ts";
import type { GitRepository } from "../src/api/types.ts";
import { KubeClient } from "../src/kube/client.ts";
import type { KubeObject } from "../src/model/object.ts";
import { runFjord } from "./support/cli.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";
import { startControllerProcess, type ControllerProcess } from "./support/controller-process.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";
import { startOciRegistry, type OciRegistry } from "./support/oci-registry.ts";
import { requestReconcile } from "./support/reconcile-request.ts";

const SUITE = { "fjord.dev/test-suite": "receivers" };
const api = "/apis/fjord.dev/v1alpha1";
/** Every token any test uses: none may appear in a log, a status or an Event. */
const TOKENS: string[] = [];
let client: KubeClient;
let git: GitServer;
let registry: OciRegistry;
let controller: ControllerProcess;
let work: string;
let kubeconfig: string;

before(async () => {
  const cluster = await useCluster();
  kubeconfig = cluster.kubeconfigPath;
  client = KubeClient.load({ kubeconfig });
  [git, registry] = await Promise.all([startGitServer(), startOciRegistry({ mode: "anonymous" })]);
  work = await mkdtemp(path.join(os.tmpdir(), "fjord-receivers-"));
  controller = await startControllerProcess({
    kubeconfig,
    logFile: path.join(work, "controller.log"),
    cacheDir: work,
    args: ["--watch-label-selector", "fjord.dev/test-suite=receivers", "--no-cross-namespace-refs"],
  });
  await controller.ready();
});
after(async () => {
  await controller.stop();
  client.close();
  await Promise.all([git.close(), registry.stop()]);
  await rm(work, { recursive: true, force: true });
});

const create = (namespace: string, resource: string, kind: string, name: string, spec: Record<string, unknown>, labels: Record<string, string> = {}) =>
  client.request("POST", `${api}/namespaces/${namespace}/${resource}`, { body: { apiVersion: "fjord.dev/v1alpha1", kind, metadata: { name, labels: { ...SUITE, ...labels } }, spec } });
const secret = (namespace: string, name: string, token: string) => {
  TOKENS.push(token);
  return client.request("POST", `/api/v1/namespaces/${namespace}/secrets`, { body: { apiVersion: "v1", kind: "Secret", metadata: { name }, stringData: { token } } });
};
const getReceiver = (namespace: string, name: string) => client.request<Receiver>("GET", `${api}/namespaces/${namespace}/receivers/${name}`);
const ready = (object: { status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } }) => object.status?.conditions?.find((condition) => condition.type === "Ready");
const log = () => readFile(controller.logFile, "utf8");
/** Waits for a Receiver to serve and returns its path. */
const served = (namespace: string, name: string) =>
  eventually(async () => {
    const receiver = await getReceiver(namespace, name);
    return ready(receiver)?.status === "True" && receiver.status?.webhookPath;
  }, { timeoutMs: 30_000, describe: async () => JSON.stringify((await getReceiver(namespace, name)).status) });
const post = (webhookPath: string, headers: Record<string, string>, body: string) => fetch(`${controller.url}${webhookPath}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
const githubSignature = (token: string, body: string) => `sha256=${createHmac("sha256", token).update(body).digest("hex")}`;

/** A repository with app/cm.yaml, a GitRepository and an Application over it, both with an hour's interval; resolves to a reader of the applied value. */
async function gitFixture(namespace: string, labels: Record<string, string> = {}) {
  const repo = `receiver-${namespace}`;
  await git.createRepo(repo);
  const cm = (mode: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: ${mode}\n`;
  await git.commitFiles(repo, { "app/cm.yaml": cm("one") }, { message: "one" });
  await create(namespace, "gitrepositories", "GitRepository", "source", { url: git.repoUrl(repo), interval: "1h" }, labels);
  await create(namespace, "applications", "Application", "app", { sourceRef: { kind: "GitRepository", name: "source" }, path: "./app", interval: "1h" }, labels);
  const mode = async () => ((await client.request<KubeObject>("GET", `/api/v1/namespaces/${namespace}/configmaps/settings`).catch(() => undefined))?.data as Record<string, string> | undefined)?.mode;
  await eventually(async () => (await mode()) === "one", { timeoutMs: 30_000, describe: async () => (await log()).slice(-2000) });
  return { mode, commit: (value: string) => git.commitFiles(repo, { "app/cm.yaml": cm(value) }, { message: value }), repo };
}

test("the API server refuses a Receiver of an unknown type or kind, `*` without matchLabels, and a Secret name that is a path", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const receiver = (spec: Record<string, unknown>) => create(namespace, "receivers", "Receiver", "bad", { type: "github", secretRef: { name: "token" }, resources: [{ kind: "GitRepository", name: "source" }], ...spec });
  await assert.rejects(receiver({ type: "gcr" }), /spec.type/);
  await assert.rejects(receiver({ resources: [{ kind: "Secret", name: "db" }] }), /kind/);
  await assert.rejects(receiver({ resources: [{ kind: "GitRepository", name: "*" }] }), /name \* needs matchLabels/);
  await assert.rejects(receiver({ resources: [] }), /resources/);
  await assert.rejects(receiver({ secretRef: { name: "../team-b/token" } }), /secretRef.name/);
  await assert.rejects(receiver({ events: Array.from({ length: 26 }, (_, index) => `event-${index}`) }), /events/);
});

test("a GitHub-signed push to status.webhookPath fetches and applies the new commit at once; a forged one is 404 and changes nothing", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const token = "github-receiver-token-8d2f61";
  await secret(namespace, "hook-token", token);
  const fixture = await gitFixture(namespace);
  await create(namespace, "receivers", "Receiver", "github", { type: "github", events: ["push"], secretRef: { name: "hook-token" }, resources: [{ kind: "GitRepository", name: "source" }] });
  const webhookPath = await served(namespace, "github");
  assert.equal(webhookPath, receiverWebhookPath(token, "github", namespace), "Flux's path: sha256 of token, name and namespace");

  const listed = await runFjord(["get", "receivers", "-n", namespace, "--kubeconfig", kubeconfig]);
  assert.equal(listed.code, 0, listed.stderr);
  t.diagnostic(`fjord get receivers:\n${listed.stdout}`);
  assert.match(listed.stdout, /NAME\s+TYPE\s+READY\s+PATH\s+STATUS/);
  assert.match(listed.stdout, new RegExp(`github\\s+github\\s+True\\s+${webhookPath}\\s+serving github deliveries`));

  const second = await fixture.commit("two");
  const body = JSON.stringify({ ref: "refs/heads/main", after: second, repository: { clone_url: git.repoUrl(fixture.repo) } });
  const forged = await post(webhookPath, { "x-github-event": "push", "x-hub-signature-256": githubSignature("a-guess", body) }, body);
  assert.equal(forged.status, 404);
  assert.deepEqual(await forged.json(), { error: "not found" });
  const unsigned = await post(webhookPath, { "x-github-event": "push" }, body);
  assert.equal(unsigned.status, 404);
  // Given time, a forged delivery would have been fetched and applied by now.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  assert.equal(await fixture.mode(), "one", "nothing reconciled after a forged delivery");
  const source = await client.request<GitRepository>("GET", `${api}/namespaces/${namespace}/gitrepositories/source`);
  assert.notEqual(source.status?.artifact?.commit, second);

  const ignored = await post(webhookPath, { "x-github-event": "issues", "x-hub-signature-256": githubSignature(token, body) }, body);
  assert.deepEqual(await ignored.json(), { ignored: "issues" }, "an event spec.events does not name triggers nothing");
  const started = Date.now();
  const accepted = await post(webhookPath, { "x-github-event": "push", "x-hub-signature-256": githubSignature(token, body) }, body);
  assert.equal(accepted.status, 202);
  assert.deepEqual(await accepted.json(), { triggered: 1 });
  await eventually(async () => (await fixture.mode()) === "two", { timeoutMs: 20_000, describe: async () => (await log()).slice(-2000) });
  process.stdout.write(`# push delivery to new commit applied: ${Date.now() - started} ms\n`);
  assert.match(await log(), new RegExp(`"receiver":"${namespace}/github","type":"github","event":"push","triggered":1`));
});

test("--no-cross-namespace-refs: a Receiver naming another namespace's GitRepository is refused and serves nothing", async (t) => {
  const cluster = await useCluster();
  const [namespace, other] = [await createTestNamespace(cluster, t), await createTestNamespace(cluster, t)];
  const token = "cross-namespace-token-41c9";
  await secret(namespace, "hook-token", token);
  const fixture = await gitFixture(other);
  await create(namespace, "receivers", "Receiver", "reach", { type: "generic", secretRef: { name: "hook-token" }, resources: [{ kind: "GitRepository", name: "source", namespace: other }] });
  const refused = await eventually(async () => {
    const condition = ready(await getReceiver(namespace, "reach"));
    return condition?.status === "False" && condition;
  }, { timeoutMs: 30_000 });
  assert.equal(refused.reason, "AccessDenied");
  assert.match(refused.message, new RegExp(`spec.resources\\[0\\] of Receiver ${namespace}/reach names GitRepository ${other}/source; use a GitRepository of namespace ${namespace}`));
  assert.equal((await getReceiver(namespace, "reach")).status?.webhookPath, undefined);
  await fixture.commit("two");
  // The path the Receiver would have had: a generic Receiver needs nothing but the path.
  const response = await post(receiverWebhookPath(token, "reach", namespace), {}, "{}");
  assert.equal(response.status, 404);
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  assert.equal(await fixture.mode(), "one", "the other namespace's source was not fetched");
});

test("a rotated token moves the path: the old one is refused, the new one triggers", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const [first, rotated] = ["rotation-token-one-77ab", "rotation-token-two-90cd"];
  await secret(namespace, "hook-token", first);
  TOKENS.push(rotated);
  const fixture = await gitFixture(namespace);
  await create(namespace, "receivers", "Receiver", "gitlab", { type: "gitlab", secretRef: { name: "hook-token" }, resources: [{ kind: "GitRepository", name: "source" }] });
  const oldPath = await served(namespace, "gitlab");
  await client.request("PATCH", `/api/v1/namespaces/${namespace}/secrets/hook-token`, { body: { stringData: { token: rotated } }, contentType: "application/merge-patch+json" });
  // The Secret is read again at spec.interval, or at once on request (as `fjord reconcile` asks).
  await requestReconcile(client, `${api}/namespaces/${namespace}/receivers/gitlab`);
  const newPath = await eventually(async () => {
    const receiver = await getReceiver(namespace, "gitlab");
    return receiver.status?.webhookPath !== oldPath && receiver.status?.webhookPath;
  }, { timeoutMs: 30_000 });
  assert.equal(newPath, receiverWebhookPath(rotated, "gitlab", namespace));
  await fixture.commit("two");
  const headers = (token: string) => ({ "x-gitlab-event": "Push Hook", "x-gitlab-token": token });
  assert.equal((await post(oldPath, headers(first), "{}")).status, 404, "the old path is gone");
  assert.equal((await post(newPath, headers(first), "{}")).status, 404, "the old token does not verify on the new path");
  assert.equal((await post(newPath, headers(rotated), "{}")).status, 202);
  await eventually(async () => (await fixture.mode()) === "two", { timeoutMs: 20_000 });
});

test("generic-hmac: a signed delivery syncs the Applications a `*` entry selects by label", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const token = "generic-hmac-token-1f6e";
  await secret(namespace, "hook-token", token);
  const fixture = await gitFixture(namespace, { tier: "web" });
  await create(namespace, "receivers", "Receiver", "ci", { type: "generic-hmac", secretRef: { name: "hook-token" }, resources: [{ kind: "GitRepository", name: "*", matchLabels: { tier: "web" } }, { kind: "Application", name: "*", matchLabels: { tier: "none" } }] });
  const webhookPath = await served(namespace, "ci");
  await fixture.commit("two");
  const body = JSON.stringify({ reason: "ci finished" });
  assert.equal((await post(webhookPath, { "x-signature": githubSignature("wrong", body) }, body)).status, 404);
  const accepted = await post(webhookPath, { "x-signature": githubSignature(token, body) }, body);
  assert.equal(accepted.status, 202);
  assert.deepEqual(await accepted.json(), { triggered: 1 }, "the source carrying tier=web; no Application carries tier=none");
  await eventually(async () => (await fixture.mode()) === "two", { timeoutMs: 20_000 });
});

test("a registry delivery (Docker Hub's payload, Harbor's auth header) triggers an ImageRepository scan", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repository = `${namespace}/app`;
  await registry.pushImage(repository, ["1.0.0"], { content: "1.0.0" });
  await create(namespace, "imagerepositories", "ImageRepository", "app", { image: registry.image(repository), interval: "1h", insecure: true });
  const scanned = async () => (await client.request<ImageRepository>("GET", `${api}/namespaces/${namespace}/imagerepositories/app`)).status?.lastScanResult?.tagCount;
  await eventually(async () => (await scanned()) === 1, { timeoutMs: 30_000 });
  const [hubToken, harborToken] = ["dockerhub-token-3a0b", "harbor-token-c85d"];
  await secret(namespace, "hub", hubToken);
  await secret(namespace, "harbor", harborToken);
  await create(namespace, "receivers", "Receiver", "hub", { type: "dockerhub", secretRef: { name: "hub" }, resources: [{ kind: "ImageRepository", name: "app" }] });
  await create(namespace, "receivers", "Receiver", "harbor", { type: "harbor", secretRef: { name: "harbor" }, resources: [{ kind: "ImageRepository", name: "app" }] });
  const [hubPath, harborPath] = [await served(namespace, "hub"), await served(namespace, "harbor")];

  await registry.pushImage(repository, ["1.1.0"], { content: "1.1.0" });
  assert.equal((await post(harborPath, { authorization: "wrong" }, JSON.stringify({ type: "PUSH_ARTIFACT" }))).status, 404);
  assert.equal((await post(hubPath, {}, "not json")).status, 400, "a Docker Hub delivery is read as one");
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  assert.equal(await scanned(), 1, "no scan from refused deliveries");
  const hubPayload = JSON.stringify({ push_data: { tag: "1.1.0", pusher: "ci" }, repository: { repo_name: repository, repo_url: `https://hub.docker.com/r/${repository}` } });
  assert.equal((await post(hubPath, {}, hubPayload)).status, 202);
  await eventually(async () => (await scanned()) === 2, { timeoutMs: 20_000 });

  await registry.pushImage(repository, ["1.2.0"], { content: "1.2.0" });
  assert.equal((await post(harborPath, { authorization: harborToken }, JSON.stringify({ type: "PUSH_ARTIFACT", event_data: { repository: { repo_full_name: repository } } }))).status, 202);
  await eventually(async () => (await scanned()) === 3, { timeoutMs: 20_000 });
});

test("no token in the controller's log, in any Receiver's status or in any Event", async () => {
  assert.ok(TOKENS.length >= 6);
  const text = await log();
  const receivers = await client.request<{ items: Receiver[] }>("GET", `${api}/receivers`);
  const events = await client.request<{ items: KubeObject[] }>("GET", "/api/v1/events");
  const statuses = JSON.stringify(receivers.items.map((receiver) => receiver.status));
  const eventText = JSON.stringify(events.items);
  for (const token of TOKENS) {
    assert.ok(!text.includes(token), "a token in the controller's log");
    assert.ok(!statuses.includes(token), "a token in a Receiver's status");
    assert.ok(!eventText.includes(token), "a token in an Event");
  }
  // The webhook path of the unsigned types is itself a credential: the log shows the route pattern only.
  for (const receiver of receivers.items) if (receiver.status?.webhookPath) assert.ok(!text.includes(receiver.status.webhookPath.slice(6)), "a webhook path in the log");
});
