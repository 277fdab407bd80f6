import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import type { Application } from "../src/api/types.ts";
import { KubeClient } from "../src/kube/client.ts";
import type { KubeObject } from "../src/model/object.ts";
import { freePort } from "../testenv/ports.ts";
import { runFjord } from "./support/cli.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";

const execFileAsync = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..");
const TOKEN = "bootstrap-test-token-3f9a";
let client: KubeClient;
let kubeconfig: string;
let git: GitServer;
let work: string;
let tokenFile: string;

before(async () => {
  kubeconfig = (await useCluster()).kubeconfigPath;
  client = KubeClient.load({ kubeconfig });
  git = await startGitServer({ auth: { token: TOKEN } });
  work = await mkdtemp(path.join(os.tmpdir(), "fjord-bootstrap-"));
  tokenFile = path.join(work, "token");
  await writeFile(tokenFile, `${TOKEN}\n`);
});
after(async () => {
  client.close();
  await git.close();
  await rm(work, { recursive: true, force: true });
});

const show = async (repo: string, spec: string) =>
  (await execFileAsync("git", ["--git-dir", path.join(git.root, `${repo}.git`), ...spec.split(" ")], { env: { ...git.gitEnv } })).stdout;

/**
 * The bootstrapped Application manages fjord's own CRDs with prune on: deleting it while a
 * controller runs would delete them for every test. Suspend it and release its finalizer
 * before the namespace goes, and remove the cluster-admin binding it applied.
 */
async function releaseBootstrap(namespace: string): Promise<void> {
  const appPath = `/apis/fjord.dev/v1alpha1/namespaces/${namespace}/applications/${namespace}`;
  await client.request("PATCH", appPath, { body: { spec: { suspend: true } }, contentType: "application/merge-patch+json" }).catch(() => undefined);
  await client.request("PATCH", appPath, { body: { metadata: { finalizers: null } }, contentType: "application/merge-patch+json" }).catch(() => undefined);
  await client.request("DELETE", appPath).catch(() => undefined);
  await client.request("DELETE", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/fjord-controller-cluster-admin").catch(() => undefined);
}

test("bootstrap commits the install and sync manifests, applies them with the source Secret, and a second run commits nothing", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = `fleet-${namespace}`;
  await git.createRepo(repo);
  await git.commitFiles(repo, { "README.md": "fleet\n", "clusters/test/apps/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fleet-settings\n  namespace: " + namespace + "\ndata:\n  a: b\n" }, { message: "initial" });
  const args = ["bootstrap", "--repo", git.repoUrl(repo), "--path", "clusters/test/", "--namespace", namespace, "--git-token-file", tokenFile, "--interval", "1h", "--kubeconfig", kubeconfig];

  let controller: ReturnType<typeof spawn> | undefined;
  try {
    const first = await runFjord(args);
    assert.equal(first.code, 0, first.stderr);
    const dir = `clusters/test/${namespace}`;
    assert.match(first.stderr, new RegExp(`committed ${dir}/install\\.yaml, ${dir}/sync\\.yaml as [0-9a-f]{12} to main`));
    const head = (await show(repo, "rev-parse main")).trim();
    assert.equal((await show(repo, `log -1 --format=%an%n%s main`)).trim(), `fjord\nfjord bootstrap: ${dir} (fjord 0.1.0)`);

    const install = parseAllDocuments(await show(repo, `show main:${dir}/install.yaml`)).map((document) => document.toJS() as KubeObject);
    assert.ok(install.some((object) => object.kind === "ClusterRoleBinding" && (object.roleRef as { name: string }).name === "cluster-admin"), "fjord manages itself, so it is cluster-admin");
    assert.ok(install.some((object) => object.kind === "Deployment" && object.metadata.namespace === namespace));
    const sync = parseAllDocuments(await show(repo, `show main:${dir}/sync.yaml`)).map((document) => document.toJS() as KubeObject);
    assert.deepEqual(sync.map((object) => `${object.kind}/${object.metadata.namespace}/${object.metadata.name}`), [`GitRepository/${namespace}/${namespace}`, `Application/${namespace}/${namespace}`]);
    assert.deepEqual(sync[0]?.spec, { url: git.repoUrl(repo), ref: { branch: "main" }, interval: "1h", secretRef: { name: namespace } });
    assert.deepEqual(sync[1]?.spec, { sourceRef: { kind: "GitRepository", name: namespace }, path: "./clusters/test", interval: "10m", prune: true });

    // Applied: the sync objects, the controller, and the credentials (Flux's key), which never reach Git or the output.
    const api = `/apis/fjord.dev/v1alpha1/namespaces/${namespace}`;
    const source = await client.request<KubeObject>("GET", `${api}/gitrepositories/${namespace}`);
    assert.deepEqual((source.spec as { secretRef?: unknown }).secretRef, { name: namespace });
    await client.request("GET", `${api}/applications/${namespace}`);
    await client.request("GET", `/apis/apps/v1/namespaces/${namespace}/deployments/fjord-controller`);
    const secret = await client.request<{ data: Record<string, string> }>("GET", `/api/v1/namespaces/${namespace}/secrets/${namespace}`);
    assert.deepEqual(Object.keys(secret.data), ["bearerToken"]);
    assert.equal(Buffer.from(secret.data.bearerToken ?? "", "base64").toString(), TOKEN);
    const everything = `${first.stdout}${first.stderr}${await show(repo, "log -p main")}`;
    assert.ok(!everything.includes(TOKEN), "the token is not in the output or the repository");

    const second = await runFjord(args);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /nothing to commit/);
    assert.equal((await show(repo, "rev-parse main")).trim(), head);
    assert.doesNotMatch(second.stdout, /created|configured/);

    // The controller (out of cluster here: the Deployment's image does not run in this test cluster) takes over.
    const port = await freePort();
    controller = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "controller", "--kubeconfig", kubeconfig, "--bind-address", `127.0.0.1:${port}`, "--no-sealed-secrets",
      // Only what bootstrap created (it labels its objects as part of fjord), never other test files' objects.
      "--watch-label-selector", "app.kubernetes.io/part-of=fjord"], {
      cwd: root,
      env: { ...process.env, FJORD_CACHE_DIR: work },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    controller.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    controller.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const app = await eventually(
      async () => {
        const current = await client.request<Application>("GET", `${api}/applications/${namespace}`);
        return current.status?.lastAppliedRevision === `main@sha1:${head}` ? current : undefined;
      },
      { timeoutMs: 90_000, describe: async () => `${JSON.stringify((await client.request<Application>("GET", `${api}/applications/${namespace}`)).status)}\n${output.slice(-3000)}` },
    );
    assert.equal(app.status?.conditions?.find((condition) => condition.type === "Ready")?.status, "True");
    // Its own objects and the cluster's: everything under the path.
    const entries = (app.status?.inventory?.entries ?? []).map((entry) => entry.id);
    assert.ok(entries.includes(`${namespace}_fjord-controller_apps_Deployment`), entries.join(" "));
    assert.ok(entries.includes(`${namespace}_fleet-settings__ConfigMap`), entries.join(" "));
    assert.ok(entries.includes(`_applications.fjord.dev_apiextensions.k8s.io_CustomResourceDefinition`), entries.join(" "));
    assert.ok(!output.includes(TOKEN));
  } finally {
    await releaseBootstrap(namespace);
    if (controller && controller.exitCode === null) {
      const exited = new Promise((resolve) => controller?.once("exit", resolve));
      controller.kill("SIGTERM");
      await exited;
    }
  }
});

