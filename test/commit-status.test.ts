/**
 * Commit statuses end to end: a repository hosted on a real Gitea (built from Go modules), a
 * GitRepository fetching it over smart HTTP, an Application applying it, and a Provider of type
 * gitea routed by an Alert. Gitea's own API must then show pending and success on the applied
 * commit with the context naming the cluster and the Application, and failure on a broken
 * commit. A bad token shows in the Provider's status as Gitea's 401, without the token. The
 * github, gitlab and bitbucket types are checked against a local receiver that accepts exactly
 * the method, path, headers and body each host documents. No token in logs, statuses or Events.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { pino } from "pino";
import { runController } from "../src/controller/controller.ts";
import { installCustomResourceDefinitions } from "../src/controller/crd-install.ts";
import { KubeClient } from "../src/kube/client.ts";
import { runFjord } from "./support/cli.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";
import { startGitea, type Gitea } from "./support/gitea.ts";

const SUITE = "commit-status";
const CLUSTER = "test-cluster";
const labels = { "fjord.dev/test-suite": SUITE };
const api = "/apis/fjord.dev/v1alpha1";
const GOOD = { "deploy/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  colour: blue\n" };
// The API server refuses the name in the dry run: the revision fails, nothing is applied.
const BROKEN = { "deploy/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_A_Valid_Name\ndata:\n  colour: red\n" };

let client: KubeClient;
let gitea: Gitea;
let cacheDir: string;
const logLines: string[] = [];
const abort = new AbortController();
let running: Promise<void>;

before(async () => {
  const cluster = await useCluster();
  client = KubeClient.load({ kubeconfig: cluster.kubeconfigPath });
  await installCustomResourceDefinitions(client);
  gitea = await startGitea();
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "fjord-commit-status-cache-"));
  // Every line the controller logs, at debug, for the token scan.
  const logger = pino({ level: "debug" }, new Writable({ write: (chunk: Buffer, _encoding, done) => void (logLines.push(chunk.toString()), done()) }));
  running = runController(
    { client, logger, cacheDir, installCrds: false, clusterName: CLUSTER, watchLabelSelector: `fjord.dev/test-suite=${SUITE}`, notify: { backoffMs: 100, maxBackoffMs: 400, attempts: 4 } },
    abort.signal,
  );
});
after(async () => {
  abort.abort();
  await running;
  client.close();
  await gitea?.stop();
  await rm(cacheDir, { recursive: true, force: true });
});

const create = (namespace: string, resource: string, body: Record<string, unknown>) => client.request("POST", `${api}/namespaces/${namespace}/${resource}`, { body: { apiVersion: "fjord.dev/v1alpha1", ...body } });
const secret = (namespace: string, name: string, data: Record<string, string>) =>
  client.request("POST", `/api/v1/namespaces/${namespace}/secrets`, { body: { apiVersion: "v1", kind: "Secret", metadata: { name }, stringData: data } });

/** A GitRepository on the Gitea repository and an Application applying its deploy/ directory. */
async function application(namespace: string, repo: string, name = "web"): Promise<void> {
  await create(namespace, "gitrepositories", { kind: "GitRepository", metadata: { name: "source", labels }, spec: { url: gitea.repoUrl(repo), interval: "2s", ref: { branch: "main" } } });
  await create(namespace, "applications", { kind: "Application", metadata: { name, labels }, spec: { sourceRef: { kind: "GitRepository", name: "source" }, path: "./deploy", interval: "1h", retryInterval: "2s" } });
}

async function alertTo(namespace: string, provider: string): Promise<void> {
  await create(namespace, "alerts", { kind: "Alert", metadata: { name: provider, labels }, spec: { providerRef: { name: provider }, eventSeverity: "info", eventSources: [{ kind: "Application", name: "*" }] } });
}

/** Logs, every fjord object's status and the namespace's Events, as one text to scan for secrets. */
async function everythingShown(namespace: string): Promise<string> {
  const parts = [...logLines];
  for (const resource of ["providers", "alerts", "applications", "gitrepositories"]) parts.push(JSON.stringify(await client.request("GET", `${api}/namespaces/${namespace}/${resource}`)));
  parts.push(JSON.stringify(await client.request("GET", `/api/v1/namespaces/${namespace}/events`)));
  return parts.join("\n");
}

