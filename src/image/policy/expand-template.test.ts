import assert from "node:assert/strict";
import { test } from "node:test";
import { compileUserPattern } from "../../util/user-pattern.ts";
import { expandTemplate, templateReferences } from "./expand-template.ts";

const expansions: Array<[template: string, expected: string]> = [
  ["$ts", "1700"],
  ["${ts}", "1700"],
  ["$1", "abc"],
  ["${2}", "1700"],
  ["$1x", ""], // Go reads the longest name: group "1x", which does not exist
  ["${1}x", "abcx"],
  ["$$ts", "$ts"],
  ["v$", "v$"],
  ["$-", "$-"],
  ["$missing", ""],
  ["$3", ""],
  ["$sha-$ts", "abc-1700"],
  ["$0", "main-abc-1700"],
];

for (const [template, expected] of expansions) {
  test(`expandTemplate(${JSON.stringify(template)}) is ${JSON.stringify(expected)} as in Go`, () => {
    const match = compileUserPattern("^main-(?P<sha>[a-f0-9]+)-(?P<ts>\\d+)$").exec("main-abc-1700");
    assert.ok(match);
    assert.equal(expandTemplate(template, match), expected);
  });
}

test("templateReferences lists the groups a template names, without $$", () => {
  assert.deepEqual(templateReferences("$$x-$ts-${1}-$a_b"), ["ts", "1", "a_b"]);
});
