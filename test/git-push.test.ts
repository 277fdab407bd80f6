// commitAndPush against a real Git server (git http-backend over smart HTTP) with the real git
// CLI: races, a protected branch, token auth, a caller's own clone.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { classifyPush, commitAndPush, GitPushError } from "../src/git/push.ts";
import { findAncestor, restorePath, RestoreRefused } from "../src/git/restore-path.ts";
import { rejection } from "./support/assertions.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";
import { startSilentServer } from "./support/silent-server.ts";

const execFileAsync = promisify(execFile);
const TOKEN = "push-test-token-7f3a9c";
const author = { name: "Image Bot", email: "bot@fjord.invalid" };

let server: GitServer;
let repoCount = 0;
const scratch: string[] = [];

before(async () => {
  server = await startGitServer({ auth: { token: TOKEN } });
});
after(async () => {
  await server.close();
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

const auth = { kind: "token", token: TOKEN } as const;

async function newRepo(files: Record<string, string> = { "app.yaml": "image: app:1.0.0\n", "other.yaml": "x: 1\n" }): Promise<string> {
  const name = `push-${++repoCount}`;
  await server.createRepo(name);
  await server.commitFiles(name, files, { message: "initial" });
  return name;
}

async function git(args: string[], cwd?: string): Promise<string> {
  const { stdout } = await execFileAsync("git", args, { cwd, env: server.gitEnv, encoding: "utf8" });
  return stdout;
}

function bare(name: string): string {
  return join(server.root, `${name}.git`);
}

async function show(name: string, rev: string, file: string): Promise<string> {
  return git(["--git-dir", bare(name), "show", `${rev}:${file}`]);
}

async function changedIn(name: string, rev: string): Promise<string[]> {
  return (await git(["--git-dir", bare(name), "diff-tree", "--no-commit-id", "--name-only", "-r", rev])).split("\n").filter(Boolean);
}

function replaceIn(file: string, from: string, to: string) {
  return async (dir: string) => {
    const target = join(dir, file);
    const text = await readFile(target, "utf8");
    await writeFile(target, text.replace(from, to));
    return [file];
  };
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "fjord-push-test-"));
  scratch.push(dir);
  return dir;
}

