import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { parse } from "yaml";
import { installCustomResourceDefinitions } from "../src/controller/crd-install.ts";
import type { Application, GitRepository } from "../src/api/types.ts";
import { installManifests } from "../src/install/manifests.ts";
import { installOptions } from "../src/install/options.ts";
import { KubeClient } from "../src/kube/client.ts";
import type { KubeObject } from "../src/model/object.ts";
import { freePort } from "../testenv/ports.ts";
import { runFjord } from "./support/cli.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";

/** The controller this file starts reconciles only objects with this label; other files' objects are not its business. */
const SUITE = { "fjord.dev/test-suite": "app-cli" };

const root = path.resolve(import.meta.dirname, "..");
const api = "/apis/fjord.dev/v1alpha1/namespaces";
let client: KubeClient;
let kubeconfig: string;
let git: GitServer;
let work: string;
let leaseNamespace: string;
let controller: { process: ChildProcess; exited: Promise<number | null>; output: () => string; base: string } | undefined;

before(async () => {
  kubeconfig = (await useCluster()).kubeconfigPath;
  client = KubeClient.load({ kubeconfig });
  // The first test needs the CRDs before any controller has installed them.
  await installCustomResourceDefinitions(client);
  git = await startGitServer();
  work = await mkdtemp(path.join(os.tmpdir(), "fjord-app-cli-"));
  leaseNamespace = `app-cli-lease-${randomBytes(3).toString("hex")}`;
  await client.request("POST", "/api/v1/namespaces", { body: { apiVersion: "v1", kind: "Namespace", metadata: { name: leaseNamespace, labels: { "fjord.dev/test": "true" } } } });
});
after(async () => {
  if (controller && controller.process.exitCode === null) controller.process.kill("SIGTERM");
  await controller?.exited;
  await client.request("DELETE", `/api/v1/namespaces/${leaseNamespace}`).catch(() => undefined);
  client.close();
  await git.close();
  await rm(work, { recursive: true, force: true });
});

interface Probe {
  httpGet: { path: string; port: string };
}

/**
 * The controller, started with the arguments of the install Deployment (only the listen
 * address, the kubeconfig and the Lease's namespace differ), so these tests also show the
 * Deployment's flags and probes work against the real command.
 */
async function startController(): Promise<NonNullable<typeof controller>> {
  if (controller) return controller;
  const deployment = installManifests(installOptions()).find((object) => object.kind === "Deployment") as unknown as { spec: { template: { spec: { containers: Array<{ args: string[]; livenessProbe: Probe; readinessProbe: Probe }> } } } };
  const container = deployment.spec.template.spec.containers[0];
  assert.ok(container);
  const port = await freePort();
  const args = [...container.args, `--bind-address=127.0.0.1:${port}`, "--metrics-bind-address=127.0.0.1:0", `--leader-election-namespace=${leaseNamespace}`, "--identity=app-cli-test", "--kubeconfig", kubeconfig, "--watch-label-selector=fjord.dev/test-suite=app-cli", "--no-sealed-secrets"];
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: root, env: { ...process.env, FJORD_CACHE_DIR: work }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  controller = { process: child, exited, output: () => output, base };
  for (const probe of [container.livenessProbe, container.readinessProbe]) {
    await eventually(async () => (await fetch(`${base}${probe.httpGet.path}`).then((response) => response.status, () => 0)) === 200, { timeoutMs: 30_000, describe: () => output });
  }
  // With --leader-elect the controller reconciles only once it holds the Lease.
  await eventually(async () => ((await client.request<KubeObject>("GET", `/apis/coordination.k8s.io/v1/namespaces/${leaseNamespace}/leases/fjord-controller`).catch(() => undefined))?.spec as { holderIdentity?: string } | undefined)?.holderIdentity === "app-cli-test", {
    timeoutMs: 30_000,
    describe: () => output,
  });
  return controller;
}

