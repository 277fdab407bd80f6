import assert from "node:assert/strict";
import { test } from "node:test";
import { globToRegExp } from "./glob.ts";

const cases: Array<[glob: string, tag: string, matched: boolean]> = [
  ["master-*", "master-abc1234", true],
  ["master-*", "master-", true],
  ["master-*", "xmaster-1", false],
  ["master-*", "master", false],
  ["*", "anything.at_all-1", true],
  ["v1.?", "v1.2", true],
  ["v1.?", "v1x2", false],
  ["v1.*-rc", "v1.2.3-rc", true],
  ["1.2.3", "1.2.3", true],
  ["1.2.3", "1x2x3", false],
  ["a+b(c)", "a+b(c)", true],
];

for (const [glob, tag, matched] of cases) {
  test(`glob ${JSON.stringify(glob)} ${matched ? "matches" : "does not match"} ${JSON.stringify(tag)}`, () => {
    assert.equal(globToRegExp(glob).test(tag), matched);
  });
}
