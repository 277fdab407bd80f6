// commitAndPush's createBranch against the test Git server (git http-backend, the real git CLI):
// an empty repository, a repository without the branch, and the races while creating it.
// The rest of commitAndPush is covered in test/git-push.test.ts.

import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { rejection } from "../../test/support/assertions.ts";
import { startGitServer, type GitServer } from "../../test/support/git-server.ts";
import { commitAndPush, GitPushError } from "./push.ts";

const execFileAsync = promisify(execFile);
const TOKEN = "create-branch-token-41c7e2";
const auth = { kind: "token", token: TOKEN } as const;
const author = { name: "Bootstrap", email: "bootstrap@fjord.invalid" };

let server: GitServer;
let repoCount = 0;

before(async () => {
  server = await startGitServer({ auth: { token: TOKEN } });
});
after(() => server.close());

/** A bare repository as a Git host creates it: no commits, no branches. */
async function emptyRepo(): Promise<string> {
  const name = `empty-${++repoCount}`;
  await server.createRepo(name);
  return name;
}

async function git(name: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync("git", ["--git-dir", join(server.root, `${name}.git`), ...args], { env: server.gitEnv, encoding: "utf8" });
  return stdout;
}

async function branches(name: string): Promise<string[]> {
  return (await git(name, "for-each-ref", "--format=%(refname)", "refs/heads")).split("\n").filter(Boolean);
}

async function files(name: string, rev: string): Promise<string[]> {
  return (await git(name, "ls-tree", "-r", "--name-only", rev)).split("\n").filter(Boolean);
}

async function parents(name: string, rev: string): Promise<string[]> {
  return (await git(name, "log", "-1", "--format=%P", rev)).trim().split(" ").filter(Boolean);
}

function writing(contents: Record<string, string>) {
  return async (dir: string) => {
    for (const [file, content] of Object.entries(contents)) await writeFile(join(dir, file), content);
    return Object.keys(contents);
  };
}

