import assert from "node:assert/strict";
import { test } from "node:test";
import { RenderError } from "./errors.ts";

test("attack: a file name or tool output with terminal escapes is shown escaped in a render error", () => {
  const error = new RenderError("nested-package", "apps/\u001b[2Kok holds kustomization.yaml", { file: "apps/\u001b[1Aevil\r.yaml", output: "line\u001b[31m red", fix: "render it on its own" });
  assert.ok(!error.message.includes("\u001b") && !error.message.includes("\r"), error.message);
  assert.match(error.message, /^apps\/\\u001b\[1Aevil\\u000d\.yaml: apps\/\\u001b\[2Kok holds kustomization\.yaml\n {2}\| line\\u001b\[31m red\n {2}fix: render it on its own$/);
});
