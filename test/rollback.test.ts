// `fjord rollback` against the real API server, a real git server and a `fjord controller`
// process: three commits applied, then a rollback run by another user (alice, impersonated
// through her kubeconfig) writes a commit restoring one Application's path of a monorepo,
// the cluster converges to it and the history names alice. Then a protected branch, and what a
// hostile tenant could try through the Application, its GitRepository, its history and --to.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test, type TestContext } from "node:test";
import { promisify } from "node:util";
import { parse, stringify } from "yaml";
import type { Application } from "../src/api/types.ts";
import { installCustomResourceDefinitions } from "../src/controller/crd-install.ts";
import type { HistoryEntry } from "../src/history/entry.ts";
import { historyConfigMapName, type HistoryConfigMap } from "../src/history/store.ts";
import { KubeClient } from "../src/kube/client.ts";
import { decodeCompressedJson, encodeCompressedJson } from "../src/util/compressed-json.ts";
import { runFjord, type CliResult } from "./support/cli.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";
import { startControllerProcess, type ControllerProcess } from "./support/controller-process.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";

const execFileAsync = promisify(execFile);
const SUITE = "fjord.dev/test-suite=rollback";
const labels = { "fjord.dev/test-suite": "rollback" };
const SECRET_VALUE = "s3cr3t-rollback-value-51d2";
const api = "/apis/fjord.dev/v1alpha1/namespaces";

let client: KubeClient;
let kubeconfig: string;
let git: GitServer;
let work: string;
let controller: ControllerProcess | undefined;

before(async () => {
  kubeconfig = (await useCluster()).kubeconfigPath;
  client = KubeClient.load({ kubeconfig });
  await installCustomResourceDefinitions(client);
  git = await startGitServer();
  work = await mkdtemp(path.join(os.tmpdir(), "fjord-rollback-"));
  controller = await startControllerProcess({ kubeconfig, logFile: path.join(work, "controller.log"), cacheDir: work, args: ["--watch-label-selector", SUITE] });
  await controller.ready();
});
after(async () => {
  await controller?.stop();
  client.close();
  await git.close();
  await rm(work, { recursive: true, force: true });
});

