import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { installCustomResourceDefinitions } from "../src/controller/crd-install.ts";
import type { GitRepository } from "../src/api/types.ts";
import { artifactRevision, reconcileGitRepository } from "../src/controller/git-repository-reconciler.ts";
import { KubeClient } from "../src/kube/client.ts";
import { createTestNamespace, useCluster } from "./support/cluster.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";

const TOKEN = "gitrepo-s3cret-token";
let git: GitServer;
let client: KubeClient;
let cacheDir: string;

before(async () => {
  const cluster = await useCluster();
  client = KubeClient.load({ kubeconfig: cluster.kubeconfigPath });
  await installCustomResourceDefinitions(client);
  git = await startGitServer({ auth: { token: TOKEN } });
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "fjord-gitrepo-cache-"));
});
after(async () => {
  client.close();
  await git.close();
  await rm(cacheDir, { recursive: true, force: true });
});

async function createSource(namespace: string, name: string, url: string, token: string, extra: Partial<GitRepository["spec"]> = {}): Promise<GitRepository> {
  await client.request("POST", `/api/v1/namespaces/${namespace}/secrets`, { body: { metadata: { name: `${name}-auth` }, stringData: { bearerToken: token } } });
  return client.request<GitRepository>("POST", `/apis/fjord.dev/v1alpha1/namespaces/${namespace}/gitrepositories`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name }, spec: { url, ref: { branch: "main" }, secretRef: { name: `${name}-auth` }, ...extra } },
  });
}

const setIgnore = (namespace: string, name: string, ignore: string) =>
  client.request<GitRepository>("PATCH", `/apis/fjord.dev/v1alpha1/namespaces/${namespace}/gitrepositories/${name}`, { body: { spec: { ignore } }, contentType: "application/merge-patch+json" });

const read = (namespace: string, name: string) => client.request<GitRepository>("GET", `/apis/fjord.dev/v1alpha1/namespaces/${namespace}/gitrepositories/${name}`);

test("a GitRepository records the exact commit of its branch as its artifact", async (t) => {
  const namespace = await createTestNamespace((await useCluster()), t);
  await git.createRepo(`gr-${namespace}`);
  const sha = await git.commitFiles(`gr-${namespace}`, { "app/cm.yaml": "kind: ConfigMap\n" }, { message: "first commit", author: { name: "Ada", email: "ada@example.com" } });
  const source = await createSource(namespace, "podinfo", git.repoUrl(`gr-${namespace}`), TOKEN);

  const outcome = await reconcileGitRepository(client, source, { cacheDir });
  assert.equal(outcome.report.result, "success");
  assert.equal(outcome.report.ready, true);
  assert.equal(outcome.intervalMs, 60_000);
  const status = (await read(namespace, "podinfo")).status;
  assert.equal(status?.artifact?.revision, `main@sha1:${sha}`);
  assert.equal(status?.artifact?.author, "Ada <ada@example.com>");
  assert.equal(status?.artifact?.message, "first commit");
  const ready = status?.conditions?.find((condition) => condition.type === "Ready");
  assert.equal(ready?.status, "True");
  assert.equal(ready?.observedGeneration, source.metadata.generation);

  const next = await git.commitFiles(`gr-${namespace}`, { "app/cm.yaml": "kind: ConfigMap\n# two\n" }, { message: "second" });
  await reconcileGitRepository(client, await read(namespace, "podinfo"), { cacheDir });
  assert.equal((await read(namespace, "podinfo")).status?.artifact?.revision, `main@sha1:${next}`);
});

