import assert from "node:assert/strict";
import { test } from "node:test";
import { JsonInputError, parseBoundedJson } from "./json.ts";

test("ordinary JSON parses; brackets inside strings do not count as nesting", () => {
  assert.deepEqual(parseBoundedJson('{"a": ["[[[[", {"b": "\\"]]]"}]}', "the answer"), { a: ["[[[[", { b: '"]]]' }] });
});

test("nesting deeper than the limit, too many bytes and broken JSON are refused without quoting the text", () => {
  assert.throws(() => parseBoundedJson(`${"[".repeat(201)}${"]".repeat(201)}`, "the answer"), /the answer is nested deeper than 200 levels/);
  assert.ok(parseBoundedJson(`${"[".repeat(200)}${"]".repeat(200)}`, "the answer"));
  assert.throws(() => parseBoundedJson(`"${"x".repeat(100)}"`, "the answer", 50), /the answer is larger than 50 bytes/);
  assert.throws(
    () => parseBoundedJson('{"password": "hunter2" oops}', "the Secret"),
    (error: unknown) => error instanceof JsonInputError && error.message === "the Secret is not valid JSON",
  );
});
