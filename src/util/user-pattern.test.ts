import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { RE2JS } from "re2js";
import { estimateProgramSize } from "./pattern-size.ts";
import { compileUserPattern, describePattern, quotePattern, USER_PATTERN_LIMITS, UserPatternError } from "./user-pattern.ts";
import { assertWithinTimeBound } from "../../testenv/time-bound.ts";

const matches: Array<[pattern: string, input: string, matched: boolean]> = [
  ["^main-[a-f0-9]+-(?P<ts>[0-9]+)", "main-abc123-1700", true],
  ["^main-(?P<ts>\\d+)$", "main-123", true],
  ["(?i)^MAIN-", "main-1", true],
  ["^main-(?i)x", "main-X", true],
  ["^(?i:MAIN)-x", "main-X", false],
  ["(?is)^a.b$", "A\nB", true],
  ["^a.b$", "a\nb", false],
  ["\\Av1\\z", "v1", true],
  ["\\Av1\\z", "v1x", false],
  ["\\\\z", "\\z", true],
  ["^v1$", "v1\n", false],
  ["^[[:digit:]]+$", "2024", true],
  ["^[[:xdigit:]]{7}$", "0fA9c3e", true],
  ["^[[:alpha:]_]+$", "abc_D", true],
  ["^[[:alpha:]]+$", "ab1", false],
  ["^[[:^alpha:]]+$", "123", true],
  ["^\\pL+$", "héllo", true],
  ["^.$", "😀", true],
  ["^\\Qa.b\\E$", "a.b", true],
  ["^\\Qa.b\\E$", "axb", false],
  ["prod-", "x-prod-2", true],
];

for (const [pattern, input, matched] of matches) {
  test(`RE2 semantics: ${JSON.stringify(pattern)} ${matched ? "matches" : "does not match"} ${JSON.stringify(input)}`, () => {
    assert.equal(compileUserPattern(pattern).test(input), matched);
  });
}

test("groups by number and by name, as Go's FindStringSubmatch", () => {
  const pattern = compileUserPattern("^(?P<sha>[a-f0-9]+)-(\\d+)?(x)?");
  assert.equal(pattern.groupCount, 3);
  assert.deepEqual([...pattern.groupNames], ["sha"]);
  const match = pattern.exec("abc-12");
  assert.ok(match);
  assert.equal(match.group(0), "abc-12");
  assert.equal(match.named("sha"), "abc");
  assert.equal(match.group(2), "12");
  assert.equal(match.group(3), undefined, "a group that took no part");
  assert.equal(match.group(7), undefined, "a group that does not exist");
  assert.equal(match.named("nope"), undefined);
  assert.equal(pattern.exec("zzz"), null);
});

test("what RE2 leaves out is refused with a hint, not silently read another way", () => {
  const refusal = (pattern: string) => {
    try {
      compileUserPattern(pattern);
    } catch (error) {
      assert.ok(error instanceof UserPatternError);
      return error.message;
    }
    return assert.fail(`${pattern} was accepted`);
  };
  assert.match(refusal("(a)\\1"), /^invalid escape sequence: `\\1`; backreferences \(\\1\) are not supported: patterns use Go's RE2 syntax, as in Flux$/);
  assert.match(refusal("a(?=b)"), /lookahead and lookbehind .* are not supported/);
  assert.match(refusal("a(?!b)"), /lookahead and lookbehind/);
  assert.match(refusal("(?<=a)b"), /lookahead and lookbehind/);
  assert.match(refusal("(?<!a)b"), /lookahead and lookbehind/);
  assert.match(refusal("^main-("), /^missing closing \): `\^main-\(`$/);
  assert.match(refusal("[[:nope:]]"), /invalid character class range/);
  assert.match(refusal("(?P<a>x)(?P<a>y)"), /duplicate capture group name/);
});

