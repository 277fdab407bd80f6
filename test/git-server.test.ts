import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { startGitServer, type GitServer } from "./support/git-server.ts";

const execFileAsync = promisify(execFile);

interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real git CLI with the server's isolated env; never throws, so failures can be asserted. */
async function git(server: GitServer, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  try {
    const { stdout, stderr } = await execFileAsync("git", args, {
      cwd: opts.cwd,
      env: { ...server.gitEnv, ...opts.env },
      encoding: "utf8",
    });
    return { code: 0, stdout, stderr } satisfies GitResult;
  } catch (error) {
    const { code, stdout, stderr } = error as { code?: number; stdout?: string; stderr?: string };
    return { code: code ?? -1, stdout: stdout ?? "", stderr: stderr ?? "" } satisfies GitResult;
  }
}

async function gitOk(server: GitServer, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const result = await git(server, args, opts);
  assert.equal(result.code, 0, `git ${args.join(" ")} failed: ${result.stderr}`);
  return result.stdout;
}

/** Parses `git ls-remote` output into ref -> sha. */
function refs(lsRemote: string): Map<string, string> {
  return new Map(
    lsRemote
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [sha = "", ref = ""] = line.split("\t");
        return [ref, sha];
      }),
  );
}

const scratch: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "fjord-git-test-"));
  scratch.push(dir);
  return dir;
}
after(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

function withPassword(url: string, user: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = user;
  parsed.password = password;
  return parsed.href;
}

describe("git server without auth", () => {
  let server: GitServer;
  let firstSha: string;

  before(async () => {
    server = await startGitServer();
    await server.createRepo("app");
    firstSha = await server.commitFiles(
      "app",
      { "README.md": "hello\n", "deploy/configmap.yaml": "kind: ConfigMap\n" },
      { message: "initial" },
    );
  });
  after(async () => {
    await server.close();
  });

  test("clone over smart HTTP shows the committed files", async () => {
    const dir = join(await tempDir(), "clone");
    await gitOk(server, ["clone", "--quiet", server.repoUrl("app"), dir]);
    assert.equal(await readFile(join(dir, "README.md"), "utf8"), "hello\n");
    assert.equal(await readFile(join(dir, "deploy/configmap.yaml"), "utf8"), "kind: ConfigMap\n");
    assert.equal((await gitOk(server, ["rev-parse", "HEAD"], { cwd: dir })).trim(), firstSha);
  });

  test("push over HTTP is accepted and visible to ls-remote", async () => {
    await server.createRepo("pushed");
    await server.commitFiles("pushed", { "a.txt": "a\n" }, { message: "a" });
    const dir = join(await tempDir(), "clone");
    await gitOk(server, ["clone", "--quiet", server.repoUrl("pushed"), dir]);
    await gitOk(server, ["commit", "--quiet", "--allow-empty", "-m", "from client"], { cwd: dir });
    const sha = (await gitOk(server, ["rev-parse", "HEAD"], { cwd: dir })).trim();
    await gitOk(server, ["push", "--quiet", "origin", "HEAD:refs/heads/main", "HEAD:refs/heads/feature"], { cwd: dir });

    const remote = refs(await gitOk(server, ["ls-remote", server.repoUrl("pushed")]));
    assert.equal(remote.get("refs/heads/main"), sha);
    assert.equal(remote.get("refs/heads/feature"), sha);
  });

  test("protocol v2 is negotiated through the Git-Protocol header", async () => {
    const result = await git(server, ["-c", "protocol.version=2", "ls-remote", server.repoUrl("app")], {
      env: { GIT_TRACE_PACKET: "1" },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /git< version 2/);
    assert.equal(refs(result.stdout).get("refs/heads/main"), firstSha);
  });

  test("gzip request bodies are inflated and CGI status lines are relayed", async () => {
    const request = Buffer.from(`0032want ${firstSha}\n00000009done\n`);
    const response = await fetch(`${server.repoUrl("app")}/git-upload-pack`, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-git-upload-pack-request",
        "Content-Encoding": "gzip",
      },
      body: gzipSync(request),
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/x-git-upload-pack-result");
    assert.equal(Buffer.from(await response.arrayBuffer()).subarray(0, 8).toString(), "0008NAK\n");

    const missing = await fetch(`${server.url}/nope.git/info/refs?service=git-upload-pack`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  });

  test("file:// clone works", async () => {
    const dir = join(await tempDir(), "clone");
    await gitOk(server, ["clone", "--quiet", server.fileUrl("app"), dir]);
    assert.equal(await readFile(join(dir, "README.md"), "utf8"), "hello\n");
  });

  test("commitFiles with null deletes a file and tags are visible via ls-remote", async () => {
    await server.createRepo("edits");
    await server.commitFiles("edits", { "keep.txt": "k\n", "drop.txt": "d\n" }, { message: "add" });
    const sha = await server.commitFiles(
      "edits",
      { "drop.txt": null },
      { message: "drop", tag: "v1.0.0", author: { name: "Someone", email: "someone@example.invalid" } },
    );

    const remote = refs(await gitOk(server, ["ls-remote", server.repoUrl("edits")]));
    assert.equal(remote.get("refs/heads/main"), sha);
    assert.equal(remote.get("refs/tags/v1.0.0"), sha);

    const dir = join(await tempDir(), "clone");
    await gitOk(server, ["clone", "--quiet", server.repoUrl("edits"), dir]);
    assert.equal(await readFile(join(dir, "keep.txt"), "utf8"), "k\n");
    await assert.rejects(stat(join(dir, "drop.txt")), { code: "ENOENT" });
    assert.equal((await gitOk(server, ["log", "-1", "--format=%an <%ae>"], { cwd: dir })).trim(), "Someone <someone@example.invalid>");
  });

  test("commitFiles on a new branch starts from the default branch", async () => {
    const sha = await server.commitFiles("app", { "extra.txt": "x\n" }, { message: "branch", branch: "feature" });
    const dir = join(await tempDir(), "clone");
    await gitOk(server, ["clone", "--quiet", "--branch", "feature", server.repoUrl("app"), dir]);
    assert.equal((await gitOk(server, ["rev-parse", "HEAD", "HEAD~1"], { cwd: dir })).trim(), `${sha}\n${firstSha}`);
    assert.equal(await readFile(join(dir, "README.md"), "utf8"), "hello\n");
  });
});

describe("git server with token auth", () => {
  const token = "s3cret-token";
  let server: GitServer;

  before(async () => {
    server = await startGitServer({ auth: { token } });
    await server.createRepo("private");
    await server.commitFiles("private", { "a.txt": "a\n" }, { message: "a" });
  });
  after(async () => {
    await server.close();
  });

  test("unauthenticated ls-remote is rejected with 401", async () => {
    const result = await git(server, ["ls-remote", server.repoUrl("private")], { env: { GIT_TRACE_CURL: "1" } });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /HTTP\/1\.1 401/);

    const response = await fetch(`${server.repoUrl("private")}/info/refs?service=git-upload-pack`);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get("www-authenticate"), 'Basic realm="fjord-test"');
    await response.body?.cancel();
  });

  test("the token works as a basic-auth password and as a bearer token", async () => {
    const withToken = withPassword(server.repoUrl("private"), "x", token);
    assert.ok(refs(await gitOk(server, ["ls-remote", withToken])).has("refs/heads/main"));

    const bearer = ["-c", `http.extraHeader=Authorization: Bearer ${token}`];
    assert.ok(refs(await gitOk(server, [...bearer, "ls-remote", server.repoUrl("private")])).has("refs/heads/main"));

    const wrong = await git(server, ["ls-remote", withPassword(server.repoUrl("private"), "x", "nope")]);
    assert.notEqual(wrong.code, 0);
  });
});

describe("git server with basic auth", () => {
  let server: GitServer;

  before(async () => {
    server = await startGitServer({ auth: { username: "alice", password: "pa55" } });
    await server.createRepo("private");
    await server.commitFiles("private", { "a.txt": "a\n" }, { message: "a" });
  });
  after(async () => {
    await server.close();
  });

  test("wrong password fails, right one succeeds, including push", async () => {
    const wrong = await git(server, ["ls-remote", withPassword(server.repoUrl("private"), "alice", "wrong")]);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /Authentication failed/);
    assert.doesNotMatch(wrong.stderr, /wrong/);

    const url = withPassword(server.repoUrl("private"), "alice", "pa55");
    const dir = join(await tempDir(), "clone");
    await gitOk(server, ["clone", "--quiet", url, dir]);
    await gitOk(server, ["commit", "--quiet", "--allow-empty", "-m", "b"], { cwd: dir });
    await gitOk(server, ["push", "--quiet", "origin", "HEAD:main"], { cwd: dir });
  });
});

describe("git server lifecycle", () => {
  test("close() removes the temp root", async () => {
    const server = await startGitServer();
    await server.createRepo("gone");
    await stat(server.root);
    await server.close();
    await assert.rejects(stat(server.root), { code: "ENOENT" });
  });

  test("close() leaves a caller-provided root in place", async () => {
    const root = await tempDir();
    const server = await startGitServer({ root });
    await server.createRepo("kept");
    await server.close();
    assert.ok((await stat(join(root, "kept.git"))).isDirectory());
  });
});