test("gitea: pending then success on the applied commit, failure on a broken one, with the cluster and Application in the context", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = `app-${namespace}`;
  await gitea.createRepo(repo);
  const good = await gitea.commitFiles(repo, GOOD, "a good commit");
  await secret(namespace, "gitea-token", { token: gitea.token });
  // No address: the repository is the one the Application's GitRepository fetches.
  await create(namespace, "providers", { kind: "Provider", metadata: { name: "gitea", labels }, spec: { type: "gitea", secretRef: { name: "gitea-token" } } });
  await alertTo(namespace, "gitea");
  await eventually(async () => {
    const provider = await client.request<{ status?: { conditions?: Array<{ type: string; status: string; message: string }> } }>("GET", `${api}/namespaces/${namespace}/providers/gitea`);
    return provider.status?.conditions?.find((condition) => condition.type === "Ready")?.status === "True";
  });
  await application(namespace, repo);
  const context = `fjord/${CLUSTER}/${namespace}/web`;

  const applied = await eventually(async () => {
    const statuses = await gitea.statuses(repo, good);
    return statuses.some((status) => status.status === "success") && statuses;
  }, { timeoutMs: 60_000 });
  // Gitea keeps every status it was sent; ids give their order (timestamps have whole seconds).
  const states = applied.filter((status) => status.context === context).sort((a, b) => a.id - b.id).map((status) => status.status);
  assert.deepEqual(states, ["pending", "success"], "pending when the sync started, success when applied");
  const success = applied.find((status) => status.status === "success");
  assert.equal(success?.creator?.login, gitea.admin.username, "set with the Provider's token");
  assert.match(success?.description ?? "", /^Applied revision main@sha1:[0-9a-f]{40}/);

  const broken = await gitea.commitFiles(repo, BROKEN, "a broken commit");
  const failed = await eventually(async () => {
    const statuses = await gitea.statuses(repo, broken);
    return statuses.find((status) => status.status === "failure");
  }, { timeoutMs: 60_000 });
  assert.equal(failed.context, context);
  assert.ok(failed.description.length <= 140, "the description is bounded");
  assert.match(failed.description, /^ValidationFailed: .*nothing was changed/, "the failure's reason and message");
  assert.deepEqual((await gitea.statuses(repo, good)).map((status) => status.status).sort(), ["pending", "success"], "the good commit keeps its own statuses");

  const providers = await runFjord(["get", "providers", "-n", namespace, "--kubeconfig", (await useCluster()).kubeconfigPath]);
  assert.equal(providers.code, 0, providers.stderr);
  assert.match(providers.stdout, /^gitea\s+gitea\s+True\s+sets commit statuses on the repository of each Application's GitRepository/m);
  process.stdout.write(providers.stdout);
  const shown = [await everythingShown(namespace), providers.stdout].join("\n");
  assert.ok(!shown.includes(gitea.token), "the token appears in no log line, status, Event or output");
});

test("gitea: a bad token shows as the host's 401 in the Provider's status, without the token", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = `bad-token-${namespace}`;
  await gitea.createRepo(repo);
  const commit = await gitea.commitFiles(repo, GOOD, "a commit");
  const wrongToken = "0123456789abcdef-wrong-token-7e1f";
  await secret(namespace, "wrong", { token: wrongToken });
  await create(namespace, "providers", { kind: "Provider", metadata: { name: "gitea", labels }, spec: { type: "gitea", address: gitea.repoUrl(repo), secretRef: { name: "wrong" } } });
  await alertTo(namespace, "gitea");
  await application(namespace, repo);
  const failure = await eventually(async () => {
    const provider = await client.request<{ status?: { lastFailure?: { message: string } } }>("GET", `${api}/namespaces/${namespace}/providers/gitea`);
    return provider.status?.lastFailure;
  }, { timeoutMs: 60_000 });
  assert.match(failure.message, /after 1 attempt: the receiver answered HTTP 401 \(a client error: not retried\)/);
  assert.deepEqual(await gitea.statuses(repo, commit), [], "nothing was set");
  const providers = await runFjord(["get", "providers", "-n", namespace, "--kubeconfig", (await useCluster()).kubeconfigPath]);
  process.stdout.write(providers.stdout);
  const shown = await everythingShown(namespace);
  assert.ok(!shown.includes(wrongToken), "the token appears in no log line, status or Event");
});

