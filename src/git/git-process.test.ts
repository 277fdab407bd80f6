import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { isProcessAlive } from "../util/process-alive.ts";
import { runGit } from "./git-process.ts";

test("a timeout kills git and everything it started", async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), "fjord-git-process-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pidFile = path.join(dir, "pid");
  // A shell alias stands in for a helper git starts (git-remote-https, ssh): a grandchild.
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, GIT_CONFIG_NOSYSTEM: "1" };
  const started = Date.now();
  const result = await runGit(["-c", `alias.hang=!sh -c 'echo $$ > ${pidFile}; exec sleep 30'`, "hang"], { env, deadline: Date.now() + 300 });
  assert.equal(result.timedOut, true);
  assert.ok(Date.now() - started < 2000);
  const grandchild = Number(await readFile(pidFile, "utf8"));
  // Killed (or a zombie awaiting its reaper, which kill(0) still reports; /proc tells them apart).
  const state = await readFile(`/proc/${grandchild}/stat`, "utf8").catch(() => "gone");
  assert.ok(state === "gone" || / Z /.test(state) || !isProcessAlive(grandchild), `grandchild still running: ${state}`);
});

test("git's exit code and output come back without throwing", async () => {
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", GIT_CONFIG_NOSYSTEM: "1", HOME: tmpdir() };
  const ok = await runGit(["--version"], { env, deadline: Date.now() + 10_000 });
  assert.equal(ok.code, 0);
  assert.match(ok.stdout, /^git version/);
  const bad = await runGit(["no-such-command"], { env, deadline: Date.now() + 10_000 });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /not a git command/);
});

test("an aborted signal kills git and everything it started at once", async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), "fjord-git-process-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pidFile = path.join(dir, "pid");
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, GIT_CONFIG_NOSYSTEM: "1" };
  const abort = new AbortController();
  const running = runGit(["-c", `alias.hang=!sh -c 'echo $$ > ${pidFile}; exec sleep 30'`, "hang"], { env, deadline: Date.now() + 30_000, signal: abort.signal });
  // Abort once the grandchild is running.
  while ((await readFile(pidFile, "utf8").catch(() => "")) === "") await new Promise((resolve) => setTimeout(resolve, 10));
  const aborted = Date.now();
  abort.abort();
  const result = await running;
  assert.equal(result.aborted, true);
  assert.equal(result.timedOut, false);
  assert.ok(Date.now() - aborted < 1000);
  const grandchild = Number(await readFile(pidFile, "utf8"));
  const state = await readFile(`/proc/${grandchild}/stat`, "utf8").catch(() => "gone");
  assert.ok(state === "gone" || / Z /.test(state) || !isProcessAlive(grandchild), `grandchild still running: ${state}`);
});

test("standard input reaches git, bytes as they are", async () => {
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", GIT_CONFIG_NOSYSTEM: "1", HOME: tmpdir() };
  const input = Buffer.from("a\0b\xff\0", "latin1");
  const result = await runGit(["hash-object", "--stdin"], { env, deadline: Date.now() + 10_000, input });
  assert.equal(result.code, 0);
  // git's blob id of exactly these bytes: nothing was re-encoded on the way.
  const expected = createHash("sha1").update(Buffer.concat([Buffer.from(`blob ${input.length}\0`), input])).digest("hex");
  assert.equal(result.stdout.trim(), expected);
  // The empty blob: no input means end-of-file at once, never a hang.
  const empty = await runGit(["hash-object", "--stdin"], { env, deadline: Date.now() + 10_000 });
  assert.equal(empty.stdout.trim(), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
});