const configMap = (value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  value: "${value}"\n`;

/** A repository with `app/settings.yaml`, and a GitRepository `source` + Application `web` over it (hour-long intervals: only a request explains a quick sync). */
async function createApp(namespace: string, options: { suspend?: boolean } = {}): Promise<string> {
  const repo = `app-${namespace}`;
  await git.createRepo(repo);
  await git.commitFiles(repo, { "app/settings.yaml": configMap("one") }, { message: "one" });
  await client.request("POST", `${api}/${namespace}/gitrepositories`, { body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "source", labels: SUITE }, spec: { url: git.repoUrl(repo), interval: "1h" } } });
  await client.request("POST", `${api}/${namespace}/applications`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "web", labels: SUITE }, spec: { sourceRef: { kind: "GitRepository", name: "source" }, path: "./app", interval: "1h", ...(options.suspend ? { suspend: true } : {}) } },
  });
  return repo;
}

const fjord = (...args: string[]) => runFjord([...args, "--kubeconfig", kubeconfig]);
const readyTime = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");

test("get apps and get sources show readiness, status, revision and suspension, as a table, JSON or YAML", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  // Suspended, so a controller running for another test leaves the status written here alone.
  await client.request("POST", `${api}/${namespace}/gitrepositories`, { body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "platform", labels: SUITE }, spec: { url: "https://git.example/platform.git", interval: "1h", suspend: true } } });
  for (const name of ["api", "web"]) {
    await client.request("POST", `${api}/${namespace}/applications`, {
      body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name, labels: SUITE }, spec: { sourceRef: { kind: "GitRepository", name: "platform" }, path: `./${name}`, suspend: name === "api" } },
    });
  }
  const revision = `main@sha1:${"a".repeat(40)}`;
  const writeStatus = async () => {
    await client.request("PATCH", `${api}/${namespace}/gitrepositories/platform/status`, {
      body: { status: { conditions: [{ type: "Ready", status: "True", reason: "Succeeded", message: `stored artifact for ${revision}`, lastTransitionTime: readyTime() }], artifact: { revision, commit: "a".repeat(40), lastUpdateTime: readyTime() } } },
      contentType: "application/merge-patch+json",
    });
    await client.request("PATCH", `${api}/${namespace}/applications/web/status`, {
      body: { status: { lastAppliedRevision: revision, conditions: [{ type: "Ready", status: "False", reason: "ValidationFailed", message: "ConfigMap/x (app/x.yaml:1):\n  invalid", lastTransitionTime: readyTime() }] } },
      contentType: "application/merge-patch+json",
    });
  };

  const apps = await eventually(async () => {
    await writeStatus();
    const result = await fjord("get", "apps", "-n", namespace);
    return result.stdout.includes("ValidationFailed") || result.stdout.includes("invalid") ? result : undefined;
  }, { timeoutMs: 20_000 });
  assert.equal(apps.code, 0, apps.stderr);
  const lines = apps.stdout.trimEnd().split("\n");
  assert.match(lines[0] ?? "", /^NAME\s+READY\s+STATE\s+STATUS\s+REVISION\s+SUSPENDED\s+AGE$/);
  assert.match(lines[1] ?? "", /^api\s+Unknown\s+Unknown\s+true\s+\d+s$/);
  assert.match(lines[2] ?? "", new RegExp(`^web\\s+False\\s+Failed\\s+ConfigMap/x \\(app/x\\.yaml:1\\): invalid\\s+${revision}\\s+false\\s+\\d+s$`));

  const sources = await fjord("get", "sources", "-n", namespace);
  assert.equal(sources.code, 0, sources.stderr);
  assert.match(sources.stdout, /^NAME\s+URL\s+READY\s+STATE\s+REVISION\s+AGE\n/);
  assert.match(sources.stdout, new RegExp(`^platform\\s+https://git\\.example/platform\\.git\\s+True\\s+Ready\\s+${revision}\\s+\\d+s$`, "m"));

  const json = JSON.parse((await fjord("get", "apps", "-n", namespace, "-o", "json")).stdout) as { kind: string; items: Application[] };
  assert.equal(json.kind, "List");
  assert.deepEqual(json.items.map((item) => `${item.kind}/${item.metadata.name}`), ["Application/api", "Application/web"]);
  const yaml = parse((await fjord("get", "source", "platform", "-n", namespace, "-o", "yaml")).stdout) as { items: GitRepository[] };
  assert.equal(yaml.items[0]?.status?.artifact?.revision, revision);

  const everywhere = await fjord("get", "apps", "-A");
  assert.match(everywhere.stdout, /^NAMESPACE\s+NAME\s+READY/);
  assert.match(everywhere.stdout, new RegExp(`^${namespace}\\s+web\\s+False`, "m"));

  const missing = await fjord("get", "app", "nope", "-n", namespace);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, new RegExp(`Application ${namespace}/nope not found`));
  const empty = await fjord("get", "apps", "-n", leaseNamespace);
  assert.equal(empty.code, 0);
  assert.match(empty.stderr, /no Applications found/);
});

