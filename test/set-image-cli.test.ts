// `fjord set-image` as CI runs it: the real CLI against a real Git server (git http-backend,
// token auth), real pushes, races between two pipelines and a protected branch.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { runFjord, type CliResult } from "./support/cli.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";

const execFileAsync = promisify(execFile);
const TOKEN = "ci-token-5e1f0a7b2c";
const fixtures = join(import.meta.dirname, "fixtures", "image-update");

let server: GitServer;
let scratch: string;
let repos = 0;

before(async () => {
  server = await startGitServer({ auth: { token: TOKEN } });
  scratch = await mkdtemp(join(tmpdir(), "fjord-set-image-"));
});
after(async () => {
  await server.close();
  await rm(scratch, { recursive: true, force: true });
});

async function git(args: string[], cwd?: string): Promise<string> {
  const { stdout } = await execFileAsync("git", args, { cwd, env: server.gitEnv, encoding: "utf8" });
  return stdout;
}

const bare = (name: string) => join(server.root, `${name}.git`);
const tip = async (name: string, branch = "main") => (await git(["--git-dir", bare(name), "rev-parse", `refs/heads/${branch}`])).trim();
const show = (name: string, rev: string, file: string) => git(["--git-dir", bare(name), "show", `${rev}:${file}`]);

/** The changed lines of a commit, as `git show` prints them (`-old`, `+new`). */
async function changedLines(name: string, rev: string): Promise<string[]> {
  const patch = await git(["--git-dir", bare(name), "show", "--format=", "--unified=0", rev]);
  return patch.split("\n").filter((line) => /^[-+](?![-+]{2} )/.test(line));
}

async function newRepo(files: Record<string, string>): Promise<string> {
  const name = `set-image-${++repos}`;
  await server.createRepo(name);
  await server.commitFiles(name, files, { message: "initial" });
  return name;
}

async function fixture(name: string): Promise<string> {
  return readFile(join(fixtures, name), "utf8");
}

function setImage(args: string[], env: Record<string, string> = { FJORD_GIT_TOKEN: TOKEN }): Promise<CliResult> {
  return runFjord(["set-image", ...args], env);
}

function assertNoToken(result: CliResult): void {
  assert.ok(!result.stdout.includes(TOKEN) && !result.stderr.includes(TOKEN), "the token must never be printed");
}

test("a kustomization's newTag changes in one commit touching only that line", async () => {
  const kustomization = await fixture("kustomization.yaml");
  const name = await newRepo({ "overlays/prod/kustomization.yaml": kustomization, "base/deploy.yaml": "kind: Deployment\n" });
  const before = await tip(name);
  const tokenFile = join(scratch, "token");
  await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const result = await setImage(
    ["--repo", server.repoUrl(name), "--branch", "main", "--path", "overlays/prod", "--image", "app=registry.example/team/app:1.1.0", "--git-token-file", tokenFile, "--author-name", "CI Bot", "--author-email", "ci@example.invalid"],
    {},
  );
  assert.equal(result.code, 0, result.stderr);
  assertNoToken(result);
  const after = await tip(name);
  assert.match(result.stdout, new RegExp(`pushed ${after} to main of ${server.repoUrl(name).replace(/[.]/g, "\\.")}`));
  assert.match(result.stdout, /overlays\/prod\/kustomization\.yaml:12: newTag 1\.0\.0 -> 1\.1\.0/);
  assert.equal((await git(["--git-dir", bare(name), "rev-parse", `${after}~1`])).trim(), before);
  assert.deepEqual(await changedLines(name, after), [
    '-    newTag: "1.0.0" # {"$imagepolicy": "apps:app:tag"}',
    '+    newTag: "1.1.0" # {"$imagepolicy": "apps:app:tag"}',
  ]);
  assert.equal(await show(name, after, "overlays/prod/kustomization.yaml"), kustomization.replace('"1.0.0"', '"1.1.0"'));
  const meta = await git(["--git-dir", bare(name), "log", "-1", "--format=%an <%ae>%n%B", after]);
  assert.match(meta, /^CI Bot <ci@example\.invalid>\nSet app=registry\.example\/team\/app:1\.1\.0 in overlays\/prod\n/);
});

test("plain YAML: the matching container image changes, comments and formatting stay", async () => {
  const deployment = await fixture("commented-deployment.yaml");
  const name = await newRepo({ "apps/payments/deploy.yaml": deployment, "apps/payments/service.yaml": "kind: Service # untouched\n" });
  const result = await setImage(["--repo", server.repoUrl(name), "--path", "apps/payments", "--image", "registry.example/payments/app:1.4.3", "--message", "payments 1.4.3"]);
  assert.equal(result.code, 0, result.stderr);
  const after = await tip(name);
  assert.deepEqual(await changedLines(name, after), [
    '-                image: "registry.example/payments/app:1.4.2" # {"$imagepolicy": "prod:payments"}',
    '+                image: "registry.example/payments/app:1.4.3" # {"$imagepolicy": "prod:payments"}',
  ]);
  assert.equal((await git(["--git-dir", bare(name), "log", "-1", "--format=%B", after])).trim(), "payments 1.4.3");
});

