// The Git source against real servers: git's own http-backend (test/support/git-server.ts) and
// the real git CLI on the client side. Every test uses its own cache directory unless it is
// about the cache.

import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, request, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { checkout, confinedPath, GitSourceError, resolveRevision, type GitSourceOptions } from "../src/git/index.ts";
import { compileIgnorePatterns } from "../src/render/ignore-patterns.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";
import { rejection } from "./support/assertions.ts";

const execFileAsync = promisify(execFile);

/** Temporary directories removed by `cleanup()`. */
class Scratch {
  readonly #dirs: string[] = [];

  async dir(prefix = "fjord-git-source-test-"): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.#dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.#dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

async function git(server: GitServer, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<string> {
  const { stdout } = await execFileAsync("git", args, {
    cwd: options.cwd,
    env: { ...server.gitEnv, ...options.env },
    encoding: "utf8",
  });
  return stdout;
}

function bareRepo(server: GitServer, name: string): string {
  return join(server.root, `${name}.git`);
}

interface TreeCommit {
  message: string;
  branch?: string;
  files?: Record<string, string>;
  /** path -> link target, committed as symlinks */
  symlinks?: Record<string, string>;
  /** Files whose names are bytes that are not UTF-8 (git allows any but NUL and `/`); their directories must exist. */
  byteNamedFiles?: { path: Buffer; content: string }[];
  author?: { name: string; email: string };
  /** e.g. "2024-05-06T07:08:09+02:00" */
  date?: string;
}

/** Commits files and symlinks on top of `branch` (created when missing) and pushes; returns the SHA. */
async function commitTree(server: GitServer, scratch: Scratch, name: string, commit: TreeCommit): Promise<string> {
  const branch = commit.branch ?? "main";
  const work = join(await scratch.dir("fjord-git-work-"), "work");
  await git(server, ["clone", "--quiet", bareRepo(server, name), work]);
  const exists = await git(server, ["ls-remote", "origin", `refs/heads/${branch}`], { cwd: work });
  if (exists.trim()) await git(server, ["checkout", "--quiet", "-B", branch, `origin/${branch}`], { cwd: work });
  else await git(server, ["checkout", "--quiet", "--orphan", branch], { cwd: work });
  for (const [path, content] of Object.entries(commit.files ?? {})) {
    await mkdir(dirname(join(work, path)), { recursive: true });
    await writeFile(join(work, path), content);
  }
  for (const [path, target] of Object.entries(commit.symlinks ?? {})) {
    await mkdir(dirname(join(work, path)), { recursive: true });
    await symlink(target, join(work, path));
  }
  for (const { path, content } of commit.byteNamedFiles ?? []) await writeFile(Buffer.concat([Buffer.from(`${work}/`), path]), content);
  const env: Record<string, string> = {};
  if (commit.author) Object.assign(env, { GIT_AUTHOR_NAME: commit.author.name, GIT_AUTHOR_EMAIL: commit.author.email });
  if (commit.date) Object.assign(env, { GIT_AUTHOR_DATE: commit.date, GIT_COMMITTER_DATE: commit.date });
  await git(server, ["add", "--all"], { cwd: work });
  await git(server, ["commit", "--quiet", "--allow-empty", "-m", commit.message], { cwd: work, env });
  await git(server, ["push", "--quiet", "origin", `HEAD:refs/heads/${branch}`], { cwd: work });
  return (await git(server, ["rev-parse", "HEAD"], { cwd: work })).trim();
}

interface CountingProxy {
  /** Base URL to use instead of the GitServer's. */
  readonly url: string;
  /** upload-pack requests that asked for objects (protocol v2 `command=fetch`, or v0 `want` lines). */
  readonly packRequests: number;
  close(): Promise<void>;
}

/**
 * Relays HTTP to `target` and counts the requests that download a pack, which listing refs
 * (`ls-remote`) does not. The only way to prove a fetch was skipped without touching the server.
 */
async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  let packRequests = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (req.method === "POST" && (req.url ?? "").endsWith("/git-upload-pack")) {
        const text = (req.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body).toString("latin1");
        if (text.includes("command=fetch") || /want [0-9a-f]{40}/.test(text)) packRequests += 1;
      }
      const headers: IncomingHttpHeaders = { ...req.headers, host: upstream.host };
      // The body is relayed whole, so its length is known.
      delete headers["transfer-encoding"];
      headers["content-length"] = String(body.length);
      const forward = request(
        { hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
        (response) => {
          res.writeHead(response.statusCode ?? 502, response.headers);
          response.pipe(res);
        },
      );
      forward.on("error", () => res.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get packRequests() {
      return packRequests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Asserts that `promise` rejects with a GitSourceError of `code`; returns it for further checks. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<GitSourceError> {
  const error = await rejection(promise, GitSourceError);
  assert.equal(error.code, code, `expected code ${code}, got ${error.code}: ${error.message}`);
  return error;
}

const scratch = new Scratch();
let server: GitServer;

before(async () => {
  server = await startGitServer();
});
after(async () => {
  await server.close();
  await scratch.cleanup();
});

/** Options for one checkout through the plain HTTP server, with a cache of its own unless given. */
async function options(repo: string, extra: Partial<GitSourceOptions> = {}): Promise<GitSourceOptions> {
  return { url: server.repoUrl(repo), cacheDir: extra.cacheDir ?? (await scratch.dir("fjord-git-cache-")), ...extra };
}

async function checkoutFile(opts: GitSourceOptions, file: string): Promise<{ commit: string; ref: string; content: string }> {
  const result = await checkout(opts);
  try {
    return { commit: result.commit, ref: result.ref, content: await readFile(join(result.dir, file), "utf8") };
  } finally {
    await result.dispose();
  }
}

describe("ref resolution", () => {
  let mainTip: string;
  let devTip: string;
  let tagged: string;
  let annotated: string;
  let pullHead: string;
  let oldMain: string;

  before(async () => {
    await server.createRepo("refs", { defaultBranch: "trunk" });
    oldMain = await server.commitFiles("refs", { "which.txt": "trunk 1" }, { message: "trunk 1", branch: "trunk", tag: "v1.0.0" });
    tagged = oldMain;
    mainTip = await server.commitFiles("refs", { "which.txt": "trunk 2" }, { message: "trunk 2", branch: "trunk" });
    devTip = await server.commitFiles("refs", { "which.txt": "dev" }, { message: "dev", branch: "dev" });

    const bare = bareRepo(server, "refs");
    // Semver candidates, numerically (not lexically) ordered: v1.10.0 beats v1.9.0; the
    // prerelease and the non-version tags must be ignored; v1.10.0 is annotated.
    const semverCommits: Record<string, string> = {};
    for (const tag of ["v1.2.0", "v1.9.0", "1.5.0", "v2.0.0", "v1.11.0-rc.1", "latest"]) {
      semverCommits[tag] = await server.commitFiles("refs", { "which.txt": tag }, { message: tag, branch: "releases", tag });
    }
    annotated = await server.commitFiles("refs", { "which.txt": "v1.10.0" }, { message: "v1.10.0", branch: "releases" });
    await git(server, ["--git-dir", bare, "tag", "-a", "v1.10.0", "-m", "release 1.10.0", annotated]);

    // A pull-request head: reachable only through refs/pull/1/head, as on GitHub.
    pullHead = await server.commitFiles("refs", { "which.txt": "pr 1" }, { message: "pr 1", branch: "pr-1" });
    await git(server, ["--git-dir", bare, "update-ref", "refs/pull/1/head", pullHead]);
    await git(server, ["--git-dir", bare, "update-ref", "-d", "refs/heads/pr-1"]);
  });

  test("no ref: the remote's default branch", async () => {
    const result = await checkoutFile(await options("refs"), "which.txt");
    assert.deepEqual(result, { commit: mainTip, ref: "refs/heads/trunk", content: "trunk 2" });
  });

  test("a named branch", async () => {
    const result = await checkoutFile(await options("refs", { ref: { branch: "dev" } }), "which.txt");
    assert.deepEqual(result, { commit: devTip, ref: "refs/heads/dev", content: "dev" });
  });

  test("a lightweight tag", async () => {
    const result = await checkoutFile(await options("refs", { ref: { tag: "v1.0.0" } }), "which.txt");
    assert.deepEqual(result, { commit: tagged, ref: "refs/tags/v1.0.0", content: "trunk 1" });
  });

  test("an annotated tag is peeled to its commit", async () => {
    const result = await checkoutFile(await options("refs", { ref: { tag: "v1.10.0" } }), "which.txt");
    assert.deepEqual(result, { commit: annotated, ref: "refs/tags/v1.10.0", content: "v1.10.0" });
  });

  test("a semver range picks the highest matching tag", async () => {
    const cacheDir = await scratch.dir("fjord-git-cache-");
    const pick = async (range: string) => (await resolveRevision(await options("refs", { cacheDir, ref: { semver: range } }))).ref;
    assert.equal(await pick(">=1.2.0 <2.0.0"), "refs/tags/v1.10.0");
    assert.equal(await pick("1.x"), "refs/tags/v1.10.0");
    assert.equal(await pick("~1.2"), "refs/tags/v1.2.0");
    assert.equal(await pick("<1.6"), "refs/tags/1.5.0");
    assert.equal(await pick(">=1.11.0-rc.0 <2"), "refs/tags/v1.11.0-rc.1");
    assert.equal(await pick("*"), "refs/tags/v2.0.0");
  });

  test("no semver match says so and lists tags seen", async () => {
    const error = await rejectsWith(checkout(await options("refs", { ref: { semver: ">=3.0.0" } })), "no-semver-match");
    assert.match(error.message, />=3\.0\.0/);
    assert.match(error.message, /v2\.0\.0, v1\.11\.0-rc\.1, v1\.10\.0/);
    assert.match(error.message, new RegExp(server.repoUrl("refs").replace(/\./g, "\\.")));
  });

  test("a full ref name such as refs/pull/1/head", async () => {
    const result = await checkoutFile(await options("refs", { ref: { name: "refs/pull/1/head" } }), "which.txt");
    assert.deepEqual(result, { commit: pullHead, ref: "refs/pull/1/head", content: "pr 1" });
  });

  test("a short name finds the branch or tag of that name", async () => {
    const result = await checkoutFile(await options("refs", { ref: { name: "dev" } }), "which.txt");
    assert.deepEqual(result, { commit: devTip, ref: "refs/heads/dev", content: "dev" });
  });

  test("an exact commit that is not a branch tip", async () => {
    const result = await checkoutFile(await options("refs", { ref: { commit: oldMain } }), "which.txt");
    assert.deepEqual(result, { commit: oldMain, ref: oldMain, content: "trunk 1" });
    const onBranch = await checkoutFile(await options("refs", { ref: { commit: oldMain.toUpperCase(), branch: "trunk" } }), "which.txt");
    assert.deepEqual(onBranch, { commit: oldMain, ref: "refs/heads/trunk", content: "trunk 1" });
  });

  test("a commit the server does not have", async () => {
    const missing = "0123456789abcdef0123456789abcdef01234567";
    const error = await rejectsWith(checkout(await options("refs", { ref: { commit: missing } })), "commit-not-found");
    assert.match(error.message, new RegExp(missing));
  });

  test("an unknown branch is ref-not-found and lists the branches", async () => {
    const error = await rejectsWith(checkout(await options("refs", { ref: { branch: "nope" } })), "ref-not-found");
    assert.match(error.message, /branch "nope" not found in http:\/\/127\.0\.0\.1:\d+\/refs\.git/);
    assert.match(error.message, /branches seen: dev, releases, trunk/);
  });

  test("an unknown tag and an unknown ref name are ref-not-found", async () => {
    await rejectsWith(checkout(await options("refs", { ref: { tag: "v9" } })), "ref-not-found");
    await rejectsWith(checkout(await options("refs", { ref: { name: "refs/pull/2/head" } })), "ref-not-found");
  });

  test("malformed refs are refused before any network access", async () => {
    const opts = { url: "http://127.0.0.1:1/never-contacted.git", cacheDir: await scratch.dir() };
    await rejectsWith(checkout({ ...opts, ref: { commit: "abc123" } }), "invalid-ref");
    await rejectsWith(checkout({ ...opts, ref: { branch: "a:refs/heads/b" } }), "invalid-ref");
    await rejectsWith(checkout({ ...opts, ref: { semver: "not a range" } }), "invalid-ref");
  });

  test("resolveRevision returns the revision without a checkout", async () => {
    const revision = await resolveRevision(await options("refs", { ref: { branch: "dev" } }));
    assert.equal(revision.commit, devTip);
    assert.ok(!("dir" in revision));
  });
});

describe("the cache", () => {
  test("an unchanged ref is not downloaded again; a new commit is", async (t) => {
    await server.createRepo("cached");
    const first = await server.commitFiles("cached", { "app.yaml": "v: 1\n", "big.txt": "x".repeat(100_000) }, { message: "one" });
    const proxy = await startCountingProxy(server.url);
    t.after(() => proxy.close());
    const cacheDir = await scratch.dir("fjord-git-cache-");
    const opts: GitSourceOptions = { url: `${proxy.url}/cached.git`, cacheDir };

    assert.equal((await checkoutFile(opts, "app.yaml")).commit, first);
    assert.equal(proxy.packRequests, 1, "the first checkout downloads a pack");
    const [name] = await cacheRepositories(cacheDir);
    assert.ok(name, "one bare repository in the cache");
    const cache = join(cacheDir, name);
    const objectsBefore = await countObjects(cache);

    const again = await checkoutFile(opts, "app.yaml");
    assert.deepEqual(again, { commit: first, ref: "refs/heads/main", content: "v: 1\n" });
    assert.equal(proxy.packRequests, 1, "the second checkout downloads nothing");
    assert.equal(await countObjects(cache), objectsBefore);

    const second = await server.commitFiles("cached", { "app.yaml": "v: 2\n" }, { message: "two" });
    const updated = await checkoutFile(opts, "app.yaml");
    assert.deepEqual(updated, { commit: second, ref: "refs/heads/main", content: "v: 2\n" });
    assert.equal(proxy.packRequests, 2, "the new commit is fetched");

    // A pinned commit that is already cached needs no pack either.
    assert.equal((await checkoutFile({ ...opts, ref: { commit: first } }, "app.yaml")).content, "v: 1\n");
    assert.equal(proxy.packRequests, 2);
  });

  test("git lock files left by a killed fetch do not wedge the cache", async () => {
    await server.createRepo("wedged");
    await server.commitFiles("wedged", { "a.txt": "1" }, { message: "1" });
    const cacheDir = await scratch.dir("fjord-git-cache-");
    const opts: GitSourceOptions = { url: server.repoUrl("wedged"), cacheDir };
    await resolveRevision(opts);
    const [name] = await cacheRepositories(cacheDir);
    const cache = join(cacheDir, name as string);
    // What a SIGKILLed `git fetch --depth=1` leaves behind.
    await writeFile(join(cache, "shallow.lock"), "");
    await mkdir(join(cache, "refs/fjord/heads"), { recursive: true });
    await writeFile(join(cache, "refs/fjord/heads/main.lock"), "");
    const next = await server.commitFiles("wedged", { "a.txt": "2" }, { message: "2" });
    assert.equal((await checkoutFile(opts, "a.txt")).commit, next);
  });

  test("the cache is keyed by the URL without credentials", async () => {
    await server.createRepo("keyed");
    await server.commitFiles("keyed", { "a.txt": "a" }, { message: "a" });
    const cacheDir = await scratch.dir("fjord-git-cache-");
    const plain = server.repoUrl("keyed");
    const withUser = plain.replace("http://", "http://someone:hunter22@");
    const revision = await resolveRevision({ url: withUser, cacheDir });
    assert.equal(revision.url, plain, "the revision's URL carries no credentials");
    await resolveRevision({ url: plain, cacheDir });
    const entries = await cacheRepositories(cacheDir);
    assert.equal(entries.length, 1);
    const config = await readFile(join(cacheDir, entries[0] as string, "config"), "utf8");
    assert.doesNotMatch(config + entries.join(","), /hunter22|someone/);
  });

  test("concurrent checkouts of one URL, in this process and in others, share the cache safely", async () => {
    await server.createRepo("busy");
    const tip = await server.commitFiles("busy", { "a.txt": "a".repeat(50_000) }, { message: "busy" });
    const cacheDir = await scratch.dir("fjord-git-cache-");
    const url = server.repoUrl("busy");
    const module = new URL("../src/git/index.ts", import.meta.url).href;
    const script = `
      const { checkout } = await import(${JSON.stringify(module)});
      const result = await checkout({ url: process.env.URL, cacheDir: process.env.CACHE });
      process.stdout.write(result.commit);
      await result.dispose();`;
    const inOtherProcess = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
          env: { ...process.env, URL: url, CACHE: cacheDir },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        let err = "";
        child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
        child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`child failed: ${err}`))));
      });
    const inThisProcess = async () => (await checkoutFile({ url, cacheDir }, "a.txt")).commit;
    const commits = await Promise.all([inOtherProcess(), inOtherProcess(), inThisProcess(), inThisProcess(), inThisProcess()]);
    assert.deepEqual(commits, Array<string>(5).fill(tip));
    const [cache] = await cacheRepositories(cacheDir);
    await git(server, ["--git-dir", join(cacheDir, cache as string), "fsck", "--no-progress"]);
    assert.deepEqual((await readdir(cacheDir)).filter((name) => name.endsWith(".lock")), [], "no lock is left behind");
  });
});