const configMap = (name: string, value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  value: "${value}"\n`;
const secret = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: "${SECRET_VALUE}"\n`;
const gitIn = async (args: string[], cwd?: string) => (await execFileAsync("git", args, { cwd, env: git.gitEnv })).stdout;
const bare = (repo: string) => path.join(git.root, `${repo}.git`);
const tipOf = async (repo: string, branch = "main") => (await gitIn(["--git-dir", bare(repo), "rev-parse", `refs/heads/${branch}`])).trim();
const treeOf = async (repo: string, revision: string, dir: string) => (await gitIn(["--git-dir", bare(repo), "rev-parse", `${revision}:${dir}`])).trim();
const short = (sha: string) => sha.slice(0, 7);

/** A kubeconfig that acts as `user` through impersonation (the admin impersonates), as `kubectl --as` does. */
async function kubeconfigAs(user: string): Promise<string> {
  const config = parse(await readFile(kubeconfig, "utf8")) as { users: { user: Record<string, unknown> }[] };
  for (const entry of config.users) entry.user.as = user;
  const file = path.join(work, `kubeconfig-${user}`);
  await writeFile(file, stringify(config), { mode: 0o600 });
  return file;
}

/** What `fjord rollback` needs in one namespace: read and patch Applications and GitRepositories, read the history. */
async function grantRollback(namespace: string, user: string): Promise<void> {
  const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}`;
  const rules = [
    { apiGroups: ["fjord.dev"], resources: ["applications", "gitrepositories"], verbs: ["get", "list", "watch", "patch"] },
    { apiGroups: [""], resources: ["configmaps"], verbs: ["get"] },
  ];
  await client.request("POST", `${rbac}/roles`, { body: { metadata: { name: "rollback" }, rules } });
  await client.request("POST", `${rbac}/rolebindings`, { body: { metadata: { name: "rollback" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "rollback" }, subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: user }] } });
  await eventually(async () => {
    const review = await client.request<{ status: { allowed: boolean } }>("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
      body: { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec: { user, resourceAttributes: { namespace, group: "fjord.dev", resource: "applications", verb: "patch" } } },
    });
    return review.status.allowed;
  }, { timeoutMs: 10_000 });
}

const assertNoSecret = (...texts: string[]) => {
  for (const text of texts) assert.ok(!text.includes(SECRET_VALUE) && !text.includes(Buffer.from(SECRET_VALUE).toString("base64")), "a Secret value leaked");
};

/** A monorepo with two Applications (web and other) on one GitRepository, three commits applied. */
async function threeCommitsApplied(namespace: string, repo: string) {
  await git.createRepo(repo);
  const authors = [
    { name: "Ada Lovelace", email: "ada@example.com" },
    { name: "Grace Hopper", email: "grace@example.com" },
    { name: "Linus Torvalds", email: "linus@example.com" },
  ];
  const commits = [
    await git.commitFiles(repo, { "apps/web/settings.yaml": configMap("settings", "one"), "apps/web/db.yaml": secret, "apps/other/cm.yaml": configMap("other", "other-one") }, { message: "first: web settings one", author: authors[0] }),
  ];
  await client.request("POST", `${api}/${namespace}/gitrepositories`, { body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "source", labels }, spec: { url: git.repoUrl(repo), interval: "1h", ref: { branch: "main" } } } });
  for (const app of ["web", "other"]) {
    await client.request("POST", `${api}/${namespace}/applications`, {
      body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: app, labels }, spec: { sourceRef: { kind: "GitRepository", name: "source" }, path: `./apps/${app}`, interval: "1h", prune: true } },
    });
  }
  const appliedCommit = async (app: string) => (await client.request<Application>("GET", `${api}/${namespace}/applications/${app}`)).status?.lastAppliedRevision?.split(":")[1];
  await eventually(async () => (await appliedCommit("web")) === commits[0] && (await appliedCommit("other")) === commits[0], { timeoutMs: 60_000 });
  // The second commit changes both Applications' paths; the third only web's.
  commits.push(await git.commitFiles(repo, { "apps/web/settings.yaml": configMap("settings", "two"), "apps/other/cm.yaml": configMap("other", "other-two") }, { message: "second: settings two, other two", author: authors[1] }));
  await fjordOk(["reconcile", "app", "web", "-n", namespace, "--with-source"]);
  await fjordOk(["reconcile", "app", "other", "-n", namespace]);
  commits.push(await git.commitFiles(repo, { "apps/web/settings.yaml": null, "apps/web/extra.yaml": configMap("extra", "three") }, { message: "third: extra instead of settings", author: authors[2] }));
  await fjordOk(["reconcile", "app", "web", "-n", namespace, "--with-source"]);
  const syncs = (await history(namespace, "web")).filter((entry) => entry.action === "sync");
  assert.deepEqual(syncs.map((entry) => entry.author), authors.map((author) => `${author.name} <${author.email}>`).reverse(), "three entries, newest first, with their commits' authors");
  assert.deepEqual(syncs.map((entry) => entry.revision), [...commits].reverse().map((commit) => `main@sha1:${commit}`));
  return commits as [string, string, string];
}

const fjord = (args: string[], config = kubeconfig): Promise<CliResult> => runFjord([...args, "--kubeconfig", config]);
async function fjordOk(args: string[], config = kubeconfig): Promise<string> {
  const result = await fjord(args, config);
  assert.equal(result.code, 0, `fjord ${args.join(" ")}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}
const history = async (namespace: string, app: string) => JSON.parse(await fjordOk(["history", app, "-n", namespace, "-o", "json"])) as HistoryEntry[];
const configMapValue = async (namespace: string, name: string) =>
  client.request<{ data: { value: string } }>("GET", `/api/v1/namespaces/${namespace}/configmaps/${name}`).then((object) => object.data.value, () => undefined);

