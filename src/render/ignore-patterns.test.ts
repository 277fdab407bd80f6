import assert from "node:assert/strict";
import { test } from "node:test";
import { compileIgnorePatterns } from "./ignore-patterns.ts";

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