test("suspend sets spec.suspend; resume clears it, has the controller reconcile at once and reports the result", async (t) => {
  await startController();
  const namespace = await createTestNamespace(await useCluster(), t);
  await createApp(namespace, { suspend: true });
  const suspended = async () => (await client.request<Application>("GET", `${api}/${namespace}/applications/web`)).spec.suspend;

  const reconcileSuspended = await fjord("reconcile", "app", "web", "-n", namespace);
  assert.equal(reconcileSuspended.code, 1);
  assert.match(reconcileSuspended.stderr, /is suspended; resume it first/);

  const resumed = await fjord("resume", "app", "web", "-n", namespace, "--timeout", "60s");
  assert.equal(resumed.code, 0, `${resumed.stdout}${resumed.stderr}${controller?.output().slice(-2000)}`);
  assert.equal(await suspended(), false);
  assert.match(resumed.stdout, new RegExp(`^Application ${namespace}/web reconciled$`, "m"));
  assert.match(resumed.stdout, /ready: +True \(ReconciliationSucceeded\)/);
  assert.match(resumed.stdout, /revision: +main@sha1:[0-9a-f]{40}/);
  assert.match(resumed.stdout, /changes: +1 created, 0 configured, 0 deleted, 0 unchanged/);

  const suspendedAgain = await fjord("suspend", "app", "web", "-n", namespace);
  assert.equal(suspendedAgain.code, 0, suspendedAgain.stderr);
  assert.equal(suspendedAgain.stdout, `Application ${namespace}/web suspended\n`);
  assert.equal(await suspended(), true);
  assert.equal((await fjord("suspend", "app", "nope", "-n", namespace)).code, 1);
});

test("reconcile app --with-source fetches the new commit and applies it now; a bad commit exits non-zero with the reason", async (t) => {
  await startController();
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = await createApp(namespace);
  const app = async () => client.request<Application>("GET", `${api}/${namespace}/applications/web`);
  await eventually(async () => (await app()).status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True"), { timeoutMs: 60_000, describe: () => controller?.output().slice(-2000) ?? "" });

  const second = await git.commitFiles(repo, { "app/settings.yaml": configMap("two") }, { message: "two: a new value" });
  const reconciled = await fjord("reconcile", "app", "web", "-n", namespace, "--with-source", "--timeout", "60s");
  assert.equal(reconciled.code, 0, `${reconciled.stdout}${reconciled.stderr}`);
  assert.match(reconciled.stdout, new RegExp(`^GitRepository ${namespace}/source reconciled\\n  ready: +True .*\\n  revision: +main@sha1:${second}\\n  commit: +two: a new value \\(Fjord Test <test@fjord\\.invalid>\\)$`, "m"));
  assert.match(reconciled.stdout, new RegExp(`^Application ${namespace}/web reconciled\\n  ready: +True .*\\n  revision: +main@sha1:${second}\\n  changes: +0 created, 1 configured, 0 deleted, 0 unchanged$`, "m"));
  const settings = await client.request<{ data: { value: string } }>("GET", `/api/v1/namespaces/${namespace}/configmaps/settings`);
  assert.equal(settings.data.value, "two");

  const again = await fjord("reconcile", "app", "web", "-n", namespace);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /changes: +none/);

  const source = await fjord("reconcile", "source", "source", "-n", namespace);
  assert.equal(source.code, 0, source.stderr);
  assert.match(source.stdout, new RegExp(`revision: +main@sha1:${second}`));

  await git.commitFiles(repo, { "app/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_Valid\n" }, { message: "broken" });
  const failed = await fjord("reconcile", "app", "web", "-n", namespace, "--with-source", "--timeout", "60s");
  assert.equal(failed.code, 1, failed.stdout);
  assert.match(failed.stderr, new RegExp(`Application ${namespace}/web is not ready \\(stalled: [^)]*\\): ValidationFailed: .*Not_Valid`, "s"));
  assert.equal((await client.request<{ data: { value: string } }>("GET", `/api/v1/namespaces/${namespace}/configmaps/settings`)).data.value, "two");

  const missing = await fjord("reconcile", "app", "nope", "-n", namespace);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /not found/);
});