test("rollback --to the first commit: a commit restoring only web's path, the cluster converges, the history names alice; --dry-run pushes nothing", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = `rollback-${namespace}`;
  const [first, second, third] = await threeCommitsApplied(namespace, repo);
  await grantRollback(namespace, "alice");
  const alice = await kubeconfigAs("alice");

  // --dry-run: the diff of what the commit would change, and nothing pushed.
  const dryRun = await fjord(["rollback", "web", "-n", namespace, "--to", short(first), "--dry-run"], alice);
  assert.equal(dryRun.code, 0, dryRun.stderr);
  assert.match(dryRun.stdout, /^diff --git a\/apps\/web\/extra.yaml b\/apps\/web\/extra.yaml\ndeleted file mode/m);
  assert.match(dryRun.stdout, /^new file mode 100644\n.*\n--- \/dev\/null\n\+\+\+ b\/apps\/web\/settings.yaml\n[^]*\+  value: "one"/m);
  assert.ok(!dryRun.stdout.includes("apps/other"), "the other Application's path is not in the diff");
  assert.match(dryRun.stderr, new RegExp(`dry run: would roll back Application ${namespace}/web to ${short(first)} \\("first: web settings one"\\): 2 file\\(s\\) under apps/web/ on main of ${git.repoUrl(repo).replace(/[.]/g, "\\.")}, undoing 2 commit\\(s\\); nothing was committed or pushed`));
  assert.equal(await tipOf(repo), third, "a dry run pushes nothing");
  t.diagnostic(`$ fjord rollback web -n ${namespace} --to ${short(first)} --dry-run\n${dryRun.stdout}${dryRun.stderr}`);

  // The rollback itself, as alice.
  const rolled = await fjord(["rollback", "web", "-n", namespace, "--to", short(first), "--timeout", "2m"], alice);
  assert.equal(rolled.code, 0, `${rolled.stderr}${rolled.stdout}`);
  const pushed = await tipOf(repo);
  assert.notEqual(pushed, third);
  assert.match(rolled.stdout, new RegExp(`^pushed ${pushed} to main of .*: roll back Application ${namespace}/web to ${short(first)} \\("first: web settings one"\\)$`, "m"));
  assert.match(rolled.stdout, new RegExp(`Application ${namespace}/web runs main@sha1:${pushed} and is Ready`));
  t.diagnostic(`$ fjord rollback web -n ${namespace} --to ${short(first)}\n${rolled.stdout}`);

  // Git: one commit on top of the third, web's tree as at the first, other's as at the second (untouched).
  assert.equal((await gitIn(["--git-dir", bare(repo), "rev-parse", `${pushed}^`])).trim(), third);
  assert.equal(await treeOf(repo, pushed, "apps/web"), await treeOf(repo, first, "apps/web"));
  assert.equal(await treeOf(repo, pushed, "apps/other"), await treeOf(repo, second, "apps/other"), "another Application's path is left as it is");
  const message = await gitIn(["--git-dir", bare(repo), "log", "-1", "--format=%B", pushed]);
  assert.equal(
    message.trim(),
    [
      `Roll back ${namespace}/web to ${short(first)}`,
      "",
      `Restores apps/web/ to its content at ${first} ("first: web settings one").`,
      "Only that directory changes; the rest of the repository stays as it is.",
      "",
      "Undoes:",
      `- ${short(third)} third: extra instead of settings`,
      `- ${short(second)} second: settings two, other two`,
      "",
      "Rollback-requested-by: alice",
    ].join("\n"),
  );
  t.diagnostic(`$ git log -1 ${short(pushed)}\n${message}`);

  // The cluster runs it: settings is back with its first value, extra is pruned, other keeps its second value.
  assert.equal(await configMapValue(namespace, "settings"), "one");
  assert.equal(await configMapValue(namespace, "extra"), undefined);
  assert.equal(await configMapValue(namespace, "other"), "other-two");

  // The history: the rollback with its actor and target, and the sync of the rollback commit.
  const entries = await history(namespace, "web");
  const rollbackEntry = entries.find((entry) => entry.action === "rollback");
  assert.ok(rollbackEntry, JSON.stringify(entries));
  assert.equal(rollbackEntry.actor, "alice");
  assert.equal(rollbackEntry.target, `main@sha1:${first}`);
  assert.equal(rollbackEntry.subject, `roll back to main@${short(first)}`);
  const newest = entries.find((entry) => entry.action === "sync");
  assert.equal(newest?.revision, `main@sha1:${pushed}`);
  assert.equal(newest?.result, "applied");
  assert.equal(newest?.subject, `Roll back ${namespace}/web to ${short(first)}`);
  assert.deepEqual(newest?.changes.map((change) => `${change.action} ${change.kind}/${change.name}`).sort(), ["created ConfigMap/settings", "deleted ConfigMap/extra"]);
  // The command printed the entries it added.
  assert.match(rolled.stdout, /TIME +ACTION +RESULT +REVISION +BY +CHANGES +SUBJECT/);
  assert.match(rolled.stdout, new RegExp(`rollback +requested +.* alice +- +roll back to main@${short(first)}`));
  assert.match(rolled.stdout, new RegExp(`sync +applied +main@${pushed.slice(0, 12)} +fjord +1 created, 1 deleted +Roll back`));
  const audit = await fjordOk(["audit", "-n", namespace]);
  assert.match(audit, /"action":"rollback","actor":"alice"/);
  // The same record reaches an Event and the controller's structured log.
  const events = await client.request<{ items: { reason: string; message: string; involvedObject: { name: string } }[] }>("GET", `/api/v1/namespaces/${namespace}/events`);
  const requested = events.items.filter((event) => event.reason === "OperationRequested" && event.involvedObject.name === "web").map((event) => event.message);
  assert.ok(requested.some((text) => text.startsWith(`rollback to main@sha1:${first} requested by alice at `)), JSON.stringify(requested));
  const log = await eventually(async () => {
    const text = await readFile(controller?.logFile ?? "", "utf8");
    return /"msg":"audit"/.test(text) && text.split("\n").some((line) => line.includes(`"namespace":"${namespace}"`) && line.includes('"action":"rollback","actor":"alice"')) ? text : undefined;
  }, { timeoutMs: 10_000 });
  assertNoSecret(log);

  // Nothing left to undo: rolling back to what runs now is refused; the other Application was never touched.
  const again = await fjord(["rollback", "web", "-n", namespace, "--to", pushed], alice);
  assert.equal(again.code, 1);
  assert.match(again.stderr, new RegExp(`${short(pushed)} is what Application ${namespace}/web runs now; nothing to roll back; nothing was pushed`));
  assert.ok(!(await history(namespace, "other")).some((entry) => entry.action === "rollback"));

  // Default target, then "nothing to change": the first's content is what the branch holds, so a rollback to
  // the first again (now via the history's revision) changes nothing and exits 0.
  const same = await fjord(["rollback", "web", "-n", namespace, "--to", `main@sha1:${first}`], alice);
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, new RegExp(`nothing to change: apps/web/ on main already holds its content at ${short(first)}`));
  assert.equal(await tipOf(repo), pushed);

  const outputs = [dryRun.stdout, dryRun.stderr, rolled.stdout, rolled.stderr, JSON.stringify(entries), audit, message];
  assertNoSecret(...outputs);
  const stored = await client.request<HistoryConfigMap>("GET", `/api/v1/namespaces/${namespace}/configmaps/${historyConfigMapName("web")}`);
  assertNoSecret(JSON.stringify(decodeCompressedJson(stored.binaryData?.["history.json.gz"] ?? "", "test")));
});

