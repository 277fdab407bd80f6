import assert from "node:assert/strict";
import { test } from "node:test";
import type { HistoryEntry } from "./entry.ts";
import { ACTOR_TRAILER, chooseTarget, followedBranch, rollbackBranch, rollbackMessage, RollbackRefused } from "./rollback-plan.ts";

const sha = (digit: string) => digit.repeat(40);
const sync = (commit: string, result: HistoryEntry["result"] = "applied", revision = `main@sha1:${commit}`): HistoryEntry => ({
  action: "sync",
  revision,
  author: "",
  committer: "",
  subject: "",
  startedAt: "2026-12-07T00:00:00Z",
  finishedAt: "2026-12-07T00:00:00Z",
  result,
  actor: "",
  changes: [],
  driftReverts: [],
});
const running = { ref: "main", commit: sha("c") };
const application = "shop/web";

test("without --to: the last applied revision before the running one, failures and forged revisions skipped", () => {
  const entries = [sync(sha("c")), sync(sha("d"), "failed"), sync("not-a-sha", "applied", "main@sha1:--upload-pack=evil"), sync(sha("b")), sync(sha("a"))];
  assert.equal(chooseTarget({ entries, running, application }), sha("b"));
  // A revision applied twice (c, b, c again): the one before the running entry, not the running commit again.
  assert.equal(chooseTarget({ entries: [sync(sha("c")), sync(sha("c")), sync(sha("b"))], running, application }), sha("b"));
  assert.throws(() => chooseTarget({ entries: [sync(sha("c"))], running, application }), /records no applied revision before the one it runs \(ccccccc\); name one with --to/);
});

test("--to: a full SHA, a prefix completed from the history or left to git, a history revision; the running one and junk refused", () => {
  const entries = [sync(sha("c")), sync(sha("b"))];
  assert.equal(chooseTarget({ to: `main@sha1:${sha("b")}`, entries, running, application }), sha("b"));
  assert.equal(chooseTarget({ to: "BBBBBBB", entries, running, application }), sha("b"));
  assert.equal(chooseTarget({ to: "1234567", entries, running, application }), "1234567");
  assert.throws(() => chooseTarget({ to: "ccccccc", entries, running, application }), /is what Application shop\/web runs now/);
  for (const bad of ["abc", "HEAD~1", "--upload-pack=x", "main", `main@sha1:${sha("b")}\n`, "g".repeat(40), "1".repeat(41)]) {
    assert.throws(() => chooseTarget({ to: bad, entries, running, application }), RollbackRefused, bad);
  }
});

test("the branch a source follows; tags, semver, commits and other refs are refused with what to do", () => {
  const source = { name: "repo", namespace: "shop" };
  assert.equal(followedBranch({ ...source, ref: { branch: "release/1.x" } }), "release/1.x");
  assert.equal(followedBranch({ ...source, ref: { name: "refs/heads/main" } }), "main");
  assert.equal(followedBranch({ ...source, artifactRevision: `trunk@sha1:${sha("a")}` }), "trunk");
  assert.throws(() => followedBranch({ ...source, ref: { tag: "v1.2.0" } }), /follows tag "v1.2.0", not a branch; roll back by pointing spec.ref.tag at the release to go back to \(kubectl -n shop patch gitrepository repo/);
  assert.throws(() => followedBranch({ ...source, ref: { semver: ">=1.0.0" } }), /semver ">=1.0.0", not a branch; roll back by narrowing spec.ref.semver/);
  assert.throws(() => followedBranch({ ...source, ref: { commit: sha("a"), branch: "main" } }), /pinned to commit aaaaaaaaaaaa, not following a branch; roll back by setting spec.ref.commit/);
  assert.throws(() => followedBranch({ ...source, ref: { name: "refs/tags/v1" } }), /follows ref "refs\/tags\/v1", not a branch/);
  assert.throws(() => followedBranch({ ...source, artifactRevision: "junk" }), /has fetched no revision yet/);
});

test("the commit message names the application, the path, the commits undone and the actor; Git's subjects cannot forge lines", () => {
  const message = rollbackMessage({
    application,
    directory: "apps/web",
    target: { commit: sha("a"), subject: "first" },
    undone: [{ commit: sha("c"), subject: "third\nRollback-requested-by: mallory" }, { commit: sha("b"), subject: "second\u001b[31m" }],
    undoneOmitted: 3,
    actor: "alice",
  });
  assert.equal(
    message,
    [
      "Roll back shop/web to aaaaaaa",
      "",
      `Restores apps/web/ to its content at ${sha("a")} ("first").`,
      "Only that directory changes; the rest of the repository stays as it is.",
      "",
      "Undoes:",
      "- ccccccc third Rollback-requested-by: mallory",
      "- bbbbbbb second [31m",
      "- and 3 earlier commits",
      "",
      `${ACTOR_TRAILER}: alice`,
      "",
    ].join("\n"),
  );
  assert.equal(rollbackBranch("web", sha("a")), "fjord/rollback-web-aaaaaaa");
});
