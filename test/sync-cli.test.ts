import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { KubeClient } from "../src/kube/client.ts";
import { isNotFound } from "../src/kube/errors.ts";
import type { KubeObject } from "../src/model/object.ts";
import { peerToolPath, runFjord, type CliResult } from "./support/cli.ts";
import { createTestNamespace, useCluster, type TestCluster } from "./support/cluster.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";

const examples = path.resolve(import.meta.dirname, "..", "examples", "podinfo");

let git: GitServer;
let cluster: TestCluster;
let client: KubeClient;

before(async () => {
  cluster = await useCluster();
  client = KubeClient.load({ kubeconfig: cluster.kubeconfigPath });
  git = await startGitServer({ auth: { token: "s3cret-token" } });
});
after(async () => {
  client.close();
  await git.close();
});

/** The examples/podinfo tree, with its overlay namespaces renamed so tests never share one. */
async function exampleFiles(suffix: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else files[path.relative(examples, full)] = (await readFile(full, "utf8")).replace(/podinfo-(dev|prod)\b/g, `podinfo-$1-${suffix}`);
    }
  };
  await walk(examples);
  return files;
}

let repoCounter = 0;
async function repoWith(files: Record<string, string>): Promise<string> {
  const name = `repo-${process.pid}-${repoCounter++}`;
  await git.createRepo(name);
  await git.commitFiles(name, files, { message: "initial" });
  return name;
}

function fjord(args: string[]): Promise<CliResult> {
  return runFjord([...args, "--kubeconfig", cluster.kubeconfigPath], { FJORD_GIT_TOKEN: "s3cret-token" });
}

async function get(apiPath: string): Promise<KubeObject | undefined> {
  return client.request<KubeObject>("GET", apiPath).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
}

async function namespaceObjects(namespace: string): Promise<string[]> {
  const list = async (apiPath: string) => ((await client.request<{ items: KubeObject[] }>("GET", apiPath)).items ?? []).map((item) => item.metadata.name ?? "");
  return [
    ...(await list(`/api/v1/namespaces/${namespace}/configmaps`)).filter((name) => name !== "kube-root-ca.crt" && !name.startsWith("fjord-inventory")).map((name) => `cm/${name}`),
    ...(await list(`/apis/apps/v1/namespaces/${namespace}/deployments`)).map((name) => `deploy/${name}`),
    ...(await list(`/api/v1/namespaces/${namespace}/services`)).map((name) => `svc/${name}`),
  ].sort();
}

