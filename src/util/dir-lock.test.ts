import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { withDirectoryLock } from "./dir-lock.ts";

test("the lock serialises two holders in the same process", async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), "fjord-lock-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const lock = path.join(root, "build.lock");
  const order: string[] = [];
  const hold = (name: string) =>
    withDirectoryLock(lock, () => {}, async () => {
      order.push(`${name}:in`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      order.push(`${name}:out`);
    });
  await Promise.all([hold("a"), hold("b")]);
  assert.deepEqual(order, ["a:in", "a:out", "b:in", "b:out"]);
  assert.ok(!existsSync(lock), "the lock is released");
});

test("a lock left by a dead process is taken over", async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), "fjord-lock-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const lock = path.join(root, "build.lock");
  await mkdir(lock);
  await writeFile(path.join(lock, "pid"), "999999999");
  const messages: string[] = [];
  const result = await withDirectoryLock(lock, (message) => messages.push(message), () => Promise.resolve("ran"));
  assert.equal(result, "ran");
  assert.deepEqual(messages, [], "no waiting for a dead owner");
});

test("waiters racing for a dead owner's lock still hold it one at a time", async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), "fjord-lock-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const lock = path.join(root, "build.lock");
  await mkdir(lock);
  await writeFile(path.join(lock, "pid"), "999999999");
  let inside = 0;
  let most = 0;
  const hold = () =>
    withDirectoryLock(lock, () => {}, async () => {
      inside += 1;
      most = Math.max(most, inside);
      await new Promise((resolve) => setTimeout(resolve, 10));
      inside -= 1;
    });
  await Promise.all([hold(), hold(), hold(), hold()]);
  assert.equal(most, 1);
  assert.ok(!existsSync(lock), "the lock is released");
});
