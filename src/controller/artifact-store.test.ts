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

/** A checkout that finishes only when told to, or rejects when its signal fires (as git's does). */
function pendingCheckout(commit: string, disposed: string[] = []) {
  let finish = () => {};
  let signal: AbortSignal | undefined;
  const open = (given: AbortSignal) => {
    signal = given;
    return new Promise<Checkout>((resolve, reject) => {
      finish = () => resolve(fakeCheckout(commit, disposed));
      given.addEventListener("abort", () => reject(new Error("git killed")), { once: true });
    });
  };
  return { open, finish: () => finish(), cancelled: () => signal?.aborted === true };
}

test("a caller whose signal fires stops waiting at once; the shared checkout goes on for the others", async () => {
  const store = new ArtifactStore();
  const pending = pendingCheckout("c1");
  const superseded = new AbortController();
  const first = store.acquire("ns/source", "c1", pending.open, superseded.signal);
  const second = store.acquire("ns/source", "c1", pending.open, new AbortController().signal);
  superseded.abort(new Error("superseded by revision main@sha1:c2"));
  await assert.rejects(first, /superseded by revision/);
  assert.equal(pending.cancelled(), false, "the other caller still wants the tree");
  pending.finish();
  assert.equal((await second).dir, "/trees/c1");
});

test("when every caller has given up, the checkout is cancelled and not remembered", async () => {
  const store = new ArtifactStore();
  const pending = pendingCheckout("c1");
  const callers = [new AbortController(), new AbortController()];
  const waits = callers.map((caller) => store.acquire("ns/source", "c1", pending.open, caller.signal));
  callers[0]!.abort();
  assert.equal(pending.cancelled(), false);
  callers[1]!.abort();
  assert.equal(pending.cancelled(), true);
  await Promise.all(waits.map((wait) => assert.rejects(wait)));
  // The next reconcile opens it afresh.
  const artifact = await store.acquire("ns/source", "c1", () => Promise.resolve(fakeCheckout("c1", [])));
  assert.equal(artifact.dir, "/trees/c1");
});

test("a caller without a signal keeps a checkout alive that the others gave up on", async () => {
  const store = new ArtifactStore();
  const pending = pendingCheckout("c1");
  const gaveUp = new AbortController();
  const patient = store.acquire("ns/source", "c1", pending.open);
  const impatient = store.acquire("ns/source", "c1", pending.open, gaveUp.signal);
  gaveUp.abort();
  await assert.rejects(impatient);
  assert.equal(pending.cancelled(), false);
  pending.finish();
  assert.equal((await patient).dir, "/trees/c1");
});

test("close cancels checkouts still running", async () => {
  const store = new ArtifactStore();
  const pending = pendingCheckout("c1");
  const waiting = store.acquire("ns/source", "c1", pending.open);
  await store.close();
  assert.equal(pending.cancelled(), true);
  await assert.rejects(waiting, /git killed/);
});
