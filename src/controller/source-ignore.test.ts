import assert from "node:assert/strict";
import { test } from "node:test";
import { IgnorePatternError } from "../render/ignore-patterns.ts";
import { artifactIdentity, artifactTreeKey, compileSourceIgnore, sourceIgnoreProblem } from "./source-ignore.ts";

test("spec.ignore is gitignore lines, CRLF or LF, comments and blank lines skipped", () => {
  const matcher = compileSourceIgnore("# generated\r\nsecret-stuff/\r\n\r\n*.tmpl\n");
  assert.equal(matcher.ignores("secret-stuff", true), true);
  assert.equal(matcher.ignores("a/b.tmpl", false), true);
  assert.equal(matcher.ignores("a/b.yaml", false), false);
  assert.equal(sourceIgnoreProblem(undefined), undefined);
  assert.equal(sourceIgnoreProblem(""), undefined);
});

test("a line that cannot be used is named by its number", () => {
  assert.throws(() => compileSourceIgnore("ok/\n\n[z-a].yaml"), (error: unknown) => error instanceof IgnorePatternError && error.line === 3 && /^spec\.ignore line 3: ignore pattern "\[z-a\]\.yaml" cannot be used: .*; fix or remove the line$/.test(error.message));
  assert.match(sourceIgnoreProblem("[[:nope:]]") ?? "", /^spec\.ignore line 1: /);
  assert.match(sourceIgnoreProblem(`ok\n${"a".repeat(1025)}`) ?? "", /^spec\.ignore line 2: ignore pattern "a+"\.\.\. \(1025 characters\) is 1025 characters long, more than the limit of 1024/);
});

test("attack: too many patterns, or too long a text (an object stored under an older CRD), are refused before compiling", () => {
  const many = Array.from({ length: 257 }, (_, index) => `f${index}`).join("\n");
  assert.match(sourceIgnoreProblem(many) ?? "", /^spec\.ignore has 257 patterns, more than the limit of 256/);
  // Comments do not count.
  assert.equal(sourceIgnoreProblem(`${Array.from({ length: 256 }, (_, index) => `f${index}`).join("\n")}\n# one more\n`), undefined);
  assert.match(sourceIgnoreProblem("#".repeat(16 * 1024 + 1)) ?? "", /^spec\.ignore is 16,385 characters long, more than the limit of 16,384/);
});

test("the ignore rules are part of the artifact's identity and of its tree's", () => {
  const base = { revision: "main@sha1:abc", commit: "abc" };
  assert.equal(artifactIdentity(base), "main@sha1:abc");
  assert.equal(artifactTreeKey(base), "abc");
  const a = { ...base, ignore: "secret-stuff/" };
  const b = { ...base, ignore: "*.tmpl" };
  assert.notEqual(artifactIdentity(a), artifactIdentity(base));
  assert.notEqual(artifactIdentity(a), artifactIdentity(b));
  assert.notEqual(artifactTreeKey(a), artifactTreeKey(b));
  assert.equal(artifactTreeKey(a), artifactTreeKey({ ...a }));
  assert.equal(artifactIdentity(undefined), undefined);
});