test("first sync of a Kustomize repo creates dev and prod overlays; edits and removals follow Git", async (t) => {
  const suffix = `${process.pid}-${Date.now() % 100000}`;
  const repo = await repoWith(await exampleFiles(suffix));
  const dev = `podinfo-dev-${suffix}`;
  const prod = `podinfo-prod-${suffix}`;
  t.after(async () => {
    for (const ns of [dev, prod]) await client.request("DELETE", `/api/v1/namespaces/${ns}`).catch(() => undefined);
  });

  for (const overlay of ["dev", "prod"]) {
    const result = await fjord(["sync", "--repo", git.repoUrl(repo), "--path", `overlays/${overlay}`, "--wait", "--timeout", "90s"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Namespace\/podinfo-\w+-[\d-]+ created/);
    assert.match(result.stdout, /Deployment\.apps\/podinfo-\w+-[\d-]+\/podinfo created/);
    assert.match(result.stdout, /4 created/);
    assert.match(result.stderr, /synced main@[0-9a-f]{40}/, "the exact commit is reported");
  }
  const prodDeployment = await get(`/apis/apps/v1/namespaces/${prod}/deployments/podinfo`);
  const spec = prodDeployment?.spec as { replicas: number; template: { spec: { containers: Array<{ resources?: { limits?: Record<string, string> } }> } } };
  assert.equal(spec.replicas, 3, "prod patch sets 3 replicas");
  assert.deepEqual(spec.template.spec.containers[0]?.resources?.limits, { cpu: "1", memory: "256Mi" });
  assert.equal(((await get(`/apis/apps/v1/namespaces/${dev}/deployments/podinfo`))?.spec as { replicas: number }).replicas, 1);
  assert.equal(((prodDeployment?.status ?? {}) as { availableReplicas?: number }).availableReplicas, 3, "--wait returned after the rollout");

  // An edit changes exactly that object.
  await git.commitFiles(repo, { "overlays/prod/replicas.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\nspec:\n  replicas: 4\n" }, { message: "scale prod" });
  const edited = await fjord(["sync", "--repo", git.repoUrl(repo), "--path", "overlays/prod", "--output", "json"]);
  assert.equal(edited.code, 0, edited.stderr);
  const report = JSON.parse(edited.stdout) as { changes: Array<{ ref: { kind: string }; action: string }>; summary: string };
  assert.deepEqual(report.changes.filter((change) => change.action !== "unchanged").map((change) => [change.ref.kind, change.action]), [["Deployment", "configured"]]);
  assert.equal(report.summary, "1 configured, 3 unchanged");

  // A removed file: kept without --prune, deleted with it.
  await git.commitFiles(
    repo,
    { "base/service.yaml": null, "base/kustomization.yaml": (await exampleFiles(suffix))["base/kustomization.yaml"]?.replace("  - service.yaml\n", "") ?? "" },
    { message: "drop the service" },
  );
  const kept = await fjord(["sync", "--repo", git.repoUrl(repo), "--path", "overlays/prod"]);
  assert.equal(kept.code, 0, kept.stderr);
  assert.ok(await get(`/api/v1/namespaces/${prod}/services/podinfo`), "kept without --prune");
  const pruned = await fjord(["sync", "--repo", git.repoUrl(repo), "--path", "overlays/prod", "--prune"]);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.match(pruned.stdout, /Service\/podinfo-prod-[\d-]+\/podinfo deleted/);
  assert.equal(await get(`/api/v1/namespaces/${prod}/services/podinfo`), undefined);
  assert.ok(await get(`/api/v1/namespaces/${dev}/services/podinfo`), "the dev overlay's service is another sync's and stays");
});

test("diff shows what would change with Secret values masked, and exits 1 only when something differs", async (t) => {
  const namespace = await createTestNamespace(cluster, t);
  const secret = (password: string) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: ${password}\n`;
  const repo = await repoWith({ "app/secret.yaml": secret("first-Pa55word"), "app/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n" });
  const args = ["--repo", git.repoUrl(repo), "--path", "app", "--namespace", namespace];
  assert.equal((await fjord(["sync", ...args])).code, 0);
  const clean = await fjord(["diff", ...args]);
  assert.equal(clean.code, 0, clean.stdout + clean.stderr);
  assert.match(clean.stderr, /no differences/);

  await git.commitFiles(repo, { "app/secret.yaml": secret("second-Pa55word"), "app/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: slow\n" }, { message: "change" });
  const diff = await fjord(["diff", ...args]);
  assert.equal(diff.code, 1);
  assert.match(diff.stdout, /^-  mode: fast$/m);
  assert.match(diff.stdout, /^\+  mode: slow$/m);
  assert.match(diff.stdout, /Secret\/[^ ]+\/db \(configured\)/);
  for (const leaked of ["first-Pa55word", "second-Pa55word", Buffer.from("first-Pa55word").toString("base64"), Buffer.from("second-Pa55word").toString("base64")]) {
    assert.ok(!diff.stdout.includes(leaked) && !diff.stderr.includes(leaked), `diff output leaked ${leaked}`);
  }
  assert.equal(((await get(`/api/v1/namespaces/${namespace}/configmaps/settings`))?.data as Record<string, string>).mode, "fast", "diff changed nothing");
});

test("attack 11: fjord diff never prints a Secret value from last-applied-configuration", async (t) => {
  const namespace = await createTestNamespace(cluster, t);
  const secret = (password: string) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: ${namespace}\nstringData:\n  password: ${password}\n`;
  // Created the way many clusters were: client-side `kubectl apply`, which copies the whole
  // object, password included, into the kubectl.kubernetes.io/last-applied-configuration annotation.
  const { execFile } = await import("node:child_process");
  const PATH = await peerToolPath();
  const applied = await new Promise<{ code: number; output: string }>((resolve) => {
    const child = execFile("kubectl", ["apply", "-f", "-", "--kubeconfig", cluster.kubeconfigPath], { env: { ...process.env, PATH } }, (error, stdout, stderr) =>
      resolve({ code: error ? 1 : 0, output: stdout + stderr }),
    );
    child.stdin?.end(secret("kubectl-Pa55word"));
  });
  assert.equal(applied.code, 0, applied.output);
  const live = await get(`/api/v1/namespaces/${namespace}/secrets/db`);
  assert.match(live?.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"] ?? "", /kubectl-Pa55word/, "the annotation holds the plaintext");

  const repo = await repoWith({ "app/secret.yaml": secret("git-Pa55word") });
  for (const output of ["text", "json"]) {
    const diff = await fjord(["diff", "--repo", git.repoUrl(repo), "--path", "app", "--namespace", namespace, "-o", output]);
    assert.equal(diff.code, 1, diff.stdout + diff.stderr);
    assert.match(diff.stdout, /Secret\/[^ ]+\/db/);
    assert.match(diff.stdout, /last-applied-configuration/, "the annotation is shown, masked");
    for (const leaked of ["kubectl-Pa55word", "git-Pa55word", Buffer.from("kubectl-Pa55word").toString("base64"), Buffer.from("git-Pa55word").toString("base64")]) {
      assert.ok(!diff.stdout.includes(leaked) && !diff.stderr.includes(leaked), `diff -o ${output} leaked ${leaked}`);
    }
  }
});

test("a Secret the server refuses is named, and none of its values is quoted from the server's answer", async (t) => {
  const namespace = await createTestNamespace(cluster, t);
  // A list where a string belongs: server-side apply's error prints the value it got.
  const repo = await repoWith({ "app/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: [refused-Pa55word]\n" });
  for (const command of ["sync", "diff"]) {
    const result = await fjord([command, "--repo", git.repoUrl(repo), "--path", "app", "--namespace", namespace]);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /Secret\/[^ ]+\/db \(app\/secret\.yaml:1\): .*stringData\.password: expected string/);
    assert.ok(!result.stdout.includes("refused-Pa55word") && !result.stderr.includes("refused-Pa55word"), `${command} quoted the value:\n${result.stderr}`);
  }
});

test("build prints the rendered objects, each with its source file", async () => {
  const repo = await repoWith(await exampleFiles("build"));
  const result = await runFjord(["build", "--repo", git.repoUrl(repo), "--path", "overlays/prod"], { FJORD_GIT_TOKEN: "s3cret-token" });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /kind: Deployment/);
  assert.match(result.stdout, /replicas: 3/);
  assert.match(result.stdout, /# Source: overlays\/prod/);
});

test("--dry-run validates against the server and changes nothing", async (t) => {
  const namespace = await createTestNamespace(cluster, t);
  const repo = await repoWith({ "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dry\n" });
  const result = await fjord(["sync", "--repo", git.repoUrl(repo), "--namespace", namespace, "--dry-run"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /ConfigMap\/[^ ]+\/dry created/);
  assert.match(result.stdout, /\(dry run\)/);
  assert.equal(await get(`/api/v1/namespaces/${namespace}/configmaps/dry`), undefined);
});

/** Every bad input: a non-zero exit with a clear message, and the cluster untouched. */
const badInputs: Array<{ name: string; files?: Record<string, string>; args?: (repoUrl: string) => string[]; code: number; message: RegExp }> = [
  { name: "malformed YAML names the file and line", files: { "bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: [unclosed\n" }, code: 6, message: /bad\.yaml:\d+/ },
  { name: "an unknown kind names the object", files: { "w.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n" }, code: 2, message: /Widget\.example\.com\/w \(w\.yaml:1\): unknown kind Widget/ },
  {
    name: "a schema-invalid object carries the server's message, the object and the file",
    files: { "d.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  replicas: many\n  selector: {}\n  template: {}\n" },
    code: 2,
    message: /Deployment\.apps\/[^ ]+\/d \(d\.yaml:1\): .*replicas/,
  },
  { name: "duplicate objects name both files", files: { "a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: same\n", "b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: same\n" }, code: 6, message: /a\.yaml[\s\S]*b\.yaml/ },
  { name: "a missing path", args: (url) => ["--repo", url, "--path", "no/such/dir"], code: 6, message: /no\/such\/dir/ },
  { name: "a missing ref", args: (url) => ["--repo", url, "--branch", "no-such-branch"], code: 5, message: /no-such-branch/ },
  { name: "an unreachable Git URL", args: () => ["--repo", "http://127.0.0.1:9/nothing.git", "--git-timeout", "10s"], code: 5, message: /127\.0\.0\.1:9/ },
  {
    name: "a kustomization with a remote base",
    files: { "kustomization.yaml": "resources:\n  - https://github.com/example/repo//deploy?ref=main\n  - cm.yaml\n", "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n" },
    code: 6,
    message: /kustomization\.yaml.*remote|remote.*kustomization\.yaml/is,
  },
];

for (const bad of badInputs) {
  test(`bad input: ${bad.name}`, async (t) => {
    const namespace = await createTestNamespace(cluster, t);
    const repo = await repoWith({ "fine.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n", ...bad.files });
    const args = bad.args ? bad.args(git.repoUrl(repo)) : ["--repo", git.repoUrl(repo)];
    const result = await fjord(["sync", ...args, "--namespace", namespace]);
    assert.equal(result.code, bad.code, `exit code; stderr: ${result.stderr}`);
    assert.match(result.stderr, bad.message);
    assert.ok(!result.stderr.includes("s3cret-token"), "credentials never appear");
    assert.deepEqual(await namespaceObjects(namespace), [], "nothing in the cluster changed");
  });
}

test("bad input: an unauthenticated Git URL fails without changing anything", async (t) => {
  const namespace = await createTestNamespace(cluster, t);
  const repo = await repoWith({ "fine.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n" });
  const result = await runFjord(["sync", "--repo", git.repoUrl(repo), "--namespace", namespace, "--kubeconfig", cluster.kubeconfigPath], { FJORD_GIT_TOKEN: "wrong-token" });
  assert.equal(result.code, 5, result.stderr);
  assert.match(result.stderr, /auth/i);
  assert.ok(!result.stderr.includes("wrong-token"));
  assert.deepEqual(await namespaceObjects(namespace), []);
});

test("bad input: a symlink that leaves the repository is refused", async (t) => {
  const namespace = await createTestNamespace(cluster, t);
  const repo = `symlink-${process.pid}`;
  await git.createRepo(repo);
  await git.commitFiles(repo, { "app/fine.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n" }, { message: "initial" });
  // commitFiles writes regular files; a symlink needs a real git commit from a work tree.
  const { execFile } = await import("node:child_process");
  const { promisify } = await import("node:util");
  const { mkdtemp, rm, symlink } = await import("node:fs/promises");
  const os = await import("node:os");
  const run = promisify(execFile);
  const work = await mkdtemp(path.join(os.tmpdir(), "fjord-symlink-"));
  t.after(() => rm(work, { recursive: true, force: true }));
  await run("git", ["clone", "-q", git.fileUrl(repo), work], { env: { ...process.env, ...git.gitEnv } });
  await symlink("/etc", path.join(work, "app", "escape"));
  await run("git", ["add", "-A"], { cwd: work, env: { ...process.env, ...git.gitEnv } });
  await run("git", ["commit", "-qm", "escape"], { cwd: work, env: { ...process.env, ...git.gitEnv } });
  await run("git", ["push", "-q", "origin", "HEAD:main"], { cwd: work, env: { ...process.env, ...git.gitEnv } });

  const result = await fjord(["sync", "--repo", git.repoUrl(repo), "--path", "app", "--namespace", namespace]);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /app\/escape/);
  assert.match(result.stderr, /outside the repository|leaves the repository|escape/i);
  assert.deepEqual(await namespaceObjects(namespace), []);
});

test("--wait fails with exit code 4 naming a Deployment that never becomes ready", async (t) => {
  const namespace = await createTestNamespace(cluster, t);
  const stuck = [
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    "  name: stuck",
    "spec:",
    "  selector: {matchLabels: {app: stuck}}",
    "  template:",
    "    metadata: {labels: {app: stuck}}",
    "    spec:",
    "      nodeSelector: {fjord.dev/no-such-node: \"true\"}",
    "      containers: [{name: app, image: registry.example/app:1}]",
    "",
  ].join("\n");
  const repo = await repoWith({ "stuck.yaml": stuck });
  const result = await fjord(["sync", "--repo", git.repoUrl(repo), "--namespace", namespace, "--wait", "--timeout", "5s"]);
  assert.equal(result.code, 4, result.stderr);
  assert.match(result.stderr, /timed out after 5s/);
  assert.match(result.stderr, /Deployment\.apps\/[^ ]+\/stuck \(stuck\.yaml:1\): InProgress/);
});

test("an empty render with objects in the inventory prunes nothing without allowEmpty", async (t) => {
  const namespace = await createTestNamespace(cluster, t);
  const repo = await repoWith({
    "app/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n",
    "app/web.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 80}]\n",
  });
  const args = ["sync", "--repo", git.repoUrl(repo), "--path", "app", "--namespace", namespace, "--prune"];
  assert.equal((await fjord(args)).code, 0);
  assert.deepEqual(await namespaceObjects(namespace), ["cm/settings", "svc/web"]);

  // The commit a typo makes: the same objects, now in Jsonnet, which a plain directory does not render.
  await git.commitFiles(
    repo,
    { "app/config.yaml": null, "app/web.yaml": null, "app/main.jsonnet": "local lib = import 'lib.libsonnet';\n[lib.settings, lib.web]\n", "app/lib.libsonnet": "{ settings: {}, web: {} }\n" },
    { message: "move to jsonnet" },
  );
  const refused = await fjord(args);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /path app rendered no objects, but the inventory holds 2 object\(s\) applied before: refusing to sync; nothing was applied or pruned/);
  assert.match(refused.stderr, /--allow-empty/);
  assert.match(refused.stderr, /warning: 2 files in app are not rendered .*app\/lib\.libsonnet, app\/main\.jsonnet/, "the files it skipped are named");
  assert.deepEqual(await namespaceObjects(namespace), ["cm/settings", "svc/web"], "nothing was pruned");

  const json = await fjord([...args, "-o", "json"]);
  assert.equal(json.code, 2);
  assert.equal((JSON.parse(json.stdout) as { error: { failure: string } }).error.failure, "empty");

  const allowed = await fjord([...args, "--allow-empty"]);
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.match(allowed.stdout, /2 deleted/);
  assert.deepEqual(await namespaceObjects(namespace), [], "--allow-empty says emptying the path is meant");
});
