import assert from "node:assert/strict";
import { test } from "node:test";
import { compileTagPolicy, selectTag } from "./select.ts";
import type { TagPolicySpec } from "./types.ts";
import { TagPolicyError } from "./types.ts";
import { assertWithinTimeBound } from "../../../testenv/time-bound.ts";

interface Case {
  name: string;
  tags: string[];
  spec: TagPolicySpec;
  want?: string;
  /** Expected value compared (extracted), when it differs from the tag. */
  value?: string;
  /** When nothing should be selected: a pattern the reason must match. */
  reason?: RegExp;
}

const MAIN_TAGS = [
  "main-a1b2c3d-1611345600",
  "main-0f9e8d7-1611345999",
  "main-7777777-1611345700",
  "main-deadbee-999",
  "feature-x-1700000000",
  "latest",
];

const cases: Case[] = [
  // semver
  { name: "semver picks the highest in range", tags: ["1.0.0", "1.2.3", "1.10.0", "2.0.0", "latest"], spec: { policy: { semver: { range: ">=1.0.0 <2.0.0" } } }, want: "1.10.0" },
  { name: "semver accepts a leading v", tags: ["v1.2.0", "v1.3.1", "1.3.0"], spec: { policy: { semver: { range: "^1.2" } } }, want: "v1.3.1" },
  { name: "semver: Flux docs' 5.0.x", tags: ["5.0.1", "5.0.3", "5.1.0", "4.9.9"], spec: { policy: { semver: { range: "5.0.x" } } }, want: "5.0.3" },
  { name: "semver tilde (Flux v1 semver:~1.2)", tags: ["1.2.0", "1.2.9", "1.3.0"], spec: { policy: { semver: { range: "~1.2" } } }, want: "1.2.9" },
  { name: "semver ignores prereleases unless the range names one", tags: ["1.4.0", "1.5.0-rc.1", "2.0.0-alpha"], spec: { policy: { semver: { range: ">=1.0.0 <2.0.0" } } }, want: "1.4.0" },
  { name: "semver with a prerelease range admits prereleases of any version", tags: ["1.4.0", "1.5.0-rc.1", "1.5.0-rc.2", "2.1.0-alpha"], spec: { policy: { semver: { range: ">=1.0.0-0 <2.0.0" } } }, want: "1.5.0-rc.2" },
  { name: "semver release beats its own prerelease", tags: ["1.5.0-rc.2", "1.5.0"], spec: { policy: { semver: { range: ">=1.0.0-0" } } }, want: "1.5.0" },
  { name: "semver with Masterminds commas", tags: ["1.1.0", "2.9.0", "3.0.0"], spec: { policy: { semver: { range: ">= 1.2, < 3.0.0" } } }, want: "2.9.0" },
  { name: "semver skips partial and non-versions", tags: ["1.9", "1", "1.2.3.4", "01.2.3", "1.2.3"], spec: { policy: { semver: { range: "*" } } }, want: "1.2.3" },
  { name: "semver ties break the same way whatever the listing order", tags: ["v1.2.3", "1.2.3"], spec: { policy: { semver: { range: "1.x" } } }, want: "v1.2.3" },
  { name: "semver: none in range names the highest", tags: ["1.0.0", "1.9.3"], spec: { policy: { semver: { range: ">=2.0.0" } } }, reason: /none of the 2 semver tags satisfies semver range ">=2.0.0" \(highest is 1.9.3\)/ },
  { name: "semver: >=2.0.0-0 admits 2.0.0-rc.1", tags: ["1.0.0", "2.0.0-rc.1"], spec: { policy: { semver: { range: ">=2.0.0-0" } } }, want: "2.0.0-rc.1" },
  { name: "semver: prerelease hint", tags: ["2.0.0-rc.1"], spec: { policy: { semver: { range: ">=1.0.0" } } }, reason: /prereleases are only considered when the range names one/ },
  { name: "semver: no version at all", tags: ["latest", "main"], spec: { policy: { semver: { range: "*" } } }, reason: /none of the 2 tags is a semver version \(like 1.2.3 or v1.2.3\) \(e.g. latest, main\)/ },
  {
    name: "semver on an extracted version",
    tags: ["app-1.2.3-linux", "app-1.10.0-linux", "app-2.0.0-windows"],
    spec: { policy: { semver: { range: "^1" } }, filterTags: { pattern: "^app-(?P<v>[0-9.]+)-linux$", extract: "$v" } },
    want: "app-1.10.0-linux",
    value: "1.10.0",
  },

  // alphabetical
  { name: "alphabetical asc picks the last", tags: ["b", "c", "a"], spec: { policy: { alphabetical: {} } }, want: "c" },
  { name: "alphabetical desc picks the first", tags: ["b", "c", "a"], spec: { policy: { alphabetical: { order: "desc" } } }, want: "a" },
  { name: "alphabetical is byte order, not locale order", tags: ["Zeta", "alpha"], spec: { policy: { alphabetical: { order: "desc" } } }, want: "Zeta" },
  {
    // Flux docs: MinIO's RELEASE.<timestamp>Z tags ordered by their extracted timestamp.
    name: "alphabetical on extracted RELEASE timestamps (Flux docs)",
    tags: ["RELEASE.2021-01-22T01-44-14Z", "RELEASE.2021-03-04T00-53-13Z", "RELEASE.2020-12-31T23-59-59Z", "latest"],
    spec: { policy: { alphabetical: { order: "asc" } }, filterTags: { pattern: "^RELEASE\\.(?P<timestamp>.*)Z$", extract: "$timestamp" } },
    want: "RELEASE.2021-03-04T00-53-13Z",
    value: "2021-03-04T00-53-13",
  },

  // numerical
  { name: "numerical asc picks the largest number", tags: ["9", "10", "2", "latest"], spec: { policy: { numerical: { order: "asc" } } }, want: "10" },
  { name: "numerical desc picks the smallest", tags: ["9", "10", "2"], spec: { policy: { numerical: { order: "desc" } } }, want: "2" },
  { name: "numerical handles decimals", tags: ["1.5", "1.25", "-3"], spec: { policy: { numerical: {} } }, want: "1.5" },
  { name: "numerical compares long integers exactly", tags: ["1700000000000000001", "1700000000000000002"], spec: { policy: { numerical: {} } }, want: "1700000000000000002" },
  {
    // Flux docs: master-<sha>-<timestamp> with extract $ts, ordered numerically.
    name: "numerical on extracted timestamps (Flux docs)",
    tags: MAIN_TAGS,
    spec: { policy: { numerical: { order: "asc" } }, filterTags: { pattern: "^main-[a-fA-F0-9]+-(?P<ts>.*)", extract: "$ts" } },
    want: "main-0f9e8d7-1611345999",
    value: "1611345999",
  },
  {
    name: "numerical extract by group number",
    tags: MAIN_TAGS,
    spec: { policy: { numerical: { order: "desc" } }, filterTags: { pattern: "^main-[a-f0-9]+-([0-9]+)$", extract: "$1" } },
    want: "main-deadbee-999",
  },
  {
    name: "numerical: nothing numeric says how to extract",
    tags: ["main-abc", "main-def"],
    spec: { policy: { numerical: {} } },
    reason: /none of the 2 tags is a number \(e.g. main-abc, main-def\); use filterTags.extract/,
  },

  // glob and pattern
  { name: "glob master-* (newest by alphabetical here)", tags: ["master-a", "master-b", "main-z", "xmaster-c"], spec: { policy: { alphabetical: {} }, glob: "master-*" }, want: "master-b" },
  { name: "glob ? is one character", tags: ["v1", "v22", "v3"], spec: { policy: { numerical: {} }, glob: "v?", filterTags: { pattern: "^v(\\d+)$", extract: "$1" } }, want: "v3" },
  { name: "pattern is unanchored like Go's MatchString", tags: ["prod-1", "x-prod-2"], spec: { policy: { alphabetical: {} }, filterTags: { pattern: "prod-" } }, want: "x-prod-2" },
  { name: "RE2 case-insensitive flag", tags: ["MAIN-1", "dev-2"], spec: { policy: { alphabetical: {} }, filterTags: { pattern: "(?i)^main-" } }, want: "MAIN-1" },
  { name: "no tag matches names the filter and shows examples", tags: ["1.0.0", "latest"], spec: { policy: { alphabetical: {} }, glob: "master-*" }, reason: /none of the 2 tags matches glob "master-\*" \(e.g. 1.0.0, latest\)/ },
  {
    name: "an optional group that extracts nothing drops only that tag",
    tags: ["main-1", "main-x", "main-2"],
    spec: { policy: { numerical: {} }, filterTags: { pattern: "^main-(?P<ts>[0-9]+)?", extract: "${ts}" } },
    want: "main-2",
  },
  {
    name: "extracting nothing from every tag is explained",
    tags: ["main-a", "main-b"],
    spec: { policy: { numerical: {} }, filterTags: { pattern: "^main-(?P<ts>[0-9]+)?", extract: "${ts}" } },
    reason: /2 tags match the pattern, but extract "\$\{ts\}" yields an empty value for each/,
  },
  {
    name: "same extracted value: the later tag wins, as in Flux",
    tags: ["a-1", "b-1"],
    spec: { policy: { numerical: {} }, filterTags: { pattern: "-(\\d+)$", extract: "$1" } },
    want: "b-1",
  },

  // exclusion list
  { name: "cosign signature tags are excluded by default", tags: ["sha256-abc.sig", "1.0.0"], spec: { policy: { alphabetical: {} } }, want: "1.0.0" },
  { name: "an empty exclusion list keeps them", tags: ["sha256-abc.sig", "1.0.0"], spec: { policy: { alphabetical: {} }, exclusionList: [] }, want: "sha256-abc.sig" },
  { name: "custom exclusions", tags: ["1.0.0", "1.1.0-debug", "1.1.0"], spec: { policy: { alphabetical: {} }, exclusionList: ["-debug$", "^1\\.1\\.0$"] }, want: "1.0.0" },
  { name: "all excluded says so", tags: ["a.sig"], spec: { policy: { alphabetical: {} } }, reason: /all 1 tags are excluded by the exclusion list \(\^\.\*\\\.sig\$\)/ },
  { name: "an empty repository says so", tags: [], spec: { policy: { semver: { range: "*" } } }, reason: /the repository has no tags/ },

  // newest (Flux v1 glob/regex order) without creation times
  { name: "newest needs creation times", tags: ["master-a"], spec: { policy: { newest: {} }, glob: "master-*" }, reason: /needs the images' creation times/ },
];

for (const c of cases) {
  test(`selectTag: ${c.name}`, () => {
    const result = selectTag(c.tags, c.spec);
    if (c.reason) {
      assert.equal(result.ok, false, `expected no selection, got ${JSON.stringify(result)}`);
      if (!result.ok) assert.match(result.reason, c.reason);
      return;
    }
    assert.ok(result.ok, `expected ${c.want}, got ${JSON.stringify(result)}`);
    assert.equal(result.tag, c.want);
    if (c.value !== undefined) assert.equal(result.value, c.value);
  });
}

test("selectTag: the result does not depend on the order tags are listed in", () => {
  const spec: TagPolicySpec = { policy: { semver: { range: "*" } } };
  const tags = ["1.2.3", "v1.2.3", "1.2.3+b", "1.2.3+a", "0.9.0"];
  const picks = new Set([tags, [...tags].reverse(), [...tags].sort()].map((order) => {
    const result = selectTag(order, spec);
    return result.ok ? result.tag : undefined;
  }));
  assert.equal(picks.size, 1);
});

test("selectTag: counts say where tags fell out", () => {
  const result = selectTag(["x.sig", "main-1-100", "main-2-200", "main-3-abc", "dev-4-300"], {
    policy: { numerical: {} },
    filterTags: { pattern: "^main-\\d+-(?P<ts>.+)$", extract: "$ts" },
  });
  assert.ok(result.ok);
  assert.equal(result.tag, "main-2-200");
  assert.deepEqual(result.counts, { total: 5, excluded: 1, matched: 3, candidates: 2 });
});

test("selectTag: newest orders by creation time (Flux v1 glob and regex)", () => {
  const createdAt = new Map([
    ["master-aaa", new Date("2024-01-02T00:00:00Z")],
    ["master-zzz", new Date("2024-01-01T00:00:00Z")],
    ["main-bbb", new Date("2025-01-01T00:00:00Z")],
  ]);
  const result = selectTag(["master-aaa", "master-zzz", "main-bbb", "master-ccc"], { policy: { newest: {} }, glob: "master-*" }, { createdAt });
  assert.ok(result.ok);
  assert.equal(result.tag, "master-aaa");
  assert.equal(result.counts.candidates, 2);
});

const invalid: Array<[string, TagPolicySpec, RegExp]> = [
  ["no ordering", { policy: {} }, /^policy: no ordering given/],
  ["two orderings", { policy: { semver: { range: "*" }, numerical: {} } }, /only one ordering may be set, got semver and numerical/],
  ["bad range", { policy: { semver: { range: "not a range" } } }, /^policy.semver.range: "not a range" is not a semver range/],
  ["empty range", { policy: { semver: { range: " " } } }, /^policy.semver.range: is empty/],
  ["bad order", { policy: { numerical: { order: "up" as "asc" } } }, /^policy.numerical.order: must be asc or desc, got "up"/],
  ["bad pattern", { policy: { alphabetical: {} }, filterTags: { pattern: "^main-(" } }, /^filterTags.pattern: invalid regular expression "\^main-\("/],
  ["extract without pattern", { policy: { alphabetical: {} }, filterTags: { extract: "$ts" } }, /^filterTags.extract: needs filterTags.pattern/],
  ["extract names a missing group", { policy: { numerical: {} }, filterTags: { pattern: "^main-(?P<ts>\\d+)", extract: "$time" } }, /refers to group "time", which pattern .* does not define; name it with \(\?P<time>\.\.\.\)/],
  ["extract numbers a missing group", { policy: { numerical: {} }, filterTags: { pattern: "^main-(\\d+)", extract: "$2" } }, /refers to group "2"/],
  ["bad exclusion", { policy: { alphabetical: {} }, exclusionList: ["ok", "(("] }, /^exclusionList\[1\]: invalid regular expression/],
  ["a backreference", { policy: { alphabetical: {} }, filterTags: { pattern: "^(a)\\1$" } }, /^filterTags.pattern: invalid regular expression .*invalid escape sequence.*backreferences \(\\1\) are not supported: patterns use Go's RE2 syntax/],
  ["a lookahead", { policy: { alphabetical: {} }, filterTags: { pattern: "^main-(?!dev)" } }, /^filterTags.pattern: .*lookahead and lookbehind .* are not supported/],
  ["a lookbehind in an exclusion", { policy: { alphabetical: {} }, exclusionList: ["x", "(?<=a)b"] }, /^exclusionList\[1\]: .*lookahead and lookbehind/],
  ["an unknown POSIX class", { policy: { alphabetical: {} }, filterTags: { pattern: "[[:nope:]]" } }, /^filterTags.pattern: invalid regular expression "\[\[:nope:\]\]": invalid character class range/],
  ["a repeat count over 1000", { policy: { alphabetical: {} }, filterTags: { pattern: "a{1001}" } }, /^filterTags.pattern: .*invalid repeat count/],
  ["nested repeat counts", { policy: { alphabetical: {} }, filterTags: { pattern: "a{1000}{1000}" } }, /^filterTags.pattern: .*is too large: it would compile to more than 250 instructions/],
  ["a program over the instruction limit", { policy: { alphabetical: {} }, filterTags: { pattern: "[a-z]{300}" } }, /^filterTags.pattern: .*is too large: it compiles to 302 instructions, more than the limit of 250/],
  ["a 1 MB pattern", { policy: { alphabetical: {} }, filterTags: { pattern: "a".repeat(1 << 20) } }, /^filterTags.pattern: invalid regular expression "a{80}"\.\.\. \(1048576 characters\): is 1048576 characters long, more than the limit of 1024$/],
  ["a 1 MB glob", { policy: { alphabetical: {} }, glob: "*".repeat(1 << 20) }, /^glob: invalid glob .*is 1048576 characters long, more than the limit of 1024$/],
];

for (const [name, spec, message] of invalid) {
  test(`compileTagPolicy rejects ${name}`, () => {
    assert.throws(() => compileTagPolicy(spec), (error: unknown) => error instanceof TagPolicyError && message.test(error.message));
    assert.throws(() => selectTag(["1.0.0"], spec), TagPolicyError);
  });
}

test("a compiled policy can be reused", () => {
  const compiled = compileTagPolicy({ policy: { semver: { range: "^1" } } });
  const first = selectTag(["1.0.0", "1.1.0"], compiled);
  const second = selectTag(["1.0.0", "1.2.0"], compiled);
  assert.ok(first.ok && second.ok);
  assert.equal(first.tag, "1.1.0");
  assert.equal(second.tag, "1.2.0");
});

// Patterns are Go RE2, as in Flux: what users write for Flux means the same here.
const re2Cases: Case[] = [
  {
    name: "RE2: named group extracted with $ts",
    tags: ["main-abc1234-100", "main-def5678-200", "dev-aaa-300"],
    spec: { policy: { numerical: {} }, filterTags: { pattern: "^main-[a-f0-9]+-(?P<ts>[0-9]+)", extract: "$ts" } },
    want: "main-def5678-200",
    value: "200",
  },
  { name: "RE2: (?i) at the start", tags: ["V1.0", "x1"], spec: { policy: { alphabetical: {} }, filterTags: { pattern: "(?i)^v" } }, want: "V1.0" },
  { name: "RE2: (?i) in the middle", tags: ["main-X1", "MAIN-x2"], spec: { policy: { alphabetical: {} }, filterTags: { pattern: "^main-(?i)x" } }, want: "main-X1" },
  { name: "RE2: POSIX classes", tags: ["2024", "v2025", "2023"], spec: { policy: { numerical: {} }, filterTags: { pattern: "^[[:digit:]]+$" } }, want: "2024" },
  { name: "RE2: negated POSIX classes", tags: ["abc", "a1c"], spec: { policy: { alphabetical: {} }, filterTags: { pattern: "^[[:^digit:]]+$" } }, want: "abc" },
  { name: "RE2: \\A and \\z", tags: ["v1", "v1x"], spec: { policy: { alphabetical: {} }, filterTags: { pattern: "\\Av1\\z" } }, want: "v1" },
  { name: "RE2: (?U) makes quantifiers lazy", tags: ["ab-12-34"], spec: { policy: { alphabetical: {} }, filterTags: { pattern: "(?U)^(?P<head>.+)-", extract: "$head" } }, want: "ab-12-34", value: "ab" },
  { name: "RE2: $ is the end of the text, not of a line", tags: ["v1\n", "v2"], spec: { policy: { alphabetical: {} }, filterTags: { pattern: "^v[0-9]$" } }, want: "v2" },
];

for (const c of re2Cases) {
  test(`selectTag: ${c.name}`, () => {
    const result = selectTag(c.tags, c.spec);
    assert.ok(result.ok, `expected ${c.want}, got ${JSON.stringify(result)}`);
    assert.equal(result.tag, c.want);
    if (c.value !== undefined) assert.equal(result.value, c.value);
  });
}

/** Runs `fn`, prints how long it took, and fails past the bound of 50 ms (scaled by load). */
function within50ms<T>(what: string, fn: () => T): T {
  // Once, so that what is timed is the match, not the first run of the engine's code.
  selectTag(["warm-up"], { policy: { alphabetical: {} }, filterTags: { pattern: "^w" } });
  const started = performance.now();
  const result = fn();
  const elapsed = performance.now() - started;
  console.log(`${what}: ${elapsed.toFixed(2)} ms`);
  assertWithinTimeBound(what, elapsed);
  return result;
}

const CATASTROPHIC = "^(a+)+$";
const evil = (length: number) => `${"a".repeat(length - 1)}!`;

test("attack 5: filterTags.pattern ^(a+)+$ against a 30-character and a 10,000-character tag", () => {
  const compiled = compileTagPolicy({ policy: { alphabetical: {} }, filterTags: { pattern: CATASTROPHIC } });
  for (const length of [30, 10_000]) {
    const result = within50ms(`filterTags.pattern ${CATASTROPHIC} against ${length} characters`, () => selectTag([evil(length), "a".repeat(length)], compiled));
    assert.ok(result.ok);
    assert.equal(result.tag, "a".repeat(length));
  }
});

test("attack 5: filterTags.pattern with extract against a 10,000-character tag", () => {
  const compiled = compileTagPolicy({ policy: { alphabetical: {} }, filterTags: { pattern: "^(?P<all>(a+)+)$", extract: "$all" } });
  const result = within50ms("filterTags.pattern ^(?P<all>(a+)+)$ with extract against 10,000 characters", () => selectTag([evil(10_000), "a".repeat(10_000)], compiled));
  assert.ok(result.ok);
  assert.equal(result.value.length, 10_000);
});

test("attack 5: an exclusionList entry ^(a+)+$ against a 10,000-character tag", () => {
  const compiled = compileTagPolicy({ policy: { alphabetical: {} }, exclusionList: ["^x", CATASTROPHIC] });
  const result = within50ms(`exclusionList[1] ${CATASTROPHIC} against 10,000 characters`, () => selectTag([evil(10_000), "a".repeat(10_000)], compiled));
  assert.ok(result.ok);
  assert.equal(result.tag, evil(10_000));
  assert.equal(result.counts.excluded, 1);
});

test("attack 5: the glob *a*a*a*a*a*b as a policy glob against a 10,000-character tag", () => {
  const compiled = compileTagPolicy({ policy: { alphabetical: {} }, glob: "*a*a*a*a*a*b" });
  const result = within50ms("glob *a*a*a*a*a*b against 10,000 characters", () => selectTag(["a".repeat(10_000)], compiled));
  assert.equal(result.ok, false);
});
