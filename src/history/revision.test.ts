import assert from "node:assert/strict";
import { test } from "node:test";
import { parseRevision, shortCommit } from "./revision.ts";

const sha = "0123456789abcdef0123456789abcdef01234567";

test("revisions as the GitRepository records them parse; anything else does not", () => {
  assert.deepEqual(parseRevision(`main@sha1:${sha}`), { ref: "main", commit: sha });
  assert.deepEqual(parseRevision(`release/v1.2@sha1:${sha}`), { ref: "release/v1.2", commit: sha });
  assert.deepEqual(parseRevision(`sha1:${sha}`), { commit: sha });
  for (const bad of [`main@sha1:${sha.slice(0, 12)}`, `main@sha1:${sha}0`, `-x@sha1:${sha}`, `ma in@sha1:${sha}`, `main@sha1:${sha}\n`, `main@sha256:${sha}`, "", sha]) {
    assert.equal(parseRevision(bad), undefined, JSON.stringify(bad));
  }
  assert.equal(shortCommit(sha), "0123456");
});
