import assert from "node:assert/strict";
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