test("bootstrap into an empty repository (no commits, no branches, as a Git host creates it) starts the branch with the manifests instead of failing", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = `empty-${namespace}`;
  await git.createRepo(repo);
  const args = ["bootstrap", "--repo", git.repoUrl(repo), "--path", "clusters/test", "--namespace", namespace, "--git-token-file", tokenFile, "--interval", "1h", "--kubeconfig", kubeconfig];
  try {
    const first = await runFjord(args);
    assert.equal(first.code, 0, first.stderr);
    const dir = `clusters/test/${namespace}`;
    assert.match(first.stderr, new RegExp(`committed ${dir}/install\\.yaml, ${dir}/sync\\.yaml as [0-9a-f]{12} to new branch main`));
    assert.equal((await show(repo, "for-each-ref --format=%(refname) refs/heads")).trim(), "refs/heads/main");
    // One root commit holding exactly the bootstrap files.
    assert.equal((await show(repo, "log --format=%P|%an|%s main")).trim(), `|fjord|fjord bootstrap: ${dir} (fjord 0.1.0)`);
    assert.deepEqual((await show(repo, "ls-tree -r --name-only main")).trim().split("\n"), [`${dir}/install.yaml`, `${dir}/sync.yaml`]);
    const sync = parseAllDocuments(await show(repo, `show main:${dir}/sync.yaml`)).map((document) => document.toJS() as KubeObject);
    assert.deepEqual(sync[0]?.spec, { url: git.repoUrl(repo), ref: { branch: "main" }, interval: "1h", secretRef: { name: namespace } });
    await client.request("GET", `/apis/fjord.dev/v1alpha1/namespaces/${namespace}/gitrepositories/${namespace}`);
    assert.ok(!`${first.stdout}${first.stderr}`.includes(TOKEN));

    // The branch now exists: a second run finds everything in place.
    const head = (await show(repo, "rev-parse main")).trim();
    const second = await runFjord(args);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /nothing to commit/);
    assert.equal((await show(repo, "rev-parse main")).trim(), head);
  } finally {
    await releaseBootstrap(namespace);
  }
});

test("bootstrap --export prints the files without pushing or applying; a bad --path is refused", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = `export-${namespace}`;
  await git.createRepo(repo);
  await git.commitFiles(repo, { "README.md": "x\n" }, { message: "initial" });
  const exported = await runFjord(["bootstrap", "--repo", git.repoUrl(repo), "--path", "clusters/x", "-n", namespace, "--export"]);
  assert.equal(exported.code, 0, exported.stderr);
  assert.match(exported.stdout, new RegExp(`^# clusters/x/${namespace}/install\\.yaml$`, "m"));
  assert.match(exported.stdout, new RegExp(`^# clusters/x/${namespace}/sync\\.yaml$`, "m"));
  assert.equal((await show(repo, "log --format=%s main")).trim(), "initial");

  for (const bad of [".", "../elsewhere"]) {
    const refused = await runFjord(["bootstrap", "--repo", git.repoUrl(repo), "--path", bad, "--export"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /--path must be a directory inside the repository/);
  }
  const tagged = await runFjord(["bootstrap", "--repo", git.repoUrl(repo), "--path", "clusters/x", "--tag", "v1", "--export"]);
  assert.equal(tagged.code, 1);
  assert.match(tagged.stderr, /bootstrap commits to a branch/);
});
