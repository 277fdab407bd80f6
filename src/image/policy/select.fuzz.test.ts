/**
 * Fuzzing everything a tenant's or a registry's strings reach in image automation: tag
 * policies (patterns, globs, semver ranges, exclusion lists, extract templates), Flux v1
 * annotations, setter markers, image references, and the RE2 user patterns underneath. Properties (testenv/fuzz.ts): only TagPolicyError or
 * UserPatternError while compiling, never an exception while selecting, in bounded time:
 * catastrophic patterns (`(a+)+$`, `*a*a*a*b`) against 10,000-character tags included.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { hostileString, mutated } from "../../../testenv/fuzz-arbitraries.ts";
import { fuzz } from "../../../testenv/fuzz.ts";
import { UserPatternError } from "../../util/user-pattern.ts";
import { ImageReferenceError, formatImageReference, parseImageReference } from "../registry/reference.ts";
import { invalidReferenceReason, parseImageReference as parseUpdateReference } from "../update/image-ref.ts";
import { parseMarker } from "../update/markers.ts";
import { readFluxV1Annotations } from "./flux-v1.ts";
import { compileTagPolicy, selectTag } from "./select.ts";
import { TagPolicyError, type TagPolicySpec } from "./types.ts";

const pattern = fc.oneof(
  fc.constantFrom("^(a+)+$", "(a|aa)+$", "^(?P<ts>[0-9]+)$", "^main-[a-f0-9]+-(?P<ts>[0-9]+)", "(?i)^V", "\\p{Greek}+", "[[:alpha:]]", "(x+x+)+y", "^.*$", "(?P<a>x)(?P<a>y)", "a{1000}", "(a{100}){100}", "\\C", "(?<=a)b", "\\1", "[", "("),
  hostileString,
);
const glob = fc.oneof(fc.constantFrom("*a*a*a*a*a*b", "master-*", "?*?*?*?*", "*", "", "[a-z]*", "\\*"), hostileString);
const range = fc.oneof(fc.constantFrom(">=1.0.0 <2.0.0", "~1.2", "^0.0.1", "*", "1.x || >=3", "v1", ">=".repeat(500), "1.2.3-" + "a.".repeat(2000), "||||||"), hostileString);
const tag = fc.oneof(
  fc.constantFrom("1.2.3", "v1.2.3", "1.2.3-rc.1+build", "main-abc123-1700000000", "latest", "sha256-abc.sig", "9".repeat(400), "1e309", "-1"),
  fc.constantFrom("a", "ab", "1.").map((unit) => unit.repeat(5000)),
  hostileString,
);

const policy: fc.Arbitrary<TagPolicySpec> = fc.record(
  {
    policy: fc.oneof(
      { weight: 3, arbitrary: range.map((value) => ({ semver: { range: value } })) },
      { weight: 3, arbitrary: fc.constantFrom("asc", "desc", "sideways").map((order) => ({ alphabetical: { order: order as "asc" } })) },
      { weight: 3, arbitrary: fc.constantFrom("asc", "desc").map((order) => ({ numerical: { order: order as "asc" } })) },
      { weight: 2, arbitrary: fc.constant({ newest: {} }) },
      { weight: 1, arbitrary: fc.constantFrom({}, { semver: { range: "1.x" }, numerical: {} }) },
    ),
    // Mostly patterns that compile, so that selection runs; hostile ones too.
    filterTags: fc.record({ pattern: fc.oneof({ weight: 3, arbitrary: fc.constantFrom("^(a+)+$", "^(?P<ts>[0-9]+)$", "(?i)^V", "^.*$", "(x+x+)+y") }, { weight: 1, arbitrary: pattern }), extract: fc.oneof(fc.constantFrom("$ts", "${1}", "$0", ""), hostileString) }, { requiredKeys: [] }),
    glob,
    exclusionList: fc.array(pattern, { maxLength: 3 }),
  },
  { requiredKeys: ["policy"] },
);

test("compileTagPolicy + selectTag: only TagPolicyError or UserPatternError, never slow", async (t) => {
  await fuzz(t, {
    name: "compileTagPolicy/selectTag (src/image/policy/select.ts)",
    arbitrary: fc.tuple(policy, fc.array(tag, { maxLength: 30 })),
    allowed: [TagPolicyError, UserPatternError],
    run: ([spec, tags]) => selectTag(tags, compileTagPolicy(spec), { createdAt: new Map(tags.map((item, i) => [item, new Date(i * 1000)])) }),
    check: (selection, [, tags]) => {
      const result = selection as ReturnType<typeof selectTag>;
      if (result.ok) assert.ok(tags.includes(result.tag), "the selected tag is one of the registry's");
    },
  });
});

test("readFluxV1Annotations: only TagPolicyError", async (t) => {
  const key = fc.constantFrom("fluxcd.io/automated", "fluxcd.io/locked", "fluxcd.io/tag.app", "flux.weave.works/tag.app", "flux.weave.works/tag-glob", "fluxcd.io/tag.", "fluxcd.io/tag.__proto__");
  const value = fc.oneof(fc.constantFrom("glob:master-*", "regex:^(a+)+$", "regexp:", "semver:", "semver:~1.2", "true", "glob:"), hostileString);
  await fuzz(t, {
    name: "readFluxV1Annotations (src/image/policy/flux-v1.ts)",
    arbitrary: fc.dictionary(key, value, { maxKeys: 5 }),
    allowed: [TagPolicyError],
    run: (annotations) => {
      const automation = readFluxV1Annotations(annotations);
      // What the annotations say is compiled next; it may be refused, never crash.
      for (const spec of [...Object.values(automation.containers), automation.fallback]) {
        try {
          compileTagPolicy(spec);
        } catch (error) {
          if (!(error instanceof TagPolicyError || error instanceof UserPatternError)) throw error;
        }
      }
      return automation;
    },
  });
});

test("image references, markers: only ImageReferenceError; what parses formats back to itself", async (t) => {
  const reference = fc.oneof(
    mutated(fc.constantFrom("nginx", "nginx:1.25", "ghcr.io/org/app@sha256:" + "a".repeat(64), "localhost:5000/app:v1", "[::1]:5000/x/y:z", "Docker.io/Library/Nginx"), 3),
    hostileString,
  );
  await fuzz(t, {
    name: "parseImageReference, parseMarker (src/image/registry/reference.ts, src/image/update)",
    arbitrary: reference,
    allowed: [ImageReferenceError],
    run: (text) => {
      const update = parseUpdateReference(text);
      invalidReferenceReason(update);
      parseMarker(`{"$imagepolicy": ${JSON.stringify(text)}}`);
      parseMarker(text);
      return parseImageReference(text);
    },
    check: (parsed) => {
      const reference = parsed as ReturnType<typeof parseImageReference>;
      assert.deepEqual(parseImageReference(formatImageReference(reference)), reference, "a parsed reference formats back to one that parses the same");
    },
  });
});
