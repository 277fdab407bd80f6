import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import { prepareGitEnvironment } from "./git-environment.ts";
import { runGit } from "./git-process.ts";

test("attack 4: the controller's git runs with only http, https and ssh allowed, whatever the URL or a redirect names", async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), "fjord-git-env-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const bare = path.join(dir, "other-team.git");
  const setup = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, GIT_CONFIG_NOSYSTEM: "1" };
  assert.equal((await runGit(["init", "--quiet", "--bare", bare], { env: setup, deadline: Date.now() + 10_000 })).code, 0);

  const controller = await prepareGitEnvironment("https://git.example/repo.git", undefined, undefined);
  t.after(() => controller.dispose());
  assert.equal(controller.env.GIT_ALLOW_PROTOCOL, "http:https:ssh");
  for (const url of [pathToFileURL(bare).href, bare, "ext::sh -c touch% /tmp/fjord-pwned", "fd::3"]) {
    const result = await runGit(["ls-remote", "--", url], { env: controller.env, deadline: Date.now() + 10_000 });
    assert.notEqual(result.code, 0, url);
    assert.match(result.stderr, /transport '(file|ext|fd)' not allowed/, url);
  }

  const cli = await prepareGitEnvironment(bare, undefined, undefined, { allowLocal: true });
  t.after(() => cli.dispose());
  assert.equal(cli.env.GIT_ALLOW_PROTOCOL, "http:https:ssh:git:file");
  assert.equal((await runGit(["ls-remote", "--", pathToFileURL(bare).href], { env: cli.env, deadline: Date.now() + 10_000 })).code, 0);
  const ext = await runGit(["ls-remote", "--", "ext::sh -c touch% /tmp/fjord-pwned"], { env: cli.env, deadline: Date.now() + 10_000 });
  assert.match(ext.stderr, /transport 'ext' not allowed/, "remote helpers are refused for the CLI too");
});
