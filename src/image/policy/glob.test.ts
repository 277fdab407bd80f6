import assert from "node:assert/strict";
import { test } from "node:test";
import { compileGlob, globToPattern } from "./glob.ts";
import { assertWithinTimeBound } from "../../../testenv/time-bound.ts";

const cases: Array<[glob: string, tag: string, matched: boolean]> = [
  ["master-*", "master-abc1234", true],
  ["master-*", "master-", true],
  ["master-*", "xmaster-1", false],
  ["master-*", "master", false],
  ["*", "anything.at_all-1", true],
  ["*", "two\nlines", true],
  ["v1.?", "v1.2", true],
  ["v1.?", "v1x2", false],
  ["v1.*-rc", "v1.2.3-rc", true],
  ["1.2.3", "1.2.3", true],
  ["1.2.3", "1x2x3", false],
  ["a+b(c)", "a+b(c)", true],
  ["[a]{2}\\$", "[a]{2}\\$", true],
  ["[a]{2}", "aa", false],
];

for (const [glob, tag, matched] of cases) {
  test(`glob ${JSON.stringify(glob)} ${matched ? "matches" : "does not match"} ${JSON.stringify(tag)}`, () => {
    assert.equal(compileGlob(glob).test(tag), matched);
  });
}

test("a glob becomes the RE2 pattern Flux reads as filterTags.pattern", () => {
  assert.equal(globToPattern("master-*"), "^master-.*$");
  assert.equal(globToPattern("v1.?"), "^v1\\..$");
});

test("attack 5: the glob *a*a*a*a*a*b matches a 10,000-character tag in linear time", () => {
  const glob = compileGlob("*a*a*a*a*a*b");
  glob.test("warm-up");
  for (const tag of ["a".repeat(10_000), `${"a".repeat(9_999)}b`]) {
    const started = performance.now();
    const matched = glob.test(tag);
    const elapsed = performance.now() - started;
    console.log(`glob *a*a*a*a*a*b against ${tag.length} characters: ${elapsed.toFixed(2)} ms`);
    assert.equal(matched, tag.endsWith("b"));
    assertWithinTimeBound(`glob *a*a*a*a*a*b against ${tag.length} characters`, elapsed);
  }
});
