import assert from "node:assert/strict";
import { test } from "node:test";
import type { Checkout } from "../git/index.ts";
import { ArtifactStore } from "./artifact-store.ts";

function fakeCheckout(commit: string, disposed: string[]): Checkout {
  return {
    url: "https://git.example/repo",
    ref: "refs/heads/main",
    commit,
    author: { name: "a", email: "a@example.com" },
    date: "2026-01-01T00:00:00Z",
    message: commit,
    dir: `/trees/${commit}`,
    dispose: () => {
      disposed.push(commit);
      return Promise.resolve();
    },
  };
}

test("many Applications on one commit share a single checkout", async () => {
  const store = new ArtifactStore();
  let opened = 0;
  const open = () => {
    opened++;
    return Promise.resolve(fakeCheckout("c1", []));
  };
  const held = await Promise.all(Array.from({ length: 50 }, () => store.acquire("ns/source", "c1", open)));
  assert.equal(opened, 1);
  assert.ok(held.every((artifact) => artifact.dir === "/trees/c1"));
  for (const artifact of held) artifact.release();
});

test("unused trees beyond the newest two per source are removed; trees in use never are", async () => {
  const disposed: string[] = [];
  const store = new ArtifactStore(2);
  const open = (commit: string) => () => Promise.resolve(fakeCheckout(commit, disposed));
  const first = await store.acquire("ns/source", "c1", open("c1"));
  for (const commit of ["c2", "c3", "c4"]) (await store.acquire("ns/source", commit, open(commit))).release();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(disposed, ["c2"], "c1 is still held; c3 and c4 are the newest two");
  first.release();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(disposed, ["c2", "c3"], "the most recently used two stay");
});

test("a failed checkout is not remembered", async () => {
  const store = new ArtifactStore();
  await assert.rejects(store.acquire("ns/source", "c1", () => Promise.reject(new Error("unreachable"))), /unreachable/);
  const artifact = await store.acquire("ns/source", "c1", () => Promise.resolve(fakeCheckout("c1", [])));
  assert.equal(artifact.dir, "/trees/c1");
});
