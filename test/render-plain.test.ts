import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { RenderError, render, type RenderWarning } from "../src/render/render.ts";
import { rejection } from "./support/assertions.ts";

const fixtures = path.join(import.meta.dirname, "fixtures", "render");

function summary(objects: Awaited<ReturnType<typeof render>>): string[] {
  return objects.map(({ object, source }) => `${object.kind}/${object.metadata.name} ${source.file}:${source.line}`);
}

function renderFailure(options: Parameters<typeof render>[0]): Promise<RenderError> {
  return rejection(render(options), RenderError);
}

test("a plain directory: nested dirs, multi-document YAML, JSON, Lists, in file order", async () => {
  const objects = await render({ root: path.join(fixtures, "plain"), path: ".", ignore: ["docs/", "tests/"] });
  assert.deepEqual(summary(objects), [
    "ConfigMap/list-a apps/list.yml:7",
    "ConfigMap/list-b apps/list.yml:14",
    "ConfigMap/web-config apps/web/config.json:1",
    "Deployment/web apps/web/deployment.yaml:3",
    "Service/web apps/web/deployment.yaml:23",
    "Namespace/shop namespace.yaml:1",
  ]);
  const list = objects[0]!.object as { data?: Record<string, unknown> };
  assert.deepEqual(list.data, { zip: "0123" });
});

test("without ignore patterns the ignored directories are rendered too; dot-files never are", async () => {
  const objects = await render({ root: path.join(fixtures, "plain"), path: "." });
  assert.deepEqual(
    summary(objects).filter((line) => /docs|tests|github|hidden/.test(line)),
    ["ConfigMap/docs-example docs/example.yaml:1", "Pod/smoke tests/smoke.yaml:1"],
  );
  const onlyYaml = await render({ root: path.join(fixtures, "plain"), path: ".", ignore: ["*.json", "*.yml", "/docs/", "tests/**"] });
  assert.deepEqual(
    onlyYaml.map(({ source }) => source.file),
    ["apps/web/deployment.yaml", "apps/web/deployment.yaml", "namespace.yaml"],
  );
});

test("a subdirectory is rendered with paths still relative to the repository", async () => {
  const objects = await render({ root: path.join(fixtures, "plain"), path: "apps/web" });
  assert.deepEqual(summary(objects), [
    "ConfigMap/web-config apps/web/config.json:1",
    "Deployment/web apps/web/deployment.yaml:3",
    "Service/web apps/web/deployment.yaml:23",
  ]);
});

test("malformed YAML names the file, line and column", async () => {
  const error = await renderFailure({ root: path.join(fixtures, "plain-malformed"), path: "." });
  assert.equal(error.code, "yaml-syntax");
  assert.equal(error.file, "settings.yaml");
  assert.equal(error.line, 7);
  assert.match(error.message, /^settings\.yaml:7:3: malformed YAML: Flow sequence/);
});

test("a document that is not a Kubernetes object names file and line, and the way out", async () => {
  const error = await renderFailure({ root: path.join(fixtures, "plain-not-object"), path: "." });
  assert.equal(error.code, "not-an-object");
  assert.equal(error.file, "values.yaml");
  assert.equal(error.line, 2);
  assert.match(error.message, /fix: add apiVersion and kind, or move the file out of the rendered directory or add it to ignore/);
  const ignored = await render({ root: path.join(fixtures, "plain-not-object"), path: ".", ignore: ["values.yaml"] });
  assert.deepEqual(summary(ignored), ["ConfigMap/real configmap.yaml:1"]);
});

test("the same object in two files is an error naming both", async () => {
  const error = await renderFailure({ root: path.join(fixtures, "plain-duplicates"), path: "." });
  assert.equal(error.code, "duplicate");
  assert.match(error.message, /ConfigMap\/shop\/settings is defined twice: in a\.yaml:1 and in b\.yaml:14/);
});

test("a kustomization below a plain directory is refused rather than misread", async () => {
  const error = await renderFailure({ root: fixtures, path: "kustomize" });
  assert.equal(error.code, "nested-package");
  assert.equal(error.file, "kustomize/base/kustomization.yaml");
  assert.match(error.message, /render kustomize\/base on its own, or add base\/ to ignore/);
});

