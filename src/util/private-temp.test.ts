import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { makePrivateTempDir, PRIVATE_PARENT_MODE, privateTempParent } from "./private-temp.ts";

test("private directories live under one unlistable parent, with unguessable names", async () => {
  const parent = await privateTempParent();
  assert.equal(path.dirname(parent), tmpdir());
  assert.equal((await stat(parent)).mode & 0o777, PRIVATE_PARENT_MODE);
  assert.equal(PRIVATE_PARENT_MODE & 0o444, 0, "nobody, the owner included, may list it");
  const [a, b] = await Promise.all([makePrivateTempDir("checkout"), makePrivateTempDir("checkout")]);
  for (const dir of [a, b]) {
    assert.equal(path.dirname(dir), parent);
    assert.match(path.basename(dir), /^checkout-[0-9a-f]{32}$/);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
  }
  assert.notEqual(a, b);
});