describe("commitAndPush with createBranch", () => {
  test("an empty repository gets the branch, started by a root commit holding only the edit's files", async () => {
    const name = await emptyRepo();
    const result = await commitAndPush({ url: server.repoUrl(name), branch: "main", auth, author, message: "first", createBranch: true, edit: writing({ "a.yaml": "a: 1\n" }) });
    assert.equal(result.createdBranch, true);
    assert.equal(result.attempts, 1);
    assert.deepEqual(result.changedFiles, ["a.yaml"]);
    assert.deepEqual(await branches(name), ["refs/heads/main"]);
    assert.equal((await git(name, "rev-parse", "main")).trim(), result.commit);
    assert.deepEqual(await parents(name, "main"), []);
    assert.deepEqual(await files(name, "main"), ["a.yaml"]);

    // From then on the branch exists and is built on as usual.
    const next = await commitAndPush({ url: server.repoUrl(name), branch: "main", auth, author, message: "second", createBranch: true, edit: writing({ "b.yaml": "b: 1\n" }) });
    assert.equal(next.createdBranch, undefined);
    assert.deepEqual(await parents(name, "main"), [result.commit]);
    assert.deepEqual(await files(name, "main"), ["a.yaml", "b.yaml"]);
  });

  test("a local bare repository (a file URL) works the same for the CLI (allowLocal)", async () => {
    const name = await emptyRepo();
    const result = await commitAndPush({ url: server.fileUrl(name), allowLocal: true, branch: "fleet", author, message: "first", createBranch: true, edit: writing({ "a.yaml": "a: 1\n" }) });
    assert.equal(result.createdBranch, true);
    assert.deepEqual(await branches(name), ["refs/heads/fleet"]);
  });

  test("attack 4: without allowLocal (the controller's image automation) a file URL, a path or a remote helper is refused before git runs", async () => {
    const name = await emptyRepo();
    for (const url of [server.fileUrl(name), join(server.root, `${name}.git`), "ext::sh -c touch% /tmp/fjord-pwned"]) {
      const error = await rejection(commitAndPush({ url, branch: "fleet", author, message: "m", createBranch: true, edit: writing({ "a.yaml": "a: 1\n" }) }), GitPushError);
      assert.equal(error.code, "unsupported-url", url);
      assert.match(error.message, /the controller (fetches only over|does not run)|may use/);
    }
    assert.deepEqual(await branches(name), []);
  });

  test("a repository without the branch gets it beside the others, which stay as they were", async () => {
    const name = await emptyRepo();
    const main = await server.commitFiles(name, { "README.md": "hi\n" }, { message: "initial" });
    const result = await commitAndPush({ url: server.repoUrl(name), branch: "fleet", auth, author, message: "first", createBranch: true, edit: writing({ "a.yaml": "a: 1\n" }) });
    assert.equal(result.createdBranch, true);
    assert.deepEqual(await branches(name), ["refs/heads/fleet", "refs/heads/main"]);
    assert.deepEqual(await files(name, "fleet"), ["a.yaml"]);
    assert.equal((await git(name, "rev-parse", "main")).trim(), main);
  });

  test("an edit that changes nothing creates no branch", async () => {
    const name = await emptyRepo();
    const result = await commitAndPush({ url: server.repoUrl(name), branch: "main", auth, author, message: "m", createBranch: true, edit: () => Promise.resolve([]) });
    assert.deepEqual(result, { attempts: 1, changedFiles: [] });
    assert.deepEqual(await branches(name), []);
  });

  test("when another push creates the branch first, ours is not forced over it but redone on top of it", async () => {
    const name = await emptyRepo();
    let calls = 0;
    const result = await commitAndPush({
      url: server.repoUrl(name),
      branch: "main",
      auth,
      author,
      message: "ours",
      createBranch: true,
      edit: async (dir) => {
        calls += 1;
        if (calls === 1) await server.commitFiles(name, { "theirs.yaml": "t: 1\n" }, { message: "theirs" });
        return writing({ "ours.yaml": "o: 1\n" })(dir);
      },
    });
    assert.equal(calls, 2);
    assert.equal(result.attempts, 2);
    assert.equal(result.createdBranch, undefined);
    assert.equal((await git(name, "log", "--format=%s", "main")).trim().split("\n").join("|"), "ours|theirs");
    assert.deepEqual(await files(name, "main"), ["ours.yaml", "theirs.yaml"]);
  });

  test("a retry that again finds no branch starts over from nothing, without the lost attempt's commit or files", async () => {
    const name = await emptyRepo();
    let calls = 0;
    const result = await commitAndPush({
      url: server.repoUrl(name),
      branch: "main",
      auth,
      author,
      message: "ours",
      createBranch: true,
      // Between the attempts the branch that won the race is deleted again.
      progress: () => execFileSync("git", ["--git-dir", join(server.root, `${name}.git`), "update-ref", "-d", "refs/heads/main"], { env: server.gitEnv }),
      edit: async (dir) => {
        calls += 1;
        if (calls === 1) {
          await server.commitFiles(name, { "theirs.yaml": "t: 1\n" }, { message: "theirs" });
          return writing({ "first.yaml": "f: 1\n" })(dir);
        }
        return writing({ "second.yaml": "s: 1\n" })(dir);
      },
    });
    assert.equal(result.attempts, 2);
    assert.equal(result.createdBranch, true);
    assert.deepEqual(await parents(name, "main"), []);
    assert.deepEqual(await files(name, "main"), ["second.yaml"]);
  });

  test("wrong credentials on an empty repository are auth-failed, and no error shows them", async () => {
    const name = await emptyRepo();
    const wrong = "wrong-token-99127";
    const error = await rejection(
      commitAndPush({ url: server.repoUrl(name).replace("http://", `http://git:${wrong}@`), branch: "main", author, message: "m", createBranch: true, edit: writing({ "a.yaml": "a\n" }) }),
      GitPushError,
    );
    assert.equal(error.code, "auth-failed");
    assert.ok(!error.message.includes(wrong) && !error.url.includes(wrong));
    assert.deepEqual(await branches(name), []);
  });

  test("createBranch is refused with a caller's clone, which it would have to empty", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fjord-push-unit-"));
    try {
      const error = await rejection(
        commitAndPush({ url: server.repoUrl("whatever"), branch: "main", auth, author, message: "m", createBranch: true, workdir: dir, edit: () => Promise.resolve([]) }),
        GitPushError,
      );
      assert.equal(error.code, "workdir-unusable");
      assert.match(error.message, /createBranch .* workdir/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("commitAndPush without createBranch", () => {
  test("a missing branch is still ref-not-found and nothing is pushed, in an empty repository or beside other branches", async () => {
    const name = await emptyRepo();
    const inUrl = server.repoUrl(name).replace("http://", `http://git:${TOKEN}@`);
    const empty = await rejection(commitAndPush({ url: inUrl, branch: "main", author, message: "m", edit: writing({ "a.yaml": "a\n" }) }), GitPushError);
    assert.equal(empty.code, "ref-not-found");
    assert.match(empty.message, /branch "main" not found in http:\/\/127\.0\.0\.1:\d+\/empty-\d+\.git; is the repository empty\?/);
    assert.ok(!empty.message.includes(TOKEN) && !empty.url.includes(TOKEN));
    assert.deepEqual(await branches(name), []);

    await server.commitFiles(name, { "README.md": "hi\n" }, { message: "initial" });
    const elsewhere = await rejection(
      commitAndPush({ url: server.repoUrl(name), branch: "image-updates", auth, author, message: "m", createBranch: false, edit: writing({ "a.yaml": "a\n" }) }),
      GitPushError,
    );
    assert.equal(elsewhere.code, "ref-not-found");
    assert.match(elsewhere.message, /branch "image-updates" not found/);
    assert.deepEqual(await branches(name), ["refs/heads/main"]);
  });
});
