import assert from "node:assert/strict";
import { test } from "node:test";
import { fluxV1PolicyFor, parseFluxV1TagFilter, readFluxV1Annotations } from "./flux-v1.ts";
import { selectTag } from "./select.ts";
import type { TagPolicySpec } from "./types.ts";
import { TagPolicyError } from "./types.ts";
import { assertWithinTimeBound } from "../../../testenv/time-bound.ts";

const filters: Array<[filter: string, spec: TagPolicySpec]> = [
  ["glob:master-*", { policy: { newest: {} }, glob: "master-*" }],
  ["master-*", { policy: { newest: {} }, glob: "master-*" }],
  ["glob:*", { policy: { newest: {} }, glob: "*" }],
  ["", { policy: { newest: {} }, glob: "*" }],
  ["regex:^master-[a-f0-9]+$", { policy: { newest: {} }, filterTags: { pattern: "^master-[a-f0-9]+$" } }],
  ["regexp:^v[0-9]+$", { policy: { newest: {} }, filterTags: { pattern: "^v[0-9]+$" } }],
  ["semver:~1.2", { policy: { semver: { range: "~1.2" } } }],
  ["semver:>=1.0.0 <2.0.0", { policy: { semver: { range: ">=1.0.0 <2.0.0" } } }],
  [" semver:^3 ", { policy: { semver: { range: "^3" } } }],
];

for (const [filter, spec] of filters) {
  test(`Flux v1 filter ${JSON.stringify(filter)}`, () => {
    assert.deepEqual(parseFluxV1TagFilter(filter), spec);
  });
}

test("Flux v1 filters without a body are refused with an example", () => {
  assert.throws(() => parseFluxV1TagFilter("semver:"), (error: unknown) => error instanceof TagPolicyError && /write e.g. semver:~1.2/.test(error.message));
  assert.throws(() => parseFluxV1TagFilter("regex:"), /write e.g. regex:\^master-/);
});

test("Flux v1 annotations: per-container filters, both prefixes, the tag-glob fallback", () => {
  const automation = readFluxV1Annotations({
    "fluxcd.io/automated": "true",
    "fluxcd.io/tag.app": "semver:~1.2",
    "flux.weave.works/tag.app": "glob:ignored-*",
    "flux.weave.works/tag.sidecar": "regex:^v[0-9]+$",
    "flux.weave.works/tag-glob": "master-*",
  });
  assert.equal(automation.automated, true);
  assert.equal(automation.locked, false);
  assert.deepEqual(fluxV1PolicyFor(automation, "app"), { policy: { semver: { range: "~1.2" } } });
  assert.deepEqual(fluxV1PolicyFor(automation, "sidecar"), { policy: { newest: {} }, filterTags: { pattern: "^v[0-9]+$" } });
  assert.deepEqual(fluxV1PolicyFor(automation, "other"), { policy: { newest: {} }, glob: "master-*" });
});

test("Flux v1 annotations: the old prefix alone, locked workloads, nothing set", () => {
  const old = readFluxV1Annotations({ "flux.weave.works/automated": "True", "flux.weave.works/locked": "true" });
  assert.equal(old.automated, true);
  assert.equal(old.locked, true);
  assert.deepEqual(old.fallback, { policy: { newest: {} }, glob: "*" });
  assert.equal(readFluxV1Annotations(undefined).automated, false);
  assert.equal(readFluxV1Annotations({ "fluxcd.io/automated": "false" }).automated, false);
});

test("a parsed Flux v1 filter selects like Flux v1 did", () => {
  const tags = ["master-aaa", "master-bbb", "1.2.0", "1.2.7", "1.3.0"];
  const createdAt = new Map([
    ["master-aaa", new Date("2024-03-01T00:00:00Z")],
    ["master-bbb", new Date("2024-02-01T00:00:00Z")],
  ]);
  const glob = selectTag(tags, parseFluxV1TagFilter("glob:master-*"), { createdAt });
  assert.ok(glob.ok);
  assert.equal(glob.tag, "master-aaa");
  const semver = selectTag(tags, parseFluxV1TagFilter("semver:~1.2"));
  assert.ok(semver.ok);
  assert.equal(semver.tag, "1.2.7");
});

test("attack 5: a Flux v1 regexp: annotation ^(a+)+$ against a 10,000-character tag", () => {
  const automation = readFluxV1Annotations({ "fluxcd.io/automated": "true", "fluxcd.io/tag.app": "regexp:^(a+)+$" });
  const spec = fluxV1PolicyFor(automation, "app");
  const good = "a".repeat(10_000);
  const evil = `${"a".repeat(9_999)}!`;
  const createdAt = new Map([[good, new Date("2024-01-01T00:00:00Z")], [evil, new Date("2025-01-01T00:00:00Z")]]);
  selectTag(["warm-up"], spec, { createdAt });
  const started = performance.now();
  const result = selectTag([evil, good], spec, { createdAt });
  const elapsed = performance.now() - started;
  console.log(`Flux v1 regexp:^(a+)+$ against 10,000 characters: ${elapsed.toFixed(2)} ms`);
  assert.ok(result.ok);
  assert.equal(result.tag, good);
  assertWithinTimeBound("Flux v1 regexp:^(a+)+$ against 10,000 characters", elapsed);
});

test("a Flux v1 regexp: annotation uses Go's RE2 syntax", () => {
  const spec = parseFluxV1TagFilter("regexp:^master-(?P<sha>[[:xdigit:]]{7})$");
  const createdAt = new Map([["master-abc1234", new Date("2024-01-01T00:00:00Z")]]);
  const result = selectTag(["master-abc1234", "master-xyz"], spec, { createdAt });
  assert.ok(result.ok);
  assert.equal(result.tag, "master-abc1234");
  assert.throws(() => selectTag(["a"], parseFluxV1TagFilter("regex:^(?=x)")), /filterTags.pattern: invalid regular expression .*lookahead and lookbehind/);
});
