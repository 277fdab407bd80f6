import assert from "node:assert/strict";
import { test } from "node:test";
import { isAlias, isMap } from "yaml";
import { describeYamlError, parseAllYamlDocuments, parseYamlDocuments, YamlLimitError } from "./yaml.ts";

function limitError(text: string, options = {}): YamlLimitError {
  try {
    for (const _ of parseYamlDocuments(text, options)) void _;
  } catch (error) {
    assert.ok(error instanceof YamlLimitError, String(error));
    return error;
  }
  assert.fail("expected a YamlLimitError");
}

test("documents come one at a time with their expanded size and where each alias leads", () => {
  const [first, second] = [...parseYamlDocuments("a: &x [1, 2]\nb: *x\n---\nc: 3\n")];
  assert.ok(first && second);
  assert.ok(first.expandedNodes > second.expandedNodes, "the alias counts as what it expands to");
  const contents = first.document.contents;
  assert.ok(isMap(contents));
  const alias: unknown = contents.get("b", true);
  assert.ok(isAlias(alias));
  assert.equal(first.aliasTargets.get(alias), contents.get("a", true));
});

test("each limit is its own error, with the offset where it was passed", () => {
  assert.equal(limitError(`a: ${"[".repeat(300)}${"]".repeat(300)}`).kind, "depth");
  assert.equal(limitError("a: [1, 2, 3, 4]\n", { limits: { maxDocumentTokens: 5 } }).kind, "document-tokens");
  assert.equal(limitError("a: 1\n---\nb: 2\n---\nc: 3\n", { limits: { maxStreamTokens: 7 } }).kind, "stream-tokens");
  assert.equal(limitError(`a: "${"x".repeat(100)}"\n`, { limits: { maxDocumentBytes: 50 } }).kind, "document-size");
  assert.equal(limitError("a: &a 1\nb: [*a, *a, *a]\n", { limits: { maxAliases: 2 } }).kind, "aliases");
  const cycle = limitError("a: &a [1, *a]\n");
  assert.equal(cycle.kind, "alias-cycle");
  assert.equal(cycle.offset, 10);
  assert.equal(limitError("a: &a [xxxxxxxxxx]\nb: [*a, *a, *a, *a]\n", { limits: { maxExpandedBytes: 40 } }).kind, "expansion");
});

test("stack traces are off only while the parser runs", () => {
  const before = Error.stackTraceLimit;
  const documents = parseYamlDocuments("a: [,,,]\n---\nb: 1\n");
  const first = documents.next();
  assert.ok(!first.done && first.value.document.errors.length > 0);
  assert.equal(Error.stackTraceLimit, before, "the caller runs with its own setting");
  documents.return(undefined);
  limitError(`a: ${"[".repeat(300)}${"]".repeat(300)}`);
  assert.equal(Error.stackTraceLimit, before, "restored after a limit error");
});

test("duplicate keys are errors; merge keys may repeat", () => {
  const [duplicated] = parseAllYamlDocuments("a: 1\nb: 2\na: 3\n");
  assert.equal(duplicated?.errors[0]?.code, "DUPLICATE_KEY");
  const [merged] = parseAllYamlDocuments("x: &x {a: 1}\ny: &y {b: 2}\nz:\n  <<: *x\n  <<: *y\n", { merge: true });
  assert.deepEqual(merged?.errors, []);
});

test("errors that could quote the input are described by their kind when the text may hold secrets", () => {
  const [document] = parseAllYamlDocuments('a: "secret\\qvalue"\n');
  const error = document!.errors[0]!;
  assert.equal(error.code, "BAD_DQ_ESCAPE");
  assert.match(describeYamlError(error, true), /\\q/);
  assert.equal(describeYamlError(error, false), "invalid escape sequence in a double-quoted string");
});

test("fuzz-found: compact maps nested a thousand deep, then a less indented line, are a depth error, not a stack overflow", () => {
  // Counterexample of src/secrets/sops/document.fuzz.test.ts (a SOPS file with `: ` inserted
  // 1,900 times): the parser closes the open maps by recursion before the document is complete.
  for (const text of [`${": ".repeat(1900)}a: b\nc: d\n`, `${": ".repeat(20_000)}a: b\nc: d\n`]) {
    const error = limitError(text);
    assert.equal(error.kind, "depth");
  }
  // Nesting within the limit still parses.
  assert.equal([...parseYamlDocuments(`${": ".repeat(150)}a: b\nc: d\n`)].length, 1);
});
