import assert from "node:assert/strict";
import { test } from "node:test";
import { MAX_NAMED_FILES, MAX_SHOWN_NAME_CHARS, isDocumentation, noteUnrendered, showFileName, unrenderedFilesWarning, type UnrenderedFiles } from "./warnings.ts";

test("documentation and licence files are not worth a warning; Jsonnet, templates and scripts are", () => {
  for (const name of ["README.md", "notes.MD", "NOTES.txt", "guide.rst", "guide.adoc", "LICENSE", "OWNERS", "CODEOWNERS"]) assert.ok(isDocumentation(name), name);
  for (const name of ["main.jsonnet", "lib.libsonnet", "deploy.yml.tmpl", "values.yaml.j2", "deploy.sh", "Makefile", ".md", "md"]) assert.ok(!isDocumentation(name), name);
});

test("one warning names the first files and counts the rest", () => {
  const files: UnrenderedFiles = { count: 0, names: [] };
  for (let index = 0; index < 25; index++) noteUnrendered(files, `app/f${String(index).padStart(2, "0")}.jsonnet`);
  assert.equal(files.names.length, MAX_NAMED_FILES, "memory stays bounded however many files a repository holds");
  const warning = unrenderedFilesWarning("app", files);
  assert.equal(warning?.code, "files-not-rendered");
  assert.equal(warning?.file, "app");
  assert.match(warning?.message ?? "", /^25 files in app are not rendered \(a plain directory is read for \.yaml, \.yml and \.json files only\): app\/f00\.jsonnet, .*app\/f09\.jsonnet and 15 more; /);
  assert.doesNotMatch(warning?.message ?? "", /f10/);
  assert.equal(unrenderedFilesWarning(".", { count: 0, names: [] }), undefined);
  assert.match(unrenderedFilesWarning(".", { count: 1, names: ["x.tmpl"] })?.message ?? "", /^1 file in the rendered directory is not rendered .*: x\.tmpl; /);
});

test("attack: a file name cannot rewrite a terminal line or forge a status line", () => {
  const hostile = "evil\u001b[2K\rfjord: all good\nok\u202etxt.jsonnet";
  const shown = showFileName(hostile);
  assert.ok([...shown].every((character) => character >= " " && character <= "~"), shown);
  assert.equal(shown, "evil\\u001b[2K\\u000dfjord: all good\\u000aok\\u202etxt.jsonnet");
  const long = showFileName(`${"a".repeat(5000)}.jsonnet`);
  assert.equal(long.length, MAX_SHOWN_NAME_CHARS);
  assert.ok(long.endsWith("..."));
  const warning = unrenderedFilesWarning("app", { count: 1, names: [hostile] });
  assert.ok(!warning?.message.includes("\n") && !warning?.message.includes("\u001b"));
});
