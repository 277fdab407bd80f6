import assert from "node:assert/strict";
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { RenderError } from "./errors.ts";
import { assertSymlinksConfined } from "./symlink-guard.ts";

async function repository(t: { after(fn: () => Promise<void>): void }): Promise<{ base: string; root: string }> {
  const base = await realpath(await mkdtemp(path.join(tmpdir(), "fjord-symlink-guard-")));
  t.after(() => rm(base, { recursive: true, force: true }));
  const root = path.join(base, "repo");
  await mkdir(path.join(root, "shared"), { recursive: true });
  await mkdir(path.join(root, "apps/web"), { recursive: true });
  await writeFile(path.join(root, "shared/config.yaml"), "kind: ConfigMap\n");
  await writeFile(path.join(base, "host-secret"), "token-from-the-host\n");
  // Inside links: to a file, to a directory, through another link, dangling.
  await symlink("../../shared/config.yaml", path.join(root, "apps/web/config.yaml"));
  await symlink("../shared", path.join(root, "apps/shared"));
  await symlink("shared/config.yaml", path.join(root, "apps/../alias.yaml"));
  await symlink("does-not-exist", path.join(root, "dangling"));
  return { base, root };
}

async function refusal(root: string): Promise<RenderError> {
  try {
    await assertSymlinksConfined(root, { immutable: false });
  } catch (error) {
    assert.ok(error instanceof RenderError, String(error));
    return error;
  }
  assert.fail("no symlink was refused");
}

test("symlinks that stay inside the repository are fine", async (t) => {
  const { root } = await repository(t);
  await assertSymlinksConfined(root, { immutable: false });
});

test("a link out of the repository is refused by its path, never quoting its target", async (t) => {
  for (const [link, target] of [
    ["apps/web/passwd", "/etc/passwd"],
    ["apps/web/token", "../../../host-secret"],
    ["apps/up", "../.."],
    ["apps/via", "shared/../../.."],
  ] as const) {
    const { base, root } = await repository(t);
    await symlink(target, path.join(root, link));
    const error = await refusal(root);
    assert.equal(error.code, "path-outside-root");
    assert.equal(error.file, link);
    assert.ok(error.message.startsWith(`${link}: symlink ${link} points`), error.message);
    for (const secret of [target, base, "host-secret", "passwd"].filter((text) => !link.includes(text))) {
      assert.equal(error.message.includes(secret), false, `${error.message} quotes ${secret}`);
    }
  }
});

test("a link whose escape goes through another in-repo link is found; loops are refused; .git is skipped", async (t) => {
  const { root } = await repository(t);
  await symlink("..", path.join(root, "apps/parent"));
  await symlink("parent/../../x", path.join(root, "apps/sneaky"));
  assert.equal((await refusal(root)).file, "apps/sneaky");

  const loop = await repository(t);
  await symlink("b", path.join(loop.root, "a"));
  await symlink("a", path.join(loop.root, "b"));
  assert.match((await refusal(loop.root)).message, /symlink a goes through too many symlinks/);

  const git = await repository(t);
  await mkdir(path.join(git.root, ".git"));
  await symlink("/etc/passwd", path.join(git.root, ".git/outside"));
  await assertSymlinksConfined(git.root, { immutable: false });
});

test("an immutable root is walked once: later answers come from memory", async (t) => {
  const { root } = await repository(t);
  await assertSymlinksConfined(root, { immutable: true });
  // Changed behind fjord's back (a checkout never is): the remembered answer stands.
  await symlink("/etc/passwd", path.join(root, "late"));
  await assertSymlinksConfined(root, { immutable: true });
  assert.equal((await refusal(root)).file, "late");
});
