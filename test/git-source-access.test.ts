// The Git source's access paths against real servers: HTTP basic and token auth (git's
// http-backend behind test/support/git-server.ts), SSH (git's own ssh transport and OpenSSH's
// client against the ssh2-based Git host of test/support/ssh-server.ts), and the ways reaching a server fails.

import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { checkout, GitSourceError, resolveRevision, type GitSourceOptions } from "../src/git/index.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";
import { generateKeyPair, startSshServer, type SshServer } from "./support/ssh-server.ts";
import { rejection } from "./support/assertions.ts";
import { startSilentServer } from "./support/silent-server.ts";

const scratchDirs: string[] = [];
async function cacheDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "fjord-git-cache-"));
  scratchDirs.push(dir);
  return dir;
}
after(() => Promise.all(scratchDirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** Asserts that `promise` rejects with a GitSourceError of `code`; returns it for further checks. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<GitSourceError> {
  const error = await rejection(promise, GitSourceError);
  assert.equal(error.code, code, `expected code ${code}, got ${error.code}: ${error.message}`);
  return error;
}

/** Everything an error exposes to a log line or a status field. */
function everythingShown(error: GitSourceError): string {
  return [error.message, error.stack ?? "", JSON.stringify(error), String(error)].join("\n");
}

/**
 * Runs `fn` with a temp directory of its own (os.tmpdir() follows $TMPDIR) and asserts that the
 * private HOME and key directories the source created there are gone afterwards. Other test
 * files create such directories in the shared temp directory at the same time.
 */
async function expectPrivateDirsRemoved(fn: () => Promise<void>): Promise<void> {
  const own = await mkdtemp(join(tmpdir(), "fjord-tmpdir-"));
  scratchDirs.push(own);
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = own;
  try {
    await fn();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  const left = (await readdir(own)).filter((name) => name.startsWith("fjord-git-env-"));
  assert.deepEqual(left, [], "the private HOME and key files are removed");
}

describe("HTTPS token auth", () => {
  const TOKEN = "tok-3f9c2b7e51d04a86";
  let server: GitServer;
  let commit: string;

  before(async () => {
    server = await startGitServer({ auth: { token: TOKEN } });
    await server.createRepo("private");
    commit = await server.commitFiles("private", { "a.txt": "secret stuff" }, { message: "private" });
  });
  after(() => server.close());

  test("the right token checks out", async () => {
    const cache = await cacheDir();
    await expectPrivateDirsRemoved(async () => {
      const result = await checkout({ url: server.repoUrl("private"), auth: { kind: "token", token: TOKEN }, cacheDir: cache });
      try {
        assert.equal(result.commit, commit);
        assert.equal(await readFile(join(result.dir, "a.txt"), "utf8"), "secret stuff");
      } finally {
        await result.dispose();
      }
    });
  });

  test("a token with an explicit username, and credentials inside the URL, work too", async () => {
    const withUser = await resolveRevision({
      url: server.repoUrl("private"),
      auth: { kind: "token", token: TOKEN, username: "x-access-token" },
      cacheDir: await cacheDir(),
    });
    assert.equal(withUser.commit, commit);
    const inUrl = await resolveRevision({ url: server.repoUrl("private").replace("http://", `http://git:${TOKEN}@`), cacheDir: await cacheDir() });
    assert.equal(inUrl.commit, commit);
    assert.equal(inUrl.url, server.repoUrl("private"), "the URL is reported without the token");
  });

  test("a wrong token is auth-failed and the message names neither token", async () => {
    const wrong = "tok-wrong-8d1e6a0c99f2";
    const error = await rejectsWith(
      checkout({ url: server.repoUrl("private"), auth: { kind: "token", token: wrong }, cacheDir: await cacheDir() }),
      "auth-failed",
    );
    assert.match(error.message, new RegExp(`authentication failed for ${server.repoUrl("private").replace(/\./g, "\\.")}`));
    assert.match(error.message, /default branch/);
    const shown = everythingShown(error);
    assert.ok(!shown.includes(wrong) && !shown.includes(TOKEN), shown);
    assert.ok(!shown.includes(Buffer.from(`git:${wrong}`).toString("base64")), shown);
  });

  test("a wrong token inside the URL is auth-failed and redacted", async () => {
    const wrong = "tok-in-url-51c0ffee7";
    const error = await rejectsWith(
      resolveRevision({ url: server.repoUrl("private").replace("http://", `http://git:${wrong}@`), cacheDir: await cacheDir() }),
      "auth-failed",
    );
    assert.ok(!everythingShown(error).includes(wrong), error.message);
  });

  test("no credentials at all is auth-failed, not a prompt", async () => {
    await rejectsWith(resolveRevision({ url: server.repoUrl("private"), cacheDir: await cacheDir() }), "auth-failed");
  });

  test("a cached commit is not served to someone the server turns away", async () => {
    const shared = await cacheDir();
    await resolveRevision({ url: server.repoUrl("private"), auth: { kind: "token", token: TOKEN }, cacheDir: shared, ref: { commit } });
    await rejectsWith(
      checkout({ url: server.repoUrl("private"), auth: { kind: "token", token: "tok-nope-0000" }, cacheDir: shared, ref: { commit } }),
      "auth-failed",
    );
  });
});

describe("HTTPS basic auth", () => {
  let server: GitServer;

  before(async () => {
    server = await startGitServer({ auth: { username: "alice", password: "pw-7c1a93e0" } });
    await server.createRepo("basic");
    await server.commitFiles("basic", { "a.txt": "a" }, { message: "a" });
  });
  after(() => server.close());

  test("the right password checks out; a wrong one is auth-failed", async () => {
    const url = server.repoUrl("basic");
    const revision = await resolveRevision({ url, auth: { kind: "basic", username: "alice", password: "pw-7c1a93e0" }, cacheDir: await cacheDir() });
    assert.equal(revision.message, "a");
    const error = await rejectsWith(
      resolveRevision({ url, auth: { kind: "basic", username: "alice", password: "pw-wrong-42x" }, cacheDir: await cacheDir() }),
      "auth-failed",
    );
    assert.ok(!everythingShown(error).includes("pw-wrong-42x"));
  });
});

describe("unreachable servers", () => {
  test("a closed port is unreachable", async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/repo.git`;
    const error = await rejectsWith(checkout({ url, cacheDir: await cacheDir(), ref: { branch: "main" } }), "unreachable");
    assert.match(error.message, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}/repo\\.git \\(branch "main"\\)`));
  });

  test("a repository that does not exist is unreachable, saying so", async () => {
    const server = await startGitServer();
    try {
      const error = await rejectsWith(resolveRevision({ url: server.repoUrl("missing"), cacheDir: await cacheDir() }), "unreachable");
      assert.match(error.message, /does not exist/);
    } finally {
      await server.close();
    }
  });

  test("a server that never answers times out quickly, and git is killed", async (t) => {
    const silent = await startSilentServer();
    t.after(() => silent.close());
    const url = `http://user:pw-never-shown@127.0.0.1:${silent.port}/repo.git`;
    const started = Date.now();
    const error = await rejectsWith(checkout({ url, cacheDir: await cacheDir(), timeoutMs: 500 }), "timeout");
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 3000, `took ${elapsed} ms`);
    assert.match(error.message, new RegExp(`^timed out after 0\\.5s fetching http://127\\.0\\.0\\.1:${silent.port}/repo\\.git`));
    assert.ok(!everythingShown(error).includes("pw-never-shown"));
    // The connection closes only when git's HTTP helper, a grandchild, is gone.
    await silent.allClosed(2000);
  });
});