test("limits: length, repeat counts, program size", () => {
  const { maxLength, maxInstructions } = USER_PATTERN_LIMITS;
  assert.equal(maxLength, 1024);
  assert.equal(maxInstructions, 250);
  assert.throws(() => compileUserPattern("a".repeat(1 << 20)), /^UserPatternError: is 1048576 characters long, more than the limit of 1024$/);
  assert.doesNotThrow(() => compileUserPattern(`^(?:${"ab|".repeat(60)}c)$`));
  assert.throws(() => compileUserPattern("a{1001}"), /invalid repeat count: `\{1001\}`/);
  assert.throws(() => compileUserPattern("a{1000}{1000}"), /is too large: it would compile to more than 250 instructions/);
  assert.throws(() => compileUserPattern("((a{100}){100}){100}"), /is too large/);
  assert.throws(() => compileUserPattern("a{1000}"), /is too large: it would compile to more than 250 instructions; simplify it/);
  assert.throws(() => compileUserPattern("\\pL".repeat(17)), /names 17 Unicode classes \(\\p\.\.\.\), more than the limit of 16/);
  assert.doesNotThrow(() => compileUserPattern("^[\\pL\\pN]+(?:-[\\pL\\pN]+)*$"));
  assert.throws(() => compileUserPattern("[a-z]{300}"), /is too large: it compiles to 302 instructions, more than the limit of 250/);
  assert.doesNotThrow(() => compileUserPattern("^[a-f0-9]{64}$"));
});

test("attack 5: a hostile pattern within the length limit compiles (or is refused) in under 50 ms", () => {
  // Once per process: re2js builds its Unicode and case-folding tables on first use.
  compileUserPattern("(?i)[\\pL\\PL]");
  const worst = [
    "\\pL".repeat(341),
    "(?i)\\PL".repeat(146),
    `(?i)${"\\PL".repeat(16)}${"(?i)[^a]".repeat(100)}`,
    "a{1000}".repeat(146),
    "(?:(?:a{10}){10}){10}".repeat(48),
    "[\\x{0}-\\x{10FFFF}]{1000}".repeat(40),
    "(a|ab)".repeat(170),
    ".*a".repeat(341),
  ];
  for (const source of worst) {
    const started = performance.now();
    try {
      compileUserPattern(source);
    } catch (error) {
      assert.ok(error instanceof UserPatternError);
    }
    const elapsed = performance.now() - started;
    console.log(`compiling ${describePattern(source).slice(0, 40)}: ${elapsed.toFixed(1)} ms`);
    // Without the size checks the first ones take from 0.1 to several seconds.
    assertWithinTimeBound(`compiling ${describePattern(source).slice(0, 40)}`, elapsed);
  }
});

test("quotePattern matches a string literally", () => {
  const literal = "a.b*c[d]{e}\\f$^|(g)?+";
  assert.equal(compileUserPattern(`^${quotePattern(literal)}$`).test(literal), true);
  assert.equal(compileUserPattern(`^${quotePattern(literal)}$`).test("a.b*c[d]{e}\\f$^|(g)?"), false);
});

test("describePattern shortens long patterns", () => {
  assert.equal(describePattern("^v1"), '"^v1"');
  assert.equal(describePattern("x".repeat(100)), `"${"x".repeat(80)}"... (100 characters)`);
});

// The size estimate decides whether the compiler runs at all: it must never be below the size
// of the program re2js builds, or a large pattern could slip past it.
const PIECES = [
  "a", "b", ".", "\\d", "\\pL", "\\p{Greek}", "\\PN", "[a-z]", "[^/]", "[]a]", "[[:alpha:]x]", "[\\]]", "\\x{41}", "\\x41", "\\Qa{3}\\E", "\\Q",
  "^", "$", "\\b", "(?i)", "(?s:", "(?U)", "(", "(?P<n>", ")", "|", "*", "+", "?", "*?", "+?", "{2}", "{3,}", "{2,5}", "{0}", "{0,1}", "{10}",
  "{20,}", "\\.", "\\{", "{", "}", "{x}", "(?:", "-", "\\\\",
];

test("the size estimate is never below the compiled program's size", () => {
  let names = 0;
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 30 }), (pieces) => {
      const source = pieces.join("").replace(/\(\?P<n>/g, () => `(?P<n${names++}>`);
      let compiled: RE2JS;
      try {
        compiled = RE2JS.compile(source);
      } catch {
        return true;
      }
      const estimate = estimateProgramSize(source);
      assert.ok(estimate >= compiled.programSize(), `${JSON.stringify(source)}: estimated ${estimate}, compiled ${compiled.programSize()}`);
      return true;
    }),
    { numRuns: 3000 },
  );
});

test("the size estimate of patterns people write is close to their size", () => {
  for (const source of ["^main-[a-f0-9]+-(?P<ts>[0-9]+)", "^(data|stringData)$", "^[a-f0-9]{40}$", "(?s)^.*a.*a.*a.*a.*a.*b$"]) {
    const size = RE2JS.compile(source).programSize();
    const estimate = estimateProgramSize(source);
    assert.ok(estimate >= size && estimate <= 4 * size, `${source}: ${estimate} for ${size}`);
  }
});