test("a protected branch: the rollback commit goes to a branch of its own, exit 7, main untouched; without --to the previous applied revision", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = `protected-${namespace}`;
  const [first, second, third] = await threeCommitsApplied(namespace, repo);
  await git.installHook(repo, "pre-receive", '#!/bin/sh\nwhile read old new ref; do\n  if [ "$ref" = refs/heads/main ]; then echo "main is protected: open a merge request" >&2; exit 1; fi\ndone\nexit 0\n');
  const result = await fjord(["rollback", "web", "-n", namespace]);
  assert.equal(result.code, 7, `${result.stderr}${result.stdout}`);
  const branch = `fjord/rollback-web-${short(second)}`;
  const pushed = await tipOf(repo, branch);
  assert.equal(
    result.stdout.trim(),
    `main is protected (the remote said: pre-receive hook declined / main is protected: open a merge request): pushed ${pushed} to branch ${branch} of ${git.repoUrl(repo)}; merge it to roll back Application ${namespace}/web`,
  );
  t.diagnostic(`$ fjord rollback web -n ${namespace}\n${result.stdout}`);
  assert.equal(await tipOf(repo), third, "main is untouched");
  assert.equal(await treeOf(repo, pushed, "apps/web"), await treeOf(repo, second, "apps/web"), "the default target is the revision applied before the running one");
  assert.equal((await gitIn(["--git-dir", bare(repo), "rev-parse", `${pushed}^`])).trim(), third);
  // Nothing was recorded or requested: the rollback has not happened until someone merges.
  assert.ok(!(await history(namespace, "web")).some((entry) => entry.action === "rollback"));

  // Once merged (here: the branch unprotected), a rollback the cluster refuses to apply ends with exit 4 and the reason.
  await git.installHook(repo, "pre-receive", "#!/bin/sh\nexit 0\n");
  await denySettingsOne(namespace, t);
  const failed = await fjord(["rollback", "web", "-n", namespace, "--to", short(first), "--timeout", "90s"]);
  assert.equal(failed.code, 4, `${failed.stderr}${failed.stdout}`);
  const rollbackCommit = await tipOf(repo);
  // The Ready message names the object and what the API server said.
  assert.match(failed.stderr, new RegExp(`Application ${namespace}/web did not apply the rollback commit ${short(rollbackCommit)}: ValidationFailed: 1 object\\(s\\) failed server-side validation; nothing was changed\n  - ConfigMap/${namespace}/settings \\(apps/web/settings.yaml:1\\): .*settings=one is frozen by policy[ \n]`));
  assert.doesNotMatch(failed.stderr, /serviceAccountName/, "an admission policy's denial gets no ServiceAccount hint: no RBAC change fixes it");
  assert.match(failed.stderr, /\((stalled: fix the content and push, or roll back to another revision|retrying with backoff)\)\n$/);
  t.diagnostic(`$ fjord rollback web -n ${namespace} --to ${short(first)}\n${failed.stdout}${failed.stderr}`);
  const entries = await history(namespace, "web");
  assert.equal(entries.find((entry) => entry.action === "rollback")?.target, `main@sha1:${first}`);
  const failedSync = entries.find((entry) => entry.action === "sync" && entry.revision === `main@sha1:${rollbackCommit}`);
  assert.equal(failedSync?.result, "failed");
  assert.equal(failedSync?.reason, "ValidationFailed");
  assert.equal(await configMapValue(namespace, "extra"), "three", "a refused revision changes nothing that runs");
});