describe("cancellation", () => {
  test("shutdown does not wait for a hanging git: an aborted signal ends a checkout or resolution within a second, killing git", async (t) => {
    const silent = await startSilentServer();
    t.after(() => silent.close());
    const url = `http://user:pw-never-shown@127.0.0.1:${silent.port}/repo.git`;
    for (const operation of [checkout, resolveRevision]) {
      const abort = new AbortController();
      const pending = operation({ url, cacheDir: await cacheDir(), timeoutMs: 30_000, signal: abort.signal });
      // git is waiting for the server's answer (the smart-HTTP ref advertisement) when the signal fires.
      await silent.connected(10_000);
      const aborted = Date.now();
      abort.abort(new Error("controller stopping"));
      const error = await rejectsWith(pending, "aborted");
      const elapsed = Date.now() - aborted;
      assert.ok(elapsed < 1000, `${operation.name} took ${elapsed} ms after the abort`);
      assert.match(error.message, new RegExp(`^fetching http://127\\.0\\.0\\.1:${silent.port}/repo\\.git \\(default branch\\) was cancelled$`));
      assert.ok(!everythingShown(error).includes("pw-never-shown"));
      // The connection closes only when git's HTTP helper, a grandchild, is gone.
      await silent.allClosed(1000);
    }
  });

  test("an already aborted signal starts no git at all", async (t) => {
    const silent = await startSilentServer();
    t.after(() => silent.close());
    const abort = new AbortController();
    abort.abort();
    await rejectsWith(checkout({ url: `http://127.0.0.1:${silent.port}/repo.git`, cacheDir: await cacheDir(), signal: abort.signal }), "aborted");
    await assert.rejects(silent.connected(200), "git never connected");
  });
});

