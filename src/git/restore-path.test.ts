import assert from "node:assert/strict";
import { test } from "node:test";
import { isUnder, repositoryDirectory, RestoreRefused } from "./restore-path.ts";

test("an Application's path as a repository directory; what leaves the repository is refused", () => {
  assert.equal(repositoryDirectory("./apps/web/"), "apps/web");
  assert.equal(repositoryDirectory("apps//web/./"), "apps/web");
  assert.equal(repositoryDirectory("./"), ".");
  assert.equal(repositoryDirectory(""), ".");
  assert.equal(repositoryDirectory("apps/../web"), "web");
  // Taken literally, as the controller's render does: a backslash is part of a file name on Linux.
  assert.equal(repositoryDirectory("a\\..\\b"), "a\\..\\b");
  for (const bad of ["../x", "apps/../../x", "..", "/etc", "a\0b"]) assert.throws(() => repositoryDirectory(bad), RestoreRefused, JSON.stringify(bad));
  assert.ok(isUnder("apps/web/a.yaml", "apps/web"));
  assert.ok(!isUnder("apps/web2/a.yaml", "apps/web"));
  assert.ok(isUnder("anything", "."));
});