test("--dry-run prints the diff and pushes nothing", async () => {
  const name = await newRepo({ "overlays/prod/kustomization.yaml": await fixture("kustomization.yaml") });
  const before = await tip(name);
  const result = await setImage(["--repo", server.repoUrl(name), "--path", "overlays/prod", "--image", "app:2.0.0", "--dry-run"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^--- a\/overlays\/prod\/kustomization\.yaml\n\+\+\+ b\/overlays\/prod\/kustomization\.yaml\n@@ /);
  assert.match(result.stdout, /\n- {4}newTag: "1\.0\.0" # \{"\$imagepolicy": "apps:app:tag"\}\n\+ {4}newTag: "2\.0\.0" # \{"\$imagepolicy": "apps:app:tag"\}\n/);
  assert.match(result.stderr, /nothing was committed or pushed/);
  assert.equal(await tip(name), before);
});

test("two concurrent pipelines on one branch both land; the loser retries after non-fast-forward", async () => {
  const name = await newRepo({
    "overlays/prod/kustomization.yaml": "resources:\n- ../../base\nimages:\n- name: api\n  newTag: \"1\"\n- name: web\n  newTag: \"1\"\n",
  });
  // A slow server-side check widens the window so the two pushes really overlap, as busy CI runners do.
  await server.installHook(name, "pre-receive", "#!/bin/sh\ncat >/dev/null\nsleep 2\n");
  const before = await tip(name);
  const [api, web] = await Promise.all([
    setImage(["--repo", server.repoUrl(name), "--path", "overlays/prod", "--image", "api:2", "--message", "api 2"]),
    setImage(["--repo", server.repoUrl(name), "--path", "overlays/prod", "--image", "web:2", "--message", "web 2"]),
  ]);
  assert.equal(api.code, 0, api.stderr);
  assert.equal(web.code, 0, web.stderr);
  const after = await tip(name);
  const log = (await git(["--git-dir", bare(name), "log", "--format=%s", `${before}..${after}`])).trim().split("\n");
  assert.deepEqual([...log].sort(), ["api 2", "web 2"]);
  const text = await show(name, after, "overlays/prod/kustomization.yaml");
  assert.equal(text, "resources:\n- ../../base\nimages:\n- name: api\n  newTag: \"2\"\n- name: web\n  newTag: \"2\"\n");
  const retried = [api, web].filter((result) => /after 1 lost race/.test(result.stdout));
  assert.equal(retried.length, 1, `${api.stdout}${api.stderr}\n${web.stdout}${web.stderr}`);
  assert.match(retried[0]?.stderr ?? "", /moved while pushing \((fetch first|non-fast-forward|failed to update ref)\).*\(attempt 2 of 5\)/);
});

test("a protected branch: non-zero exit naming the rejection, one attempt, nothing forced", async () => {
  const name = await newRepo({ "deploy.yaml": "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: app:1\n" });
  await server.installHook(name, "pre-receive", '#!/bin/sh\necho "branch main is protected: changes must go through a merge request" >&2\nexit 1\n');
  const before = await tip(name);
  const result = await setImage(["--repo", server.repoUrl(name), "--image", "app:2"]);
  assert.equal(result.code, 5);
  assert.match(result.stderr, /the remote rejected the push to branch "main".*\(pre-receive hook declined\): branch main is protected: changes must go through a merge request/);
  assert.ok(!/attempt 2/.test(result.stderr));
  assertNoToken(result);
  assert.equal(await tip(name), before);
});

test("a wrong token fails with exit 5 and is never printed", async () => {
  const name = await newRepo({ "deploy.yaml": "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: app:1\n" });
  const wrong = "wrong-token-0d9c8b7a";
  const result = await setImage(["--repo", server.repoUrl(name), "--image", "app:2"], { FJORD_GIT_TOKEN: wrong });
  assert.equal(result.code, 5);
  assert.match(result.stderr, /rejected the credentials/);
  assert.ok(!result.stderr.includes(wrong) && !result.stdout.includes(wrong));
});

test("bad input: an image matching nothing or a malformed file fails with exit 1 and pushes nothing", async () => {
  const name = await newRepo({ "apps/deploy.yaml": "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: app:1\n", "apps/broken.yaml": "kind: [Pod\n" });
  const before = await tip(name);
  const broken = await setImage(["--repo", server.repoUrl(name), "--path", "apps", "--image", "app:2"]);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /apps\/broken\.yaml:\d+: not valid YAML, left untouched/);
  const missing = await setImage(["--repo", server.repoUrl(name), "--path", "apps/deploy.yaml", "--image", "other:2"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no container image named "other" found/);
  const usage = await setImage(["--repo", server.repoUrl(name), "--image", "app"]);
  assert.notEqual(usage.code, 0);
  assert.match(usage.stderr, /names no new name, tag or digest/);
  assert.equal(await tip(name), before);
});

test("--workdir: works in an existing clone, which ends on the pushed commit", async () => {
  const name = await newRepo({ "deploy.yaml": "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: app:1 # pinned by CI\n" });
  const clone = join(scratch, `clone-${name}`);
  await git(["clone", "--quiet", server.fileUrl(name), clone]);
  const result = await setImage(["--repo", server.repoUrl(name), "--workdir", clone, "--image", "app:2"]);
  assert.equal(result.code, 0, result.stderr);
  const after = await tip(name);
  assert.equal((await git(["rev-parse", "HEAD"], clone)).trim(), after);
  assert.equal(await readFile(join(clone, "deploy.yaml"), "utf8"), "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: app:2 # pinned by CI\n");
  const again = await setImage(["--repo", server.repoUrl(name), "--workdir", clone, "--image", "app:2"]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already up to date/);
  assert.equal(await tip(name), after);
});