describe("SSH", () => {
  let server: GitServer;
  let ssh: SshServer;
  let sshV0: SshServer;
  let tip: string;
  let older: string;

  before(async () => {
    server = await startGitServer();
    await server.createRepo("over-ssh");
    older = await server.commitFiles("over-ssh", { "a.txt": "one" }, { message: "one" });
    tip = await server.commitFiles("over-ssh", { "a.txt": "two" }, { message: "two" });
    [ssh, sshV0] = await Promise.all([startSshServer(server), startSshServer(server, { protocolV2: false })]);
  });
  after(async () => {
    await Promise.all([ssh?.close(), sshV0?.close()]);
    await server?.close();
  });

  const sshOptions = (target: SshServer, extra: Partial<GitSourceOptions> = {}): GitSourceOptions => ({
    url: target.url("over-ssh"),
    auth: { kind: "ssh", privateKey: target.clientPrivateKey, knownHosts: target.knownHosts },
    ...extra,
  });

  test("the right key and known_hosts check out, and the key files are removed", async () => {
    const cache = await cacheDir();
    await expectPrivateDirsRemoved(async () => {
      const result = await checkout({ ...sshOptions(ssh), cacheDir: cache });
      try {
        assert.equal(result.commit, tip);
        assert.equal(result.ref, "refs/heads/main");
        assert.equal(await readFile(join(result.dir, "a.txt"), "utf8"), "two");
      } finally {
        await result.dispose();
      }
    });
  });

  test("a commit that is no branch tip, from a server that refuses fetching it by SHA", async () => {
    // Protocol v0 only hands out advertised tips by SHA; the source falls back to the history.
    for (const ref of [{ commit: older }, { commit: older, branch: "main" }]) {
      const result = await checkout({ ...sshOptions(sshV0), ref, cacheDir: await cacheDir() });
      try {
        assert.equal(result.commit, older);
        assert.equal(await readFile(join(result.dir, "a.txt"), "utf8"), "one");
      } finally {
        await result.dispose();
      }
    }
    const missing = "fedcba9876543210fedcba9876543210fedcba98";
    await rejectsWith(checkout({ ...sshOptions(sshV0), ref: { commit: missing }, cacheDir: await cacheDir() }), "commit-not-found");
  });

  test("a known_hosts that does not match the server's key is host-key-mismatch", async () => {
    const impostor = generateKeyPair();
    const knownHosts = `[127.0.0.1]:${ssh.port} ${impostor.publicKey}\n`;
    const error = await rejectsWith(
      checkout({ ...sshOptions(ssh), auth: { kind: "ssh", privateKey: ssh.clientPrivateKey, knownHosts }, cacheDir: await cacheDir() }),
      "host-key-mismatch",
    );
    assert.match(error.message, /known_hosts/);
    // No known_hosts entry at all: there is no trust on first use either.
    await rejectsWith(
      checkout({ ...sshOptions(ssh), auth: { kind: "ssh", privateKey: ssh.clientPrivateKey, knownHosts: "" }, cacheDir: await cacheDir() }),
      "host-key-mismatch",
    );
  });

  test("a key the server does not accept is auth-failed", async () => {
    const stranger = generateKeyPair();
    const error = await rejectsWith(
      checkout({ ...sshOptions(ssh), auth: { kind: "ssh", privateKey: stranger.privateKey, knownHosts: ssh.knownHosts }, cacheDir: await cacheDir() }),
      "auth-failed",
    );
    assert.match(error.message, /Permission denied/);
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
