import assert from "node:assert/strict";
import { test } from "node:test";
import { compileGoRegExp, expandTemplate, GoRegExpError } from "./go-regexp.ts";

const matches: Array<[pattern: string, input: string, matched: boolean]> = [
  ["^main-(?P<ts>\\d+)$", "main-123", true],
  ["(?i)^MAIN-", "main-1", true],
  ["(?is)^a.b$", "A\nB", true],
  ["\\Av1\\z", "v1", true],
  ["\\Av1\\z", "v1x", false],
  ["\\\\z", "\\z", true],
  ["^[[:digit:]]+$", "2024", true],
  ["^[[:xdigit:]]{7}$", "0fA9c3e", true],
  ["^[[:alpha:]_]+$", "abc_D", true],
  ["^[[:alpha:]]+$", "ab1", false],
];

for (const [pattern, input, matched] of matches) {
  test(`compileGoRegExp(${JSON.stringify(pattern)}) ${matched ? "matches" : "does not match"} ${JSON.stringify(input)}`, () => {
    assert.equal(compileGoRegExp(pattern).test(input), matched);
  });
}

test("compileGoRegExp names what it cannot translate", () => {
  assert.throws(() => compileGoRegExp("(?U)a+"), /flag \(\?U\) is not supported/);
  assert.throws(() => compileGoRegExp("a(?i:b)"), /only supported at the start/);
  assert.throws(() => compileGoRegExp("[[:nope:]]"), /unknown character class \[:nope:\]/);
  assert.throws(() => compileGoRegExp("(unclosed"), GoRegExpError);
});

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
];

for (const [template, expected] of expansions) {
  test(`expandTemplate(${JSON.stringify(template)}) is ${JSON.stringify(expected)} as in Go`, () => {
    const match = compileGoRegExp("^main-(?P<sha>[a-f0-9]+)-(?P<ts>\\d+)$").exec("main-abc-1700");
    assert.ok(match);
    assert.equal(expandTemplate(template, match), expected);
  });
}