test("a missing path, or one outside the repository, is refused", async () => {
  const missing = await renderFailure({ root: path.join(fixtures, "plain"), path: "apps/nope" });
  assert.equal(missing.code, "path-missing");
  assert.match(missing.message, /path apps\/nope does not exist/);
  const file = await renderFailure({ root: path.join(fixtures, "plain"), path: "namespace.yaml" });
  assert.equal(file.code, "path-missing");
  const outside = await renderFailure({ root: path.join(fixtures, "plain"), path: "../kustomize" });
  assert.equal(outside.code, "path-outside-root");
});

test("symlinks are followed inside the repository and refused when they lead out of it", async (t) => {
  const scratch = await mkdtemp(path.join(tmpdir(), "fjord-render-symlink-"));
  t.after(() => rm(scratch, { recursive: true, force: true }));
  const root = path.join(scratch, "repo");
  await mkdir(path.join(root, "apps"), { recursive: true });
  await writeFile(path.join(root, "shared.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: shared}\n");
  await symlink("../shared.yaml", path.join(root, "apps", "shared.yaml"));
  const inside = await render({ root, path: "apps" });
  assert.deepEqual(summary(inside), ["Namespace/shared apps/shared.yaml:1"]);

  await writeFile(path.join(scratch, "secret.yaml"), "apiVersion: v1\nkind: Secret\nmetadata: {name: stolen}\n");
  await symlink("../../secret.yaml", path.join(root, "apps", "leak.yaml"));
  const error = await renderFailure({ root, path: "apps" });
  assert.equal(error.code, "path-outside-root");
  assert.equal(error.file, "apps/leak.yaml");
});

test("files fjord does not render are named in a warning", async (t) => {
  const root = await mkdtemp(path.join(tmpdir(), "fjord-render-unread-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const files: Record<string, string> = {
    "app/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n",
    "app/main.jsonnet": "local lib = import 'lib.libsonnet'; lib\n",
    "app/lib.libsonnet": "{}\n",
    "app/web/deploy.yml.tmpl": "kind: {{ .Kind }}\n",
    "app/README.md": "# documentation is not a manifest\n",
    "app/.hidden.jsonnet": "{}\n",
    "app/vendor/skipped.jsonnet": "{}\n",
  };
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), text);
  }
  const warnings: RenderWarning[] = [];
  const objects = await render({ root, path: "app", ignore: ["vendor/"], onWarning: (warning) => warnings.push(warning) });
  assert.deepEqual(summary(objects), ["ConfigMap/settings app/config.yaml:1"]);
  assert.deepEqual(warnings, [
    {
      code: "files-not-rendered",
      file: "app",
      message:
        "3 files in app are not rendered (a plain directory is read for .yaml, .yml and .json files only): app/lib.libsonnet, app/main.jsonnet, app/web/deploy.yml.tmpl; " +
        "commit their output as YAML, use a kustomization or chart, or add them to the ignore patterns",
    },
  ]);

  const none: RenderWarning[] = [];
  await render({ root: path.join(fixtures, "plain"), path: "apps", onWarning: (warning) => none.push(warning) });
  assert.deepEqual(none, [], "a directory of manifests and notes.md has nothing to warn about");
});

test("attack: a file name with terminal escapes and line breaks is shown escaped in the warning", async (t) => {
  const root = await mkdtemp(path.join(tmpdir(), "fjord-render-hostile-name-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  await writeFile(path.join(root, "evil\u001b[2K\rsynced: all good\n.jsonnet"), "{}\n");
  const warnings: RenderWarning[] = [];
  assert.deepEqual(await render({ root, path: ".", onWarning: (warning) => warnings.push(warning) }), []);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!.message, /evil\\u001b\[2K\\u000dsynced: all good\\u000a\.jsonnet/);
  assert.ok(![...warnings[0]!.message].some((character) => character < " "), "no control character reaches a terminal or a status");
});