test("a failing fetch says why, keeps the last good artifact, and never shows the credential", async (t) => {
  const namespace = await createTestNamespace((await useCluster()), t);
  await git.createRepo(`gr-${namespace}`);
  const sha = await git.commitFiles(`gr-${namespace}`, { "a.yaml": "kind: ConfigMap\n" }, { message: "good" });
  const source = await createSource(namespace, "app", git.repoUrl(`gr-${namespace}`), TOKEN);
  await reconcileGitRepository(client, source, { cacheDir });

  // The token is rotated to a wrong value.
  await client.request("PATCH", `/api/v1/namespaces/${namespace}/secrets/app-auth`, {
    body: { stringData: { bearerToken: "wrong-token-value" } },
    contentType: "application/merge-patch+json",
  });
  const outcome = await reconcileGitRepository(client, await read(namespace, "app"), { cacheDir });
  assert.equal(outcome.report.ready, false);
  const status = (await read(namespace, "app")).status;
  const ready = status?.conditions?.find((condition) => condition.type === "Ready");
  assert.equal(ready?.status, "False");
  assert.equal(ready?.reason, "ArtifactFailed");
  assert.match(ready?.message ?? "", /auth/i);
  assert.ok(!JSON.stringify(status).includes("wrong-token-value") && !JSON.stringify(status).includes(TOKEN));
  assert.equal(status?.artifact?.revision, `main@sha1:${sha}`, "the last good artifact stays");
});

test("attack 4: a GitRepository whose url is a file:// URL, a local path or ext:: (stored under an older CRD) is refused by the controller", async (t) => {
  const namespace = await createTestNamespace((await useCluster()), t);
  // Another team's repository, readable on the controller's disk.
  await git.createRepo(`victim-${namespace}`);
  await git.commitFiles(`victim-${namespace}`, { "secret.yaml": "kind: Secret\n" }, { message: "theirs" });
  const source = await createSource(namespace, "thief", git.repoUrl(`gr-${namespace}-unused`), TOKEN);
  const urls = [git.fileUrl(`victim-${namespace}`), path.join(git.root, `victim-${namespace}.git`), "ext::sh -c touch% /tmp/fjord-pwned"];
  for (const url of urls) {
    // Today's CRD refuses these URLs, so the object is the API server's, with the spec an older CRD would have let in.
    const outcome = await reconcileGitRepository(client, { ...source, spec: { ...source.spec, url } }, { cacheDir });
    assert.equal(outcome.report.result, "stalled", url);
    assert.equal(outcome.report.reason, "URLInvalid", url);
    assert.equal(outcome.intervalMs, undefined, url);
    const status = (await read(namespace, "thief")).status;
    const ready = status?.conditions?.find((condition) => condition.type === "Ready");
    assert.equal(ready?.status, "False", url);
    assert.equal(ready?.reason, "URLInvalid", url);
    assert.match(ready?.message ?? "", /^spec\.url: ".*" (is a local path; the controller fetches only over https:\/\/, http:\/\/ or ssh:\/\/ \(or scp-like user@host:path\): serve the repository over HTTPS or SSH|names a git remote helper, which the controller does not run)/, url);
    assert.equal(status?.conditions?.find((condition) => condition.type === "Stalled")?.status, "True", url);
    assert.equal(status?.artifact, undefined, `no artifact from ${url}`);
  }
});

test("revisions are written the way Flux writes them", () => {
  const sha = "a".repeat(40);
  assert.equal(artifactRevision({ ref: "refs/heads/main", commit: sha }), `main@sha1:${sha}`);
  assert.equal(artifactRevision({ ref: "refs/tags/v1.2.0", commit: sha }), `v1.2.0@sha1:${sha}`);
  assert.equal(artifactRevision({ ref: sha, commit: sha }), `sha1:${sha}`);
  assert.equal(artifactRevision({ ref: "refs/pull/7/head", commit: sha }), `refs/pull/7/head@sha1:${sha}`);
});