/** A ValidatingAdmissionPolicy (CEL, in the API server) refusing settings=one in the namespace, in force once a dry run says so. */
async function denySettingsOne(namespace: string, t: TestContext): Promise<void> {
  const admission = "/apis/admissionregistration.k8s.io/v1";
  const name = `no-settings-one-${namespace}`.slice(0, 63);
  // Cluster-scoped: removed with the test, or it would outlive the namespace.
  t.after(async () => {
    await client.request("DELETE", `${admission}/validatingadmissionpolicybindings/${name}`).catch(() => undefined);
    await client.request("DELETE", `${admission}/validatingadmissionpolicies/${name}`).catch(() => undefined);
  });
  await client.request("POST", `${admission}/validatingadmissionpolicies`, {
    body: {
      metadata: { name },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["configmaps"] }] },
        validations: [{ expression: "object.metadata.name != 'settings' || !has(object.data) || !('value' in object.data) || object.data.value != 'one'", message: "settings=one is frozen by policy" }],
      },
    },
  });
  await client.request("POST", `${admission}/validatingadmissionpolicybindings`, {
    body: { metadata: { name }, spec: { policyName: name, validationActions: ["Deny"], matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } } } },
  });
  await eventually(
    () =>
      client.request("POST", `/api/v1/namespaces/${namespace}/configmaps`, { query: { dryRun: "All" }, body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings" }, data: { value: "one" } } }).then(
        () => false,
        (error: unknown) => /frozen by policy/.test(String(error)),
      ),
    { timeoutMs: 30_000 },
  );
}