describe("commitAndPush", () => {
  test("commits only the files the edit reports, with the given author and message", async () => {
    const name = await newRepo();
    let seen: string[] = [];
    const result = await commitAndPush({
      url: server.repoUrl(name),
      branch: "main",
      auth,
      author,
      message: (files) => {
        seen = files;
        return `bump: ${files.join(", ")}`;
      },
      edit: async (dir) => {
        await writeFile(join(dir, "app.yaml"), "image: app:1.1.0\n");
        // Left in the work tree but not reported: must not be committed.
        await writeFile(join(dir, "other.yaml"), "x: 2\n");
        await writeFile(join(dir, "stray.txt"), "junk\n");
        return ["./app.yaml"];
      },
    });
    assert.equal(result.attempts, 1);
    assert.deepEqual(result.changedFiles, ["app.yaml"]);
    assert.deepEqual(seen, ["app.yaml"]);
    assert.match(result.commit ?? "", /^[0-9a-f]{40}$/);
    const tip = (await git(["--git-dir", bare(name), "rev-parse", "refs/heads/main"])).trim();
    assert.equal(tip, result.commit);
    assert.deepEqual(await changedIn(name, tip), ["app.yaml"]);
    assert.equal(await show(name, tip, "app.yaml"), "image: app:1.1.0\n");
    assert.equal(await show(name, tip, "other.yaml"), "x: 1\n");
    const meta = await git(["--git-dir", bare(name), "log", "-1", "--format=%an <%ae>|%cn|%B", tip]);
    assert.equal(meta.trim(), "Image Bot <bot@fjord.invalid>|Image Bot|bump: app.yaml");
  });

  test("an edit that changes nothing makes no commit", async () => {
    const name = await newRepo();
    const before = (await git(["--git-dir", bare(name), "rev-parse", "refs/heads/main"])).trim();
    const untouched = await commitAndPush({ url: server.repoUrl(name), branch: "main", auth, author, message: "m", edit: () => Promise.resolve([]) });
    assert.deepEqual(untouched, { attempts: 1, changedFiles: [] });
    // Reported but rewritten with identical content.
    const same = await commitAndPush({ url: server.repoUrl(name), branch: "main", auth, author, message: "m", edit: replaceIn("app.yaml", "nothing", "else") });
    assert.equal(same.commit, undefined);
    assert.equal((await git(["--git-dir", bare(name), "rev-parse", "refs/heads/main"])).trim(), before);
  });

  test("a lost race is retried on the new tip, and neither change is lost", async () => {
    const name = await newRepo();
    let calls = 0;
    const progress: string[] = [];
    const result = await commitAndPush({
      url: server.repoUrl(name),
      branch: "main",
      auth,
      author,
      message: "bump app",
      progress: (message) => progress.push(message),
      edit: async (dir) => {
        calls += 1;
        // Another pipeline lands between this attempt's fetch and its push.
        if (calls === 1) await server.commitFiles(name, { "other.yaml": "x: 99\n" }, { message: "concurrent" });
        return replaceIn("app.yaml", "1.0.0", "2.0.0")(dir);
      },
    });
    assert.equal(calls, 2);
    assert.equal(result.attempts, 2);
    assert.match(progress.join("\n"), /moved while pushing \((fetch first|non-fast-forward)\).*attempt 2 of 5/);
    const tip = result.commit ?? "";
    assert.equal(await show(name, tip, "app.yaml"), "image: app:2.0.0\n");
    assert.equal(await show(name, tip, "other.yaml"), "x: 99\n");
    assert.deepEqual(await changedIn(name, tip), ["app.yaml"]);
    assert.equal((await git(["--git-dir", bare(name), "log", "--format=%s", "main"])).trim().split("\n").join("|"), "bump app|concurrent|initial");
  });

  test("concurrent pushes of different files to one branch all land", async () => {
    const files = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`app-${i}.yaml`, `image: app${i}:1\n`]));
    const name = await newRepo(files);
    const results = await Promise.all(
      Object.keys(files).map((file) =>
        commitAndPush({ url: server.repoUrl(name), branch: "main", auth, author, message: `bump ${file}`, edit: replaceIn(file, ":1", ":2") }),
      ),
    );
    assert.ok(results.every((result) => result.commit !== undefined));
    for (const file of Object.keys(files)) assert.match(await show(name, "main", file), /:2\n$/);
    assert.equal((await git(["--git-dir", bare(name), "rev-list", "--count", "main"])).trim(), "4");
  });

  test("a branch that never stops moving ends after maxAttempts with push-conflict", async () => {
    const name = await newRepo();
    let calls = 0;
    const error = await rejection(
      commitAndPush({
        url: server.repoUrl(name),
        branch: "main",
        auth,
        author,
        message: "m",
        maxAttempts: 3,
        edit: async (dir) => {
          calls += 1;
          await server.commitFiles(name, { "other.yaml": `x: ${calls}\n` }, { message: `concurrent ${calls}` });
          return replaceIn("app.yaml", "1.0.0", "3.0.0")(dir);
        },
      }),
      GitPushError,
    );
    assert.equal(error.code, "push-conflict");
    assert.equal(error.attempts, 3);
    assert.equal(calls, 3);
    assert.match(error.message, /kept moving .* through 3 attempts; nothing was forced/);
  });

  test("a protected branch (pre-receive hook) is a push-rejected error naming the remote's words, not retried", async () => {
    const name = await newRepo();
    await server.installHook(
      name,
      "pre-receive",
      `#!/bin/sh\nwhile read old new ref; do\n  if [ "$ref" = refs/heads/main ]; then echo "GL-HOOK-ERR: main is a protected branch; open a merge request" >&2; exit 1; fi\ndone\n`,
    );
    let calls = 0;
    const error = await rejection(
      commitAndPush({
        url: server.repoUrl(name),
        branch: "main",
        auth,
        author,
        message: "m",
        edit: (dir) => {
          calls += 1;
          return replaceIn("app.yaml", "1.0.0", "4.0.0")(dir);
        },
      }),
      GitPushError,
    );
    assert.equal(error.code, "push-rejected");
    assert.equal(calls, 1);
    assert.equal(error.attempts, 1);
    assert.match(error.message, /rejected the push to branch "main".*pre-receive hook declined.*main is a protected branch/);
    assert.match(error.remoteMessage ?? "", /protected branch/);
    assert.ok(!error.message.includes(TOKEN));
  });

  test("a push branch is created from the checkout branch, then built on", async () => {
    const name = await newRepo();
    const first = await commitAndPush({
      url: server.repoUrl(name),
      branch: "main",
      pushBranch: "image-updates",
      auth,
      author,
      message: "one",
      edit: replaceIn("app.yaml", "1.0.0", "5.0.0"),
    });
    const second = await commitAndPush({
      url: server.repoUrl(name),
      branch: "main",
      pushBranch: "image-updates",
      auth,
      author,
      message: "two",
      edit: replaceIn("other.yaml", "x: 1", "x: 5"),
    });
    assert.equal((await git(["--git-dir", bare(name), "rev-parse", "image-updates~1"])).trim(), first.commit);
    assert.equal((await git(["--git-dir", bare(name), "rev-parse", "image-updates"])).trim(), second.commit);
    assert.equal(await show(name, "main", "app.yaml"), "image: app:1.0.0\n");
    assert.equal(await show(name, "image-updates", "app.yaml"), "image: app:5.0.0\n");
  });

  test("wrong credentials are auth-failed and the token never appears in the error", async () => {
    const name = await newRepo();
    const wrong = "wrong-token-5551234";
    const error = await rejection(
      commitAndPush({ url: server.repoUrl(name), branch: "main", auth: { kind: "token", token: wrong }, author, message: "m", edit: () => Promise.resolve([]) }),
      GitPushError,
    );
    assert.equal(error.code, "auth-failed");
    assert.ok(!error.message.includes(wrong));
    // Credentials in the URL are taken out of it and never shown either.
    const inUrl = await rejection(
      commitAndPush({ url: server.repoUrl(name).replace("http://", `http://git:${wrong}@`), branch: "main", author, message: "m", edit: () => Promise.resolve([]) }),
      GitPushError,
    );
    assert.equal(inUrl.code, "auth-failed");
    assert.ok(!inUrl.message.includes(wrong) && !inUrl.url.includes(wrong));
  });

  test("a missing branch and a path outside the repository are clear errors", async () => {
    const name = await newRepo();
    const missing = await rejection(commitAndPush({ url: server.repoUrl(name), branch: "nope", auth, author, message: "m", edit: () => Promise.resolve([]) }), GitPushError);
    assert.equal(missing.code, "ref-not-found");
    assert.match(missing.message, /branch "nope" not found/);
    const escape = await rejection(commitAndPush({ url: server.repoUrl(name), branch: "main", auth, author, message: "m", edit: () => Promise.resolve(["../x"]) }), GitPushError);
    assert.equal(escape.code, "path-escape");
    const bad = await rejection(commitAndPush({ url: server.repoUrl(name), branch: "-x", auth, author, message: "m", edit: () => Promise.resolve([]) }), GitPushError);
    assert.equal(bad.code, "invalid-ref");
  });

  test("works in an existing clone, which ends on the pushed commit; a dirty clone is refused", async () => {
    const name = await newRepo();
    const clone = join(await tempDir(), "clone");
    await git(["clone", "--quiet", server.fileUrl(name), clone]);
    // The clone falls behind, as a CI checkout does while other pipelines push.
    await server.commitFiles(name, { "other.yaml": "x: 7\n" }, { message: "ahead" });
    const result = await commitAndPush({ url: server.repoUrl(name), branch: "main", auth, workdir: clone, author, message: "m", edit: replaceIn("app.yaml", "1.0.0", "6.0.0") });
    assert.equal((await git(["rev-parse", "HEAD"], clone)).trim(), result.commit);
    assert.equal(await readFile(join(clone, "other.yaml"), "utf8"), "x: 7\n");
    assert.equal((await git(["status", "--porcelain"], clone)).trim(), "");
    assert.equal((await git(["for-each-ref", "refs/fjord"], clone)).trim(), "");

    await writeFile(join(clone, "app.yaml"), "local edit\n");
    const dirty = await rejection(
      commitAndPush({ url: server.repoUrl(name), branch: "main", auth, workdir: clone, author, message: "m", edit: () => Promise.resolve([]) }),
      GitPushError,
    );
    assert.equal(dirty.code, "workdir-unusable");
    assert.match(dirty.message, /uncommitted changes \(app\.yaml\)/);
    assert.equal(await readFile(join(clone, "app.yaml"), "utf8"), "local edit\n");
  });

  test("an abort signal stops the operation", async () => {
    const name = await newRepo();
    const controller = new AbortController();
    controller.abort();
    const error = await rejection(
      commitAndPush({ url: server.repoUrl(name), branch: "main", auth, author, message: "m", signal: controller.signal, edit: () => Promise.resolve([]) }),
      GitPushError,
    );
    assert.equal(error.code, "aborted");
  });

  test("an abort while the server hangs ends the push within a second and kills git", async (t) => {
    const silent = await startSilentServer();
    t.after(() => silent.close());
    const abort = new AbortController();
    const pending = commitAndPush({ url: `http://127.0.0.1:${silent.port}/repo.git`, branch: "main", auth, author, message: "m", timeoutMs: 30_000, signal: abort.signal, edit: () => Promise.resolve([]) });
    await silent.connected(10_000);
    const aborted = Date.now();
    abort.abort();
    const error = await rejection(pending, GitPushError);
    assert.equal(error.code, "aborted");
    assert.ok(Date.now() - aborted < 1000, `took ${Date.now() - aborted} ms after the abort`);
    assert.match(error.message, /^fetching http:\/\/127\.0\.0\.1:\d+\/repo\.git \(branch "main"\) was cancelled$/);
    await silent.allClosed(1000);
  });

  test("an edit can change the tree with git itself: reverting an earlier commit, retried on a moved tip like any edit", async () => {
    const name = await newRepo();
    const bad = await server.commitFiles(name, { "app.yaml": "image: app:2.0.0-broken\n" }, { message: "bad release" });
    let calls = 0;
    const result = await commitAndPush({
      url: server.repoUrl(name),
      branch: "main",
      auth,
      author,
      message: `Revert "bad release"`,
      edit: async (_dir, workTree) => {
        calls += 1;
        // Someone else pushes meanwhile on the first attempt: the revert is redone on their tip.
        if (calls === 1) await server.commitFiles(name, { "other.yaml": "x: 2\n" }, { message: "unrelated" });
        // The clone is shallow: the commit to revert and its parent come on demand.
        assert.equal(await workTree.fetch(bad, 2), bad);
        await workTree.git(["revert", "--no-commit", bad]);
        return (await workTree.git(["diff", "--cached", "--name-only", "-z"])).split("\0").filter(Boolean);
      },
    });
    assert.equal(calls, 2);
    assert.equal(result.attempts, 2);
    assert.deepEqual(result.changedFiles, ["app.yaml"]);
    assert.equal(await show(name, "main", "app.yaml"), "image: app:1.0.0\n");
    assert.equal(await show(name, "main", "other.yaml"), "x: 2\n", "the other push is kept");
    assert.equal((await git(["--git-dir", bare(name), "log", "-1", "--format=%s", "main"])).trim(), `Revert "bad release"`);

    // In a caller's clone, fetching for the edit leaves it whole (not shallow) and leaves no refs of fjord's behind.
    const again = await server.commitFiles(name, { "app.yaml": "image: app:3.0.0-broken\n" }, { message: "bad again" });
    const clone = join(await tempDir(), "clone");
    await git(["clone", "--quiet", server.fileUrl(name), clone]);
    await server.commitFiles(name, { "other.yaml": "x: 3\n" }, { message: "ahead of the clone" });
    await commitAndPush({
      url: server.repoUrl(name),
      branch: "main",
      auth,
      author,
      workdir: clone,
      message: "Revert again",
      edit: async (_dir, workTree) => {
        await workTree.fetch(again, 2);
        await workTree.git(["revert", "--no-commit", again]);
        return ["app.yaml"];
      },
    });
    assert.equal(await show(name, "main", "app.yaml"), "image: app:1.0.0\n");
    assert.equal((await git(["rev-parse", "--is-shallow-repository"], clone)).trim(), "false");
    assert.equal((await git(["for-each-ref", "refs/fjord"], clone)).trim(), "");
  });
});

