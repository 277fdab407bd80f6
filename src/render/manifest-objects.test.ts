import assert from "node:assert/strict";
import { test } from "node:test";
import { RenderError } from "./errors.ts";
import { objectsFromDocuments, type DocumentOrigin } from "./manifest-objects.ts";
import { parseYamlStream } from "./yaml-stream.ts";

const origin: DocumentOrigin = { file: "apps/x.yaml", linesRefer: true, notAnObjectFix: "add apiVersion and kind" };

function objects(text: string, from: DocumentOrigin = origin) {
  return objectsFromDocuments(parseYamlStream(text, { file: from.file }), from);
}

function failure(text: string): RenderError {
  try {
    objects(text);
  } catch (error) {
    assert.ok(error instanceof RenderError);
    return error;
  }
  assert.fail("expected a RenderError");
}

test("each document is an object with its file and line", () => {
  const result = objects("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n");
  assert.deepEqual(
    result.map((rendered) => [rendered.object.metadata.name, rendered.source]),
    [
      ["a", { file: "apps/x.yaml", line: 1 }],
      ["b", { file: "apps/x.yaml", line: 5 }],
    ],
  );
});

test("lists are flattened, nested ones too, each item keeping its own line", () => {
  const text = [
    "apiVersion: v1",
    "kind: List",
    "items:",
    "  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}",
    "  - apiVersion: v1",
    "    kind: ConfigMapList",
    "    items:",
    "      - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}",
  ].join("\n");
  assert.deepEqual(
    objects(text).map((rendered) => [rendered.object.metadata.name, rendered.source.line]),
    [
      ["a", 4],
      ["b", 5],
    ],
  );
});

test("an object without metadata gets an empty one", () => {
  const [rendered] = objects("apiVersion: v1\nkind: List2\n");
  assert.deepEqual(rendered?.object, { apiVersion: "v1", kind: "List2", metadata: {} });
});

test("documents that are not objects fail with file, line and the fix", () => {
  const values = failure("# comment\nreplicas: 3\n");
  assert.equal(values.code, "not-an-object");
  assert.equal(values.file, "apps/x.yaml");
  assert.equal(values.line, 2);
  assert.match(values.message, /no apiVersion and kind/);
  assert.match(values.message, /fix: add apiVersion and kind/);
  assert.match(failure("just a string\n").message, /document is a string/);
  assert.match(failure("- a\n- b\n").message, /document is a list/);
  assert.match(failure("apiVersion: v1\nmetadata: {}\n").message, /no kind/);
  assert.match(failure("kind: Pod\n").message, /no apiVersion/);
  assert.match(failure("apiVersion: v1\nkind: Pod\nmetadata: [a]\n").message, /metadata is not a map/);
  assert.equal(failure("apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: Pod}\n  - 42\n").line, 5);
});

test("objects from a tool's output carry the file but no line", () => {
  const [rendered] = objects("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n", { ...origin, linesRefer: false });
  assert.deepEqual(rendered?.source, { file: "apps/x.yaml" });
});