test("spec.ignore is recorded with the artifact; new rules for the same commit are a new artifact", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  await git.createRepo(`gr-${namespace}`);
  const sha = await git.commitFiles(`gr-${namespace}`, { "a.yaml": "kind: ConfigMap\n" }, { message: "one" });
  const source = await createSource(namespace, "app", git.repoUrl(`gr-${namespace}`), TOKEN, { ignore: "secret-stuff/\n*.tmpl" });
  await reconcileGitRepository(client, source, { cacheDir });
  const first = (await read(namespace, "app")).status?.artifact;
  assert.equal(first?.revision, `main@sha1:${sha}`);
  assert.equal(first?.ignore, "secret-stuff/\n*.tmpl");

  await setIgnore(namespace, "app", "*.tmpl");
  await reconcileGitRepository(client, await read(namespace, "app"), { cacheDir });
  const second = (await read(namespace, "app")).status?.artifact;
  assert.equal(second?.revision, first?.revision);
  assert.equal(second?.ignore, "*.tmpl");

  // No rules any more: nothing is left out.
  await client.request("PATCH", `/apis/fjord.dev/v1alpha1/namespaces/${namespace}/gitrepositories/app`, { body: { spec: { ignore: null } }, contentType: "application/merge-patch+json" });
  await reconcileGitRepository(client, await read(namespace, "app"), { cacheDir });
  const third = (await read(namespace, "app")).status?.artifact;
  assert.equal(third?.revision, first?.revision);
  assert.equal(third?.ignore, undefined);
});

test("a spec.ignore line that cannot be used is Ready=False naming the line, stalled, and the last artifact stays", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  await git.createRepo(`gr-${namespace}`);
  const sha = await git.commitFiles(`gr-${namespace}`, { "a.yaml": "kind: ConfigMap\n" }, { message: "one" });
  const source = await createSource(namespace, "app", git.repoUrl(`gr-${namespace}`), TOKEN, { ignore: "secret-stuff/" });
  await reconcileGitRepository(client, source, { cacheDir });

  // An inverted range is no pattern RE2 accepts.
  await setIgnore(namespace, "app", "secret-stuff/\n# fine so far\n[z-a].yaml\n*.tmpl");
  const outcome = await reconcileGitRepository(client, await read(namespace, "app"), { cacheDir });
  assert.equal(outcome.report.result, "stalled", "nothing to retry until the spec changes");
  assert.equal(outcome.intervalMs, undefined);
  const status = (await read(namespace, "app")).status;
  const ready = status?.conditions?.find((condition) => condition.type === "Ready");
  assert.equal(ready?.status, "False");
  assert.equal(ready?.reason, "IgnoreInvalid");
  assert.match(ready?.message ?? "", /^spec\.ignore line 3: ignore pattern "\[z-a\]\.yaml" cannot be used: .*; fix or remove the line$/);
  assert.equal(status?.conditions?.find((condition) => condition.type === "Stalled")?.status, "True");
  assert.equal(status?.artifact?.revision, `main@sha1:${sha}`);
  assert.equal(status?.artifact?.ignore, "secret-stuff/", "the artifact keeps the rules it was made with");

  // Too many patterns (the API server refuses a longer text; this many short lines fit in it).
  await setIgnore(namespace, "app", Array.from({ length: 300 }, (_, index) => `f${index}`).join("\n"));
  await reconcileGitRepository(client, await read(namespace, "app"), { cacheDir });
  const tooMany = (await read(namespace, "app")).status?.conditions?.find((condition) => condition.type === "Ready");
  assert.equal(tooMany?.reason, "IgnoreInvalid");
  assert.match(tooMany?.message ?? "", /spec\.ignore has 300 patterns, more than the limit of 256/);

  // Fixed: fetching resumes and the stall is over.
  await setIgnore(namespace, "app", "*.tmpl");
  assert.equal((await reconcileGitRepository(client, await read(namespace, "app"), { cacheDir })).report.ready, true);
  const fixed = (await read(namespace, "app")).status;
  assert.equal(fixed?.conditions?.find((condition) => condition.type === "Stalled"), undefined);
  assert.equal(fixed?.artifact?.ignore, "*.tmpl");
});

test("the API server refuses a spec.ignore longer than 16 KiB", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  await assert.rejects(createSource(namespace, "big", git.repoUrl("whatever"), TOKEN, { ignore: "a".repeat(16 * 1024 + 1) }), /spec\.ignore: Too long: may not be (longer than|more than) 16384/);
  await createSource(namespace, "fits", git.repoUrl("whatever"), TOKEN, { ignore: "a".repeat(16 * 1024) });
});
