import assert from "node:assert/strict";
import { test } from "node:test";
import { RenderError } from "./errors.ts";
import { parseYamlStream, type StreamOrigin } from "./yaml-stream.ts";

const origin: StreamOrigin = { file: "apps/x.yaml" };

test("empty, comment-only and null documents are left out; lines point at the first key", () => {
  const docs = parseYamlStream("# header\n---\na: 1\n---\n# nothing\n---\n---\n~\n---\n\nb: 2\n", origin);
  assert.deepEqual(
    docs.map((doc) => [doc.value, doc.line]),
    [
      [{ a: 1 }, 3],
      [{ b: 2 }, 11],
    ],
  );
  assert.deepEqual(parseYamlStream("", origin), []);
});

test("YAML 1.1 scalars as kubectl reads them, including keys", () => {
  const [doc] = parseYamlStream("on: yes\nv: 012\nn2: 1e3\nt: 2024-01-01\ns: '0123'\nempty:\nflag: Off\n", origin);
  assert.deepEqual(doc?.value, { true: true, v: 10, n2: 1000, t: "2024-01-01", s: "0123", empty: null, flag: false });
});

test("merge keys, aliases, explicit tags", () => {
  const text = "base: &b {x: 1, y: 2}\nmerged:\n  <<: *b\n  x: 3\ncopy: *b\ns: !!str 012\ni: !!int '12'\nbin: !!binary aGVsbG8=\nts: !!timestamp 2024-01-01\n";
  const [doc] = parseYamlStream(text, origin);
  assert.deepEqual(doc?.value, {
    base: { x: 1, true: 2 },
    merged: { x: 3, true: 2 },
    copy: { x: 1, true: 2 },
    s: "012",
    i: 12,
    bin: "hello",
    ts: "2024-01-01",
  });
});

test("JSON documents parse too", () => {
  const [doc] = parseYamlStream('{\n\t"apiVersion": "v1",\n\t"kind": "ConfigMap",\n\t"data": {"n": "1"}\n}\n', origin);
  assert.deepEqual(doc?.value, { apiVersion: "v1", kind: "ConfigMap", data: { n: "1" } });
});

test("the line of every item of a list is kept", () => {
  const [doc] = parseYamlStream("kind: List\nitems:\n  - a: 1\n  - b: 2\n\n  - c: 3\n", origin);
  assert.deepEqual(doc?.itemLines, [3, 4, 6]);
});

function failure(text: string, from: StreamOrigin = origin): RenderError {
  try {
    parseYamlStream(text, from);
  } catch (error) {
    assert.ok(error instanceof RenderError);
    return error;
  }
  assert.fail("expected a RenderError");
}

test("malformed YAML names file, line and column with the parser's reason", () => {
  const error = failure("a: 1\nb: [1, 2\nc: 3\n");
  assert.equal(error.code, "yaml-syntax");
  assert.equal(error.file, "apps/x.yaml");
  assert.equal(error.line, 3);
  assert.equal(error.column, 1);
  assert.match(error.message, /^apps\/x\.yaml:3:1: malformed YAML: .*sequence/);
});

test("keys that become the same JSON key are an error, not a silent overwrite", () => {
  const error = failure("metadata:\n  labels:\n    on: a\n    'true': b\n");
  assert.equal(error.code, "yaml-syntax");
  assert.equal(error.line, 4);
  assert.match(error.message, /unique/);
});

test("numbers JSON cannot carry exactly are refused with their position", () => {
  const big = failure("spec:\n  id: 9007199254740993\n");
  assert.equal(big.code, "yaml-value");
  assert.equal(big.line, 2);
  assert.equal(big.column, 7);
  assert.match(big.message, /quote it/);
  assert.equal(failure("x: .inf\n").code, "yaml-value");
});

test("errors in a tool's output say so instead of pointing at a line of the file", () => {
  const error = failure("a: [\n", { file: "chart/templates/x.yaml", renderedBy: "helm template" });
  assert.equal(error.file, "chart/templates/x.yaml");
  assert.equal(error.line, undefined);
  assert.match(error.message, /in the output of helm template, at line \d+:\d+ of that output/);
});

test("alias bombs are stopped", () => {
  const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]", "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]", "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]", "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]"].join("\n");
  assert.equal(failure(bomb).code, "yaml-syntax");
});
