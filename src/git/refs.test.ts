import assert from "node:assert/strict";
import { test } from "node:test";
import { GitSourceError } from "./errors.ts";
import { isValidRefName, parseLsRemote, pickSemverTag, sampleList, toRefRequest, type RemoteRef } from "./refs.ts";
import type { GitRef } from "./types.ts";

const SHA = "0123456789abcdef0123456789abcdef01234567";

test("Flux's precedence: commit > name > semver > tag > branch", () => {
  // Specs copied from Flux may set several fields; the type allows one, so cast like a parsed YAML would.
  const spec = (fields: Record<string, string>) => toRefRequest(fields as unknown as GitRef).kind;
  const all = { commit: SHA, name: "refs/pull/1/head", semver: "1.x", tag: "v1", branch: "main" };
  assert.equal(spec(all), "commit");
  assert.deepEqual(toRefRequest({ ...all, commit: undefined }), {
    kind: "ref",
    ref: "refs/pull/1/head",
    label: 'ref "refs/pull/1/head"',
    listing: "none",
  });
  assert.equal(spec({ semver: "1.x", tag: "v1", branch: "main" }), "semver");
  assert.deepEqual(toRefRequest({ tag: "v1", branch: "main" }), { kind: "ref", ref: "refs/tags/v1", label: 'tag "v1"', listing: "tags" });
  assert.deepEqual(toRefRequest({ branch: "main" }), { kind: "ref", ref: "refs/heads/main", label: 'branch "main"', listing: "branches" });
  assert.deepEqual(toRefRequest(undefined), { kind: "default" });
});

test("a commit must be a full SHA; it is lower-cased", () => {
  assert.deepEqual(toRefRequest({ commit: SHA.toUpperCase() }), { kind: "commit", commit: SHA });
  assert.deepEqual(toRefRequest({ commit: SHA, branch: "main" }), { kind: "commit", commit: SHA, branch: "main" });
  for (const commit of ["0123456", `${SHA}0`, "g".repeat(40)]) {
    assert.throws(() => toRefRequest({ commit }), (error: unknown) => error instanceof GitSourceError && error.code === "invalid-ref");
  }
});

test("ref names that would change a refspec or break git's rules are refused", () => {
  for (const bad of ["refs/heads/a:refs/heads/b", "-x", "refs/heads/a..b", "refs/heads/.hidden", "refs/heads/x.lock", "refs/heads/a b", "refs/heads/a~1", "refs/heads/a^", "refs/heads/", "refs//heads", "refs/heads/a@{1}", "refs/heads/a\\b"]) {
    assert.equal(isValidRefName(bad), false, bad);
  }
  for (const good of ["refs/heads/main", "refs/pull/7/head", "refs/tags/v1.2.3", "refs/heads/feature/x-y_z", "refs/merge-requests/1/head"]) {
    assert.equal(isValidRefName(good), true, good);
  }
  assert.throws(() => toRefRequest({ branch: "a:b" }), /not a valid git ref name/);
  assert.throws(() => toRefRequest({ semver: "nope nope" }), /not a valid semver range/);
  assert.deepEqual(toRefRequest({ name: "main" }), { kind: "short", name: "main" });
  assert.deepEqual(toRefRequest({ name: "HEAD" }), { kind: "default" });
});

test("ls-remote output: peeled tags and symrefs", () => {
  const output = [
    "ref: refs/heads/main\tHEAD",
    `${SHA}\tHEAD`,
    `${SHA}\trefs/heads/main`,
    `${"a".repeat(40)}\trefs/tags/v1.0.0`,
    `${"b".repeat(40)}\trefs/tags/v1.0.0^{}`,
    "",
  ].join("\n");
  const { refs, symrefs } = parseLsRemote(output);
  assert.equal(symrefs.get("HEAD"), "refs/heads/main");
  assert.deepEqual(refs.get("refs/tags/v1.0.0"), { name: "refs/tags/v1.0.0", object: "a".repeat(40), commit: "b".repeat(40) });
  assert.deepEqual(refs.get("refs/heads/main"), { name: "refs/heads/main", object: SHA, commit: SHA });
});

test("semver picks the highest matching tag, numerically, ignoring prereleases and non-versions", () => {
  const tags = (...names: string[]): RemoteRef[] => names.map((name) => ({ name: `refs/tags/${name}`, object: SHA, commit: SHA }));
  const refs = tags("v1.2.0", "v1.10.0", "v1.9.0", "v2.0.0-rc.1", "latest", "release-3.0.0", "v2", "1.3");
  assert.equal(pickSemverTag(refs, ">=1.2.0 <2.0.0")?.name, "refs/tags/v1.10.0");
  assert.equal(pickSemverTag(refs, "~1.2")?.name, "refs/tags/v1.2.0");
  assert.equal(pickSemverTag(refs, "1.3.x")?.name, "refs/tags/1.3", "a partial version counts, as in Flux");
  assert.equal(pickSemverTag(refs, ">=2.0.0-rc.0")?.name, "refs/tags/v2", "v2 is 2.0.0, above its release candidate");
  assert.equal(pickSemverTag(refs, ">=3"), undefined, "release-3.0.0 is not a version");
  assert.equal(pickSemverTag(tags("v1.0.0", "1.0.0"), "1.x")?.name, "refs/tags/1.0.0", "ties go to the first name");
});

test("sampleList shortens long lists", () => {
  assert.equal(sampleList(["a", "b"]), "a, b");
  assert.equal(sampleList(["a", "b", "c", "d"], 2), "a, b and 2 more");
});