describe("checkout contents", () => {
  let dir: string;
  let dispose: () => Promise<void>;

  before(async () => {
    await server.createRepo("links");
    await commitTree(server, scratch, "links", {
      message: "Add manifests\n\nWith symlinks, some of them hostile.\n",
      author: { name: "Ada Lovelace", email: "ada@example.org" },
      date: "2024-05-06T07:08:09+02:00",
      files: { "manifests/app.yaml": "kind: App\n", "run.sh": "#!/bin/sh\n" },
      symlinks: {
        "etc": "/etc",
        "up": "../../",
        "sneaky/parent": "../..",
        "inside": "manifests",
        "nested/app": "../manifests/app.yaml",
        "loop-a": "loop-b",
        "loop-b": "loop-a",
      },
    });
    const result = await checkout(await options("links"));
    dir = result.dir;
    dispose = () => result.dispose();
    assert.equal(result.author.name, "Ada Lovelace");
  });
  after(() => dispose());

  test("the revision carries author, date and the full message", async () => {
    const revision = await resolveRevision(await options("links"));
    assert.deepEqual(revision.author, { name: "Ada Lovelace", email: "ada@example.org" });
    assert.equal(revision.date, "2024-05-06T07:08:09+02:00");
    assert.equal(revision.message, "Add manifests\n\nWith symlinks, some of them hostile.");
    assert.equal(revision.url, server.repoUrl("links"));
  });

  test("the directory holds exactly the commit's files, symlinks kept as symlinks", async () => {
    assert.equal(await readFile(join(dir, "manifests/app.yaml"), "utf8"), "kind: App\n");
    assert.ok((await lstat(join(dir, "etc"))).isSymbolicLink());
    assert.equal(await readlink(join(dir, "etc")), "/etc");
    assert.deepEqual((await readdir(dir)).sort(), ["etc", "inside", "loop-a", "loop-b", "manifests", "nested", "run.sh", "sneaky", "up"]);
  });

  test("confinedPath refuses escapes", async () => {
    for (const escape of ["../x", "manifests/../../x", "/etc/passwd", "etc", "etc/passwd", "up", "up/etc/passwd", "sneaky/parent/x", "loop-a"]) {
      await rejectsWith(confinedPath(dir, escape), "path-escape");
    }
    const error = await rejectsWith(confinedPath(dir, "etc/passwd"), "path-escape");
    assert.match(error.message, /symlink "etc" points to the absolute path "\/etc"/);
  });

  test("confinedPath accepts paths and symlinks that stay inside", async () => {
    assert.equal(await confinedPath(dir, "manifests/app.yaml"), join(dir, "manifests/app.yaml"));
    assert.equal(await confinedPath(dir, "inside/app.yaml"), join(dir, "manifests/app.yaml"));
    assert.equal(await confinedPath(dir, "nested/app"), join(dir, "manifests/app.yaml"));
    assert.equal(await confinedPath(dir, "./manifests/../run.sh"), join(dir, "run.sh"));
    assert.equal(await confinedPath(dir, "."), dir);
    assert.equal(await confinedPath(dir, "not/there/yet"), join(dir, "not/there/yet"));
  });

  test("dispose removes the directory", async () => {
    const result = await checkout(await options("links"));
    await result.dispose();
    await assert.rejects(lstat(result.dir), { code: "ENOENT" });
    await result.dispose();
  });
});