interface Received {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A local stand-in for the hosted APIs: records every request and answers 201 as they do. */
async function receiver(): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ method: request.method ?? "", path: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
      response.writeHead(201, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test("github, gitlab, bitbucket: exactly the method, path, headers and body each host documents", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = `hosted-${namespace}`;
  await gitea.createRepo(repo);
  const commit = await gitea.commitFiles(repo, GOOD, "a commit");
  const host = await receiver();
  t.after(() => host.close());
  const tokens = { github: "ghp_github-token-3c1d", gitlab: "glpat-gitlab-token-9a7e", bitbucket: "fjord-bot:bitbucket-app-password-55b2" };
  // A host on loopback stands in for GitHub Enterprise, a self-hosted GitLab, and Bitbucket's API.
  const addresses = { github: `${host.url}/acme/web.git`, gitlab: `${host.url}/acme/platform/web.git`, bitbucket: `${host.url}/acme-workspace/web` };
  for (const type of ["github", "gitlab", "bitbucket"] as const) {
    await secret(namespace, `${type}-token`, { token: tokens[type] });
    await create(namespace, "providers", { kind: "Provider", metadata: { name: type, labels }, spec: { type, address: addresses[type], secretRef: { name: `${type}-token` } } });
    await alertTo(namespace, type);
  }
  await eventually(async () => {
    const list = await client.request<{ items: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }> }>("GET", `${api}/namespaces/${namespace}/providers`);
    return list.items.length === 3 && list.items.every((item) => item.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True"));
  });
  await application(namespace, repo, "a-long-application-name-for-bitbucket");
  const context = `fjord/${CLUSTER}/${namespace}/a-long-application-name-for-bitbucket`;
  await eventually(() => Promise.resolve(host.received.length >= 6), { timeoutMs: 60_000 });

  const byPath = (prefix: string) => host.received.filter((request) => request.path.startsWith(prefix));
  const github = byPath("/api/v3/");
  assert.deepEqual(github.map((request) => [request.method, request.path]), [
    ["POST", `/api/v3/repos/acme/web/statuses/${commit}`],
    ["POST", `/api/v3/repos/acme/web/statuses/${commit}`],
  ]);
  for (const request of github) {
    assert.equal(request.headers["authorization"], `Bearer ${tokens.github}`);
    assert.equal(request.headers["accept"], "application/vnd.github+json");
    assert.equal(request.headers["x-github-api-version"], "2022-11-28");
    assert.equal(request.headers["content-type"], "application/json");
    assert.ok(request.headers["user-agent"], "GitHub refuses requests without a User-Agent");
  }
  assert.deepEqual(github.map((request) => (JSON.parse(request.body) as { state: string }).state), ["pending", "success"]);
  assert.deepEqual(Object.keys(JSON.parse(github[1]?.body ?? "{}") as object).sort(), ["context", "description", "state"]);
  assert.equal((JSON.parse(github[1]?.body ?? "{}") as { context: string }).context, context);

  const gitlab = byPath("/api/v4/");
  assert.deepEqual(gitlab.map((request) => [request.method, request.path]), [
    ["POST", `/api/v4/projects/acme%2Fplatform%2Fweb/statuses/${commit}`],
    ["POST", `/api/v4/projects/acme%2Fplatform%2Fweb/statuses/${commit}`],
  ]);
  for (const request of gitlab) {
    assert.equal(request.headers["private-token"], tokens.gitlab);
    assert.equal(request.headers["authorization"], undefined);
    assert.equal(request.headers["content-type"], "application/json");
  }
  assert.deepEqual(gitlab.map((request) => JSON.parse(request.body) as { state: string; name: string }).map(({ state, name }) => [state, name]), [["running", context], ["success", context]]);

  const bitbucket = byPath("/2.0/");
  assert.deepEqual(bitbucket.map((request) => [request.method, request.path]), [
    ["POST", `/2.0/repositories/acme-workspace/web/commit/${commit}/statuses/build`],
    ["POST", `/2.0/repositories/acme-workspace/web/commit/${commit}/statuses/build`],
  ]);
  for (const request of bitbucket) {
    assert.equal(request.headers["authorization"], `Basic ${Buffer.from(tokens.bitbucket).toString("base64")}`);
    assert.equal(request.headers["content-type"], "application/json");
  }
  const bodies = bitbucket.map((request) => JSON.parse(request.body) as { key: string; state: string; name: string; url: string });
  assert.deepEqual(bodies.map((body) => body.state), ["INPROGRESS", "SUCCESSFUL"]);
  assert.ok(context.length > 40);
  assert.match(bodies[0]?.key ?? "", /^[0-9a-f]{40}$/, "a context longer than Bitbucket's 40-character key is hashed");
  assert.equal(bodies[0]?.key, bodies[1]?.key, "the same key, so success replaces in-progress");
  assert.equal(bodies[0]?.name, context);
  assert.equal(bodies[0]?.url, `${host.url}/acme-workspace/web`);

  const shown = await everythingShown(namespace);
  for (const token of Object.values(tokens)) {
    assert.ok(!shown.includes(token), "no token in logs, statuses or Events");
    assert.ok(host.received.every((request) => !request.body.includes(token) && !request.path.includes(token)), "tokens only ever in headers");
  }
});

test("the API server refuses a commit-status Provider whose address is not a repository URL", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  await assert.rejects(create(namespace, "providers", { kind: "Provider", metadata: { name: "bad" }, spec: { type: "github", address: "file:///etc/passwd" } }), /address/);
  await assert.rejects(create(namespace, "providers", { kind: "Provider", metadata: { name: "bad" }, spec: { type: "slack", address: "git@github.com:org/repo.git" } }), /address/);
  await create(namespace, "providers", { kind: "Provider", metadata: { name: "scp", labels }, spec: { type: "github", address: "git@github.com:org/repo.git", secretRef: { name: "missing" } } });
  // A hostile path is accepted by the schema (it is a URL) and refused by the controller, naming the fix.
  await secret(namespace, "token", { token: "t" });
  await create(namespace, "providers", { kind: "Provider", metadata: { name: "traversal", labels }, spec: { type: "gitea", address: "https://gitea.example.com/owner/%2e%2e/admin", secretRef: { name: "token" } } });
  const ready = await eventually(async () => {
    const provider = await client.request<{ status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } }>("GET", `${api}/namespaces/${namespace}/providers/traversal`);
    const condition = provider.status?.conditions?.find((item) => item.type === "Ready");
    return condition?.status === "False" && condition.reason === "InvalidProvider" && condition;
  });
  assert.match(ready.message, /owner\/repository.*no percent-escapes/);
});
