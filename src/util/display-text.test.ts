import assert from "node:assert/strict";
import { test } from "node:test";
import { displayName, displayText } from "./display-text.ts";

test("names from Git cannot rewrite a terminal line: control characters, separators and bidi overrides are escaped", () => {
  assert.equal(displayName("a\u001b[2Kb\nc\u202ed"), "a\\u001b[2Kb\\u000ac\\u202ed");
  assert.equal(displayName("x".repeat(300), 10), "xxxxxxx...");
  assert.equal(displayText("line one\n\tline two\r\u0007"), "line one\n\tline two\\u000d\\u0007");
});
