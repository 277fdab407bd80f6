import assert from "node:assert/strict";
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { confinedPath } from "./confined-path.ts";
import { GitSourceError } from "./errors.ts";

async function fixture(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const base = await realpath(await mkdtemp(path.join(tmpdir(), "fjord-confined-")));
  t.after(() => rm(base, { recursive: true, force: true }));
  const root = path.join(base, "repo");
  await mkdir(path.join(root, "a/b"), { recursive: true });
  await writeFile(path.join(base, "outside.txt"), "host file");
  await writeFile(path.join(root, "a/b/file.txt"), "inside");
  await symlink("a/b", path.join(root, "to-b"));
  await symlink("to-b/file.txt", path.join(root, "chain"));
  await symlink("../../../outside.txt", path.join(root, "a/b/out"));
  // Climbs to root and back down: never leaves it.
  await symlink("../../a/b/file.txt", path.join(root, "a/b/roundtrip"));
  // The user's path looks harmless; the link's own `..`s are what climb out.
  await symlink("b/../../../outside.txt", path.join(root, "a/tricky"));
  return root;
}

const refused = (error: unknown) => error instanceof GitSourceError && error.code === "path-escape";

test("symlinks are followed like the kernel does, and must stay inside", async (t) => {
  const root = await fixture(t);
  assert.equal(await confinedPath(root, "chain"), path.join(root, "a/b/file.txt"));
  assert.equal(await confinedPath(root, "a/b/roundtrip"), path.join(root, "a/b/file.txt"));
  assert.equal(await confinedPath(root, "to-b/../b/file.txt"), path.join(root, "a/b/file.txt"), "to-b/.. is a, as in the kernel");
  await assert.rejects(confinedPath(root, "a/b/out"), refused);
  await assert.rejects(confinedPath(root, "a/tricky"), refused);
  // Lexically "../a" would climb out; the kernel goes through to-b (a/b) first and stays inside.
  assert.equal(await confinedPath(root, "to-b/../../a"), path.join(root, "a"));
  await assert.rejects(confinedPath(root, "to-b/../../.."), refused);
});

test("the messages name the offending symlink", async (t) => {
  const root = await fixture(t);
  await assert.rejects(confinedPath(root, "a/b/out"), /symlink "a\/b\/out" points to "\.\.\/\.\.\/\.\.\/outside\.txt", outside the repository/);
  await assert.rejects(confinedPath(root, "../x"), /leads outside the repository/);
  await assert.rejects(confinedPath(root, "/etc/passwd"), /is absolute/);
});

test("a root reached through a symlink works, and results use its real path", async (t) => {
  const root = await fixture(t);
  const alias = `${root}-alias`;
  await symlink(root, alias);
  assert.equal(await confinedPath(alias, "a/b/file.txt"), path.join(root, "a/b/file.txt"));
});
