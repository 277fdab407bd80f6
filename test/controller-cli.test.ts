import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { Application } from "../src/api/types.ts";
import { KubeClient } from "../src/kube/client.ts";
import type { KubeObject } from "../src/model/object.ts";
import { freePort } from "../testenv/ports.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";

/** This file's controller reconciles only objects carrying this label, so controllers of other test files running at the same time never touch them. */
const SUITE = { "fjord.dev/test-suite": "controller-cli" };
const SUITE_SELECTOR = "fjord.dev/test-suite=controller-cli";

const root = path.resolve(import.meta.dirname, "..");
const HOOK_TOKEN = "hook-path-token";
const HOOK_SECRET = "hook-hmac-secret";
let git: GitServer;
let client: KubeClient;
let work: string;
let controller: ChildProcess;
let exited: Promise<number | null>;
let base: string;
let output = "";

before(async () => {
  const cluster = await useCluster();
  client = KubeClient.load({ kubeconfig: cluster.kubeconfigPath });
  git = await startGitServer();
  work = await mkdtemp(path.join(os.tmpdir(), "fjord-controller-cli-"));
  await writeFile(path.join(work, "webhook.json"), JSON.stringify({ token: HOOK_TOKEN, type: "github", secret: HOOK_SECRET }));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  controller = spawn(
    process.execPath,
    ["--import", "tsx", "src/cli/main.ts", "controller", "--kubeconfig", cluster.kubeconfigPath, "--bind-address", `127.0.0.1:${port}`, "--webhook-config", path.join(work, "webhook.json"), "--watch-label-selector", SUITE_SELECTOR, "--no-sealed-secrets"],
    { cwd: root, env: { ...process.env, FJORD_CACHE_DIR: work }, stdio: ["ignore", "pipe", "pipe"] },
  );
  controller.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  controller.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  exited = new Promise((resolve) => controller.on("exit", (code) => resolve(code)));
  await eventually(async () => (await fetch(`${base}/readyz`).then((response) => response.status, () => 0)) === 200, { timeoutMs: 30_000, describe: () => output });
});
after(async () => {
  if (controller.exitCode === null) controller.kill("SIGTERM");
  await exited;
  client.close();
  await git.close();
  await rm(work, { recursive: true, force: true });
});

test("a signed push webhook makes the controller apply the new commit at once; a bad signature is refused", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = `hook-${namespace}`;
  await git.createRepo(repo);
  const cm = (mode: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: ${mode}\n`;
  await git.commitFiles(repo, { "app/cm.yaml": cm("one") }, { message: "one" });
  const api = `/apis/fjord.dev/v1alpha1/namespaces/${namespace}`;
  // An interval of an hour: only the webhook can explain a quick update.
  await client.request("POST", `${api}/gitrepositories`, { body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "source", labels: SUITE }, spec: { url: git.repoUrl(repo), interval: "1h" } } });
  await client.request("POST", `${api}/applications`, { body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "app", labels: SUITE }, spec: { sourceRef: { kind: "GitRepository", name: "source" }, path: "./app", interval: "1h" } } });
  const mode = async () => ((await client.request<KubeObject>("GET", `/api/v1/namespaces/${namespace}/configmaps/settings`).catch(() => undefined))?.data as Record<string, string> | undefined)?.mode;
  await eventually(async () => (await mode()) === "one", { timeoutMs: 30_000, describe: () => output.slice(-2000) });

  const second = await git.commitFiles(repo, { "app/cm.yaml": cm("two") }, { message: "two" });
  const payload = JSON.stringify({ ref: "refs/heads/main", after: second, repository: { clone_url: git.repoUrl(repo), html_url: git.repoUrl(repo).replace(/\.git$/, "") } });
  const send = (signature: string) =>
    fetch(`${base}/hook/${HOOK_TOKEN}`, { method: "POST", headers: { "Content-Type": "application/json", "X-GitHub-Event": "push", "X-Hub-Signature-256": signature }, body: payload });

  const forged = await send(`sha256=${createHmac("sha256", "wrong-secret").update(payload).digest("hex")}`);
  // Refused as any unknown path is: a caller learns nothing of which tokens exist.
  assert.equal(forged.status, 404);
  assert.deepEqual(await forged.json(), { error: "not found" });
  const accepted = await send(`sha256=${createHmac("sha256", HOOK_SECRET).update(payload).digest("hex")}`);
  assert.equal(accepted.status, 202);
  assert.deepEqual(await accepted.json(), { triggered: 1 });
  await eventually(async () => (await mode()) === "two", { timeoutMs: 15_000, describe: () => output.slice(-2000) });
  // The status is written after the apply finishes: wait for it rather than race it.
  await eventually(async () => (await client.request<Application>("GET", `${api}/applications/app`)).status?.lastAppliedRevision === `main@sha1:${second}`, { timeoutMs: 15_000 });

  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /fjord_reconcile_duration_seconds_count\{[^}]*kind="Application"/);
  assert.match(metrics, /^fjord_apply_objects_total\{action="configured"\} [1-9]/m);
  assert.match(metrics, /^fjord_git_fetch_duration_seconds_count\{result="success"\} [1-9]/m);
  assert.ok(!output.includes(HOOK_SECRET) && !output.includes(HOOK_TOKEN), "webhook secrets never reach the logs");
});

test("SIGTERM stops the controller cleanly", async () => {
  controller.kill("SIGTERM");
  assert.equal(await exited, 0);
  assert.match(output, /"msg":"stopped"/);
});