test("hostile input: app names, --to, a tampered history, sources not on a branch, branch names, symlinked and escaping paths", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = `hostile-${namespace}`;
  const [first, , third] = await threeCommitsApplied(namespace, repo);
  const refused = async (args: string[], pattern: RegExp) => {
    const result = await fjord(args);
    assert.equal(result.code, 1, `fjord ${args.join(" ")}: ${result.stderr}${result.stdout}`);
    assert.match(result.stderr, pattern);
    assert.equal(await tipOf(repo), third, `fjord ${args.join(" ")} pushed something`);
    return result;
  };

  // The APP argument and --to never reach a path, a branch name or git unchecked.
  await refused(["rollback", "../web", "-n", namespace], /"\.\.\/web" is not an Application name/);
  await refused(["rollback", "web\nx", "-n", namespace], /is not an Application name/);
  for (const to of ["--upload-pack=touch /tmp/pwned", "HEAD~1", "main", `main@sha1:${first}\nx`, "abc"]) {
    await refused(["rollback", "web", "-n", namespace, `--to=${to}`], /is neither a commit SHA \(7 to 40 hex digits\) nor a revision such as main@sha1:<sha>; nothing was pushed/);
  }
  // A commit that exists in the repository but not on the branch (another branch), and one that exists nowhere.
  const elsewhere = await git.commitFiles(repo, { "apps/web/settings.yaml": configMap("settings", "evil") }, { message: "not on main", branch: "topic" });
  await refused(["rollback", "web", "-n", namespace, "--to", elsewhere], new RegExp(`commit ${elsewhere} is not among the last 1000 commits of branch "main"`));
  await refused(["rollback", "web", "-n", namespace, "--to", "f".repeat(40)], /is not among the last 1000 commits of branch "main"/);

  // The history ConfigMap is tenant-writable: a forged previous entry (a made-up SHA, a revision that reads as an option) is never trusted.
  const historyPath = `/api/v1/namespaces/${namespace}/configmaps/${historyConfigMapName("web")}`;
  const stored = await client.request<HistoryConfigMap>("GET", historyPath);
  const { entries } = decodeCompressedJson(stored.binaryData?.["history.json.gz"] ?? "", "test") as { entries: HistoryEntry[] };
  const running = entries.find((entry) => entry.action === "sync" && entry.revision.endsWith(third));
  assert.ok(running);
  const forged = (revision: string, minutesAgo: number) => ({ ...running, revision, finishedAt: new Date(Date.now() - minutesAgo * 60_000).toISOString() });
  const tampered = [running, forged("main@sha1:--upload-pack=touch /tmp/pwned", 60), forged(`main@sha1:${"e".repeat(40)}`, 120)];
  await client.request("PATCH", historyPath, { body: { binaryData: { "history.json.gz": encodeCompressedJson({ entries: tampered }) } }, contentType: "application/merge-patch+json" });
  await refused(["rollback", "web", "-n", namespace], /commit e{40} is not among the last 1000 commits of branch "main"/);

  // Sources that do not follow a branch: refused with what to change instead; a branch name that reads as an option never reaches git.
  const source = async (name: string, ref: Record<string, string>) =>
    client.request("POST", `${api}/${namespace}/gitrepositories`, { body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name }, spec: { url: git.repoUrl(repo), interval: "1h", ref } } });
  // Not labelled for this suite's controller: status is set by hand, as a tenant with status rights could.
  const app = async (name: string, sourceName: string, appPath: string) => {
    await client.request("POST", `${api}/${namespace}/applications`, { body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name }, spec: { sourceRef: { kind: "GitRepository", name: sourceName }, path: appPath, interval: "1h" } } });
    await client.request("PATCH", `${api}/${namespace}/applications/${name}/status`, { body: { status: { lastAppliedRevision: `main@sha1:${third}` } }, contentType: "application/merge-patch+json" });
  };
  await source("tagged", { tag: "v1.0.0" });
  await app("tagged", "tagged", "./apps/web");
  await refused(["rollback", "tagged", "-n", namespace, "--to", first], new RegExp(`GitRepository ${namespace}/tagged follows tag "v1.0.0", not a branch; roll back by pointing spec.ref.tag at the release to go back to`));
  await source("pinned", { commit: third });
  await app("pinned", "pinned", "./apps/web");
  await refused(["rollback", "pinned", "-n", namespace, "--to", first], /is pinned to commit .*, not following a branch; roll back by setting spec.ref.commit/);
  await source("semver", { semver: ">=1.0.0" });
  await app("semver", "semver", "./apps/web");
  await refused(["rollback", "semver", "-n", namespace, "--to", first], /follows the highest tag matching semver ">=1.0.0", not a branch/);
  await source("optionlike", { branch: "--upload-pack=touch /tmp/pwned" });
  await app("optionlike", "optionlike", "./apps/web");
  await refused(["rollback", "optionlike", "-n", namespace, "--to", first], /follows branch "--upload-pack=touch \/tmp\/pwned", which is not a valid branch name/);

  // Paths: a symlink to another Application's directory would roll back the link, not what the controller renders; a link out of the repository must not be followed.
  const clone = path.join(work, `clone-${namespace}`);
  await gitIn(["clone", "--quiet", git.fileUrl(repo), clone]);
  await symlink("web", path.join(clone, "apps/linked"));
  await symlink("../../../..", path.join(clone, "apps/escape"));
  await gitIn(["add", "-A"], clone);
  await gitIn(["-c", "user.name=Mallory", "-c", "user.email=mallory@example.com", "commit", "--quiet", "-m", "links"], clone);
  await gitIn(["push", "--quiet", "origin", "main"], clone);
  const links = await tipOf(repo);
  const refusedAt = async (args: string[], pattern: RegExp) => {
    const result = await fjord(args);
    assert.equal(result.code, 1, `fjord ${args.join(" ")}: ${result.stderr}${result.stdout}`);
    assert.match(result.stderr, pattern);
    assert.equal(await tipOf(repo), links, `fjord ${args.join(" ")} pushed something`);
  };
  await app("linked", "source", "./apps/linked");
  await refusedAt(["rollback", "linked", "-n", namespace, "--to", first], /path "apps\/linked" is or passes through a symlink on the branch; fjord rollback restores the files of a directory and does not follow links; nothing was pushed/);
  await app("escape", "source", "./apps/escape/etc");
  await refusedAt(["rollback", "escape", "-n", namespace, "--to", first], /path "apps\/escape\/etc" is not allowed: symlink "apps\/escape" points to "..\/..\/..\/..", outside the repository; nothing was pushed/);
  await app("missing", "source", "./apps/none");
  await refusedAt(["rollback", "missing", "-n", namespace, "--to", first], new RegExp(`path "apps/none" does not exist at ${first.slice(0, 12)}`));
  // A pathspec-like path means only that file name: no glob, no exclusion.
  await app("magic", "source", ":(glob)**");
  await refusedAt(["rollback", "magic", "-n", namespace, "--to", first], /path ":\(glob\)\*\*" does not exist at/);
  // A suspended Application would never run the commit: refused before anything is pushed.
  await app("sleepy", "source", "./apps/web");
  await client.request("PATCH", `${api}/${namespace}/applications/sleepy`, { body: { spec: { suspend: true } }, contentType: "application/merge-patch+json" });
  await refusedAt(["rollback", "sleepy", "-n", namespace, "--to", first], new RegExp(`Application ${namespace}/sleepy is suspended; resume it first \\(fjord resume app sleepy -n ${namespace}\\)`));
});