describe("ignore", () => {
  before(async () => {
    await server.createRepo("ignored");
    await commitTree(server, scratch, "ignored", {
      message: "with things to leave out",
      files: {
        "app/deploy.yaml": "kind: ConfigMap\n",
        "app/config.tmpl": "{{ .Values }}\n",
        "secret-stuff/key.yaml": "kind: Secret\n",
        "deep/secret-stuff/key.yaml": "kind: Secret\n",
        "keep/secret-stuff.yaml": "kind: ConfigMap\n",
      },
      symlinks: { "secret-stuff/link": "../app/deploy.yaml", "app/escape.tmpl": "/etc/passwd" },
      byteNamedFiles: [{ path: Buffer.from("secret-stuff/k\xffy.yaml", "latin1"), content: "kind: Secret\n" }],
    });
  });

  async function files(dir: string, below = ""): Promise<string[]> {
    const found: string[] = [];
    for (const entry of await readdir(join(dir, below), { withFileTypes: true })) {
      const relative = below ? `${below}/${entry.name}` : entry.name;
      if (entry.isDirectory()) found.push(...(await files(dir, relative)));
      else found.push(relative);
    }
    return found.sort();
  }

  test("files and directories the ignore matches are never written, whatever their names; the cache still has them", async () => {
    const cacheDir = await scratch.dir("fjord-git-cache-");
    const ignored = await checkout(await options("ignored", { cacheDir, ignore: compileIgnorePatterns(["secret-stuff/", "*.tmpl"]) }));
    try {
      assert.deepEqual(await files(ignored.dir), ["app/deploy.yaml", "keep/secret-stuff.yaml"]);
    } finally {
      await ignored.dispose();
    }
    // The same commit from the same cache, without an ignore: everything is there.
    const whole = await checkout(await options("ignored", { cacheDir }));
    try {
      assert.equal(whole.commit, ignored.commit);
      assert.equal((await files(whole.dir)).length, 8);
    } finally {
      await whole.dispose();
    }
  });

  test("as in git, nothing below an ignored directory can be taken back with !", async () => {
    const result = await checkout(await options("ignored", { ignore: compileIgnorePatterns(["/*", "!/app/", "secret-stuff/", "!secret-stuff/key.yaml"]) }));
    try {
      assert.deepEqual(await files(result.dir), ["app/config.tmpl", "app/deploy.yaml", "app/escape.tmpl"]);
    } finally {
      await result.dispose();
    }
  });
});

async function cacheRepositories(cacheDir: string): Promise<string[]> {
  return (await readdir(cacheDir)).filter((name) => name.endsWith(".git"));
}

/** Loose and packed object counts: they change only when something was downloaded. */
async function countObjects(cache: string): Promise<string> {
  return git(server, ["--git-dir", cache, "count-objects", "-v"]);
}
