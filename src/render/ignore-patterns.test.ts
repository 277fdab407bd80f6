import assert from "node:assert/strict";
import { test } from "node:test";
import { compileIgnorePatterns, IgnorePatternError } from "./ignore-patterns.ts";
import { assertWithinTimeBound } from "../../testenv/time-bound.ts";

test("a pattern without a slash matches the name at any depth", () => {
  const matcher = compileIgnorePatterns(["*.md"]);
  assert.equal(matcher.ignores("README.md", false), true);
  assert.equal(matcher.ignores("docs/guide.md", false), true);
  assert.equal(matcher.ignores("deploy.yaml", false), false);
  assert.equal(matcher.ignores("notes.md.yaml", false), false);
});

test("a trailing slash matches directories only", () => {
  const matcher = compileIgnorePatterns(["tests/"]);
  assert.equal(matcher.ignores("tests", true), true);
  assert.equal(matcher.ignores("apps/tests", true), true);
  assert.equal(matcher.ignores("tests", false), false);
});

test("a slash inside the pattern anchors it to the rendered directory", () => {
  const matcher = compileIgnorePatterns(["apps/*.yaml", "/top.yaml"]);
  assert.equal(matcher.ignores("apps/web.yaml", false), true);
  assert.equal(matcher.ignores("other/apps/web.yaml", false), false);
  assert.equal(matcher.ignores("apps/sub/web.yaml", false), false);
  assert.equal(matcher.ignores("top.yaml", false), true);
  assert.equal(matcher.ignores("sub/top.yaml", false), false);
});

test("** spans directories", () => {
  const matcher = compileIgnorePatterns(["**/secret-*.yaml", "generated/**", "a/**/z.yaml"]);
  assert.equal(matcher.ignores("secret-db.yaml", false), true);
  assert.equal(matcher.ignores("x/y/secret-db.yaml", false), true);
  assert.equal(matcher.ignores("generated/a/b.yaml", false), true);
  assert.equal(matcher.ignores("a/z.yaml", false), true);
  assert.equal(matcher.ignores("a/b/c/z.yaml", false), true);
  assert.equal(matcher.ignores("b/z.yaml", false), false);
});

test("? and character classes match one character, never a slash", () => {
  const matcher = compileIgnorePatterns(["v?.yaml", "[ab]-*.yaml", "[!c]x.yaml"]);
  assert.equal(matcher.ignores("v1.yaml", false), true);
  assert.equal(matcher.ignores("v10.yaml", false), false);
  assert.equal(matcher.ignores("a-1.yaml", false), true);
  assert.equal(matcher.ignores("c-1.yaml", false), false);
  assert.equal(matcher.ignores("dx.yaml", false), true);
  assert.equal(matcher.ignores("cx.yaml", false), false);
});

test("the last matching pattern wins, so ! takes a path back", () => {
  const matcher = compileIgnorePatterns(["*.yaml", "!keep.yaml"]);
  assert.equal(matcher.ignores("drop.yaml", false), true);
  assert.equal(matcher.ignores("keep.yaml", false), false);
});

test("comments, blank lines and regex characters are handled literally", () => {
  const matcher = compileIgnorePatterns(["# a comment", "", "file(1).yaml", "\\#literal.yaml"]);
  assert.equal(matcher.ignores("file(1).yaml", false), true);
  assert.equal(matcher.ignores("file1.yaml", false), false);
  assert.equal(matcher.ignores("#literal.yaml", false), true);
  assert.equal(matcher.ignores("# a comment", false), false);
});

test("escaped trailing spaces stay, others go, as in git", () => {
  const matcher = compileIgnorePatterns(["a.yaml   ", "b\\ "]);
  assert.equal(matcher.ignores("a.yaml", false), true);
  assert.equal(matcher.ignores("b ", false), true);
  assert.equal(matcher.ignores("b", false), false);
});

test("POSIX classes inside brackets", () => {
  const matcher = compileIgnorePatterns(["[[:digit:]]*.yaml"]);
  assert.equal(matcher.ignores("1-app.yaml", false), true);
  assert.equal(matcher.ignores("app.yaml", false), false);
});

test("an unusable line is refused with its text and the problem", () => {
  assert.throws(() => compileIgnorePatterns(["ok.yaml", "[z-a].yaml"]), (error: Error) => error instanceof IgnorePatternError && /^ignore pattern "\[z-a\]\.yaml" cannot be used: invalid character class range/.test(error.message));
  assert.throws(() => compileIgnorePatterns(["x".repeat(2000)]), /ignore pattern "x{80}"\.\.\. \(2000 characters\) is 2000 characters long, more than the limit of 1024/);
  assert.throws(() => compileIgnorePatterns(["?".repeat(300)]), /ignore pattern .* cannot be used: is too large/);
});

/** Times `fn` and fails past the bound of 50 ms (scaled by load). */
function within50ms<T>(what: string, fn: () => T): T {
  const started = performance.now();
  const result = fn();
  const elapsed = performance.now() - started;
  console.log(`${what}: ${elapsed.toFixed(2)} ms`);
  assertWithinTimeBound(what, elapsed);
  return result;
}

test("attack 5: ignore patterns *a*a*a*a*a*b and **/*a*a*a*a*a*b against a 10,000-character path", () => {
  const matcher = compileIgnorePatterns(["*a*a*a*a*a*b", "**/x*a*a*a*a*a*b/**", "[a]*[a]*[a]*[a]*[a]*b"]);
  matcher.ignores("warm-up", false);
  const name = "a".repeat(10_000);
  const path = `${"a".repeat(50)}/`.repeat(200);
  assert.equal(within50ms("ignore *a*a*a*a*a*b against a 10,000-character name", () => matcher.ignores(name, false)), false);
  assert.equal(within50ms("ignore patterns against a 10,200-character path", () => matcher.ignores(path, true)), false);
  assert.equal(matcher.ignores(`${name}b`, false), true);
});