describe("restoring one directory to an earlier commit (fjord rollback's edit)", () => {
  test("only the directory changes: files restored, files added since deleted, other paths kept; dryRun pushes nothing", async () => {
    const name = await newRepo({ "apps/web/a.yaml": "a: 1\n", "apps/web/b.yaml": "b: 1\n", "apps/other/c.yaml": "c: 1\n", "base/d.yaml": "d: 1\n" });
    const first = (await git(["--git-dir", bare(name), "rev-parse", "main"])).trim();
    await server.commitFiles(name, { "apps/web/a.yaml": "a: 2\n", "apps/web/b.yaml": null, "apps/web/new.yaml": "n: 2\n", "apps/other/c.yaml": "c: 2\n", "base/d.yaml": "d: 2\n" }, { message: "second" });
    const tip = (await git(["--git-dir", bare(name), "rev-parse", "main"])).trim();
    const restore = (dryRun: boolean) => {
      let seen: Awaited<ReturnType<typeof restorePath>> | undefined;
      return {
        run: () =>
          commitAndPush({
            url: server.repoUrl(name),
            branch: "main",
            auth,
            author,
            message: "Roll back web",
            dryRun,
            edit: async (_dir, workTree) => {
              const target = await findAncestor(workTree, first.slice(0, 7), "main");
              assert.deepEqual(target, { commit: first, subject: "initial" });
              seen = await restorePath(workTree, "apps/web", target.commit);
              return seen.changedFiles;
            },
          }),
        seen: () => seen,
      };
    };
    const dry = restore(true);
    const planned = await dry.run();
    assert.equal(planned.commit, undefined);
    assert.deepEqual(planned.changedFiles, ["apps/web/a.yaml", "apps/web/b.yaml", "apps/web/new.yaml"]);
    assert.match(dry.seen()?.diff ?? "", /^-a: 2\n\+a: 1$/m);
    assert.deepEqual(dry.seen()?.undone.map((commit) => commit.subject), ["second"]);
    assert.deepEqual(dry.seen()?.changedOutside, ["apps/other/c.yaml", "base/d.yaml"]);
    assert.equal((await git(["--git-dir", bare(name), "rev-parse", "main"])).trim(), tip, "a dry run pushes nothing");

    const pushed = await restore(false).run();
    assert.ok(pushed.commit);
    for (const dir of ["apps/web"]) assert.equal((await git(["--git-dir", bare(name), "rev-parse", `main:${dir}`])).trim(), (await git(["--git-dir", bare(name), "rev-parse", `${first}:${dir}`])).trim());
    assert.equal(await show(name, "main", "apps/other/c.yaml"), "c: 2\n");
    assert.equal(await show(name, "main", "base/d.yaml"), "d: 2\n");
    assert.deepEqual(await changedIn(name, "main"), ["apps/web/a.yaml", "apps/web/b.yaml", "apps/web/new.yaml"]);
    // Again: the directory already holds that content, so there is nothing to commit.
    const again = await restore(false).run();
    assert.equal(again.commit, undefined);
  });

  test("a commit not on the branch, an ambiguous or malformed SHA is refused", async () => {
    const name = await newRepo();
    const topic = await server.commitFiles(name, { "app.yaml": "image: evil\n" }, { message: "topic", branch: "topic" });
    for (const [wanted, pattern] of [
      [topic, /is not among the last 1000 commits of branch "main"/],
      ["--upload-pack=x", /is not a commit SHA/],
      ["HEAD~1", /is not a commit SHA/],
    ] as const) {
      const error = await rejection(
        commitAndPush({ url: server.repoUrl(name), branch: "main", auth, author, message: "m", edit: async (_dir, workTree) => [(await findAncestor(workTree, wanted, "main")).commit] }),
        RestoreRefused,
      );
      assert.match(error.message, pattern);
    }
  });
});

