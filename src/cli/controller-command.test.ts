import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { loadReceiver } from "./controller-command.ts";

test("a webhook receiver's token must fit one path segment the router matches", async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "fjord-receiver-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, "receiver.json");
  const load = async (token: string) => {
    await writeFile(file, JSON.stringify({ token, type: "github", secret: "s3cret" }));
    return loadReceiver(file);
  };
  assert.deepEqual(await load("a".repeat(100)), { token: "a".repeat(100), type: "github", secret: "s3cret" });
  await assert.rejects(load("a".repeat(101)), /receiver.json: the token must be 1 to 100 letters, digits/);
  await assert.rejects(load("a/b"), /the token must be/);
  await assert.rejects(load("a%2Fb"), /the token must be/);
});