describe("classifyPush", () => {
  test("reads git's porcelain output", () => {
    assert.deepEqual(classifyPush({ code: 0, stdout: "To x\n \tabc:refs/heads/main\t1111..2222\nDone\n", stderr: "" }), { kind: "pushed" });
    assert.deepEqual(classifyPush({ code: 1, stdout: "To x\n!\tabc:refs/heads/main\t[rejected] (fetch first)\nDone\n", stderr: "" }), { kind: "race", reason: "fetch first" });
    assert.deepEqual(
      classifyPush({
        code: 1,
        stdout: "To x\n!\tabc:refs/heads/main\t[remote rejected] (failed to update ref)\nDone\n",
        stderr: "remote: error: cannot lock ref 'refs/heads/main': is at 1234abcd but expected 5678ef01\n",
      }),
      { kind: "race", reason: "failed to update ref" },
    );
    assert.deepEqual(
      classifyPush({ code: 1, stdout: "To x\n!\tabc:refs/heads/main\t[remote rejected] (pre-receive hook declined)\nDone\n", stderr: "remote: GitLab: You are not allowed to push code to protected branches on this project.\n" }),
      { kind: "rejected", reason: "pre-receive hook declined", remoteMessage: "GitLab: You are not allowed to push code to protected branches on this project." },
    );
    assert.deepEqual(classifyPush({ code: 128, stdout: "", stderr: "fatal: Authentication failed" }), { kind: "failed" });
  });
});
