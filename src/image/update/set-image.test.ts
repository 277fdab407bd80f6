import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { parseImageSetting, setImages, ImageSettingError } from "./set-image.ts";

const fixtures = path.resolve(import.meta.dirname, "../../../test/fixtures/image-update");

test("--image forms as kustomize edit set image takes them", () => {
  assert.deepEqual(parseImageSetting("myapp=registry.example/myapp:1.2.3"), { name: "myapp", newName: "registry.example/myapp", newTag: "1.2.3", spec: "myapp=registry.example/myapp:1.2.3" });
  assert.deepEqual(parseImageSetting(`myapp=registry.example:5000/myapp@sha256:${"c".repeat(64)}`), { name: "myapp", newName: "registry.example:5000/myapp", digest: `sha256:${"c".repeat(64)}`, spec: `myapp=registry.example:5000/myapp@sha256:${"c".repeat(64)}` });
  assert.deepEqual(parseImageSetting("registry.example:5000/myapp:2"), { name: "registry.example:5000/myapp", newTag: "2", spec: "registry.example:5000/myapp:2" });
  assert.deepEqual(parseImageSetting("myapp=other/app"), { name: "myapp", newName: "other/app", spec: "myapp=other/app" });
  for (const bad of ["myapp", "=x:1", "my app:1", "myapp:bad tag", "myapp@sha256:short"]) assert.throws(() => parseImageSetting(bad), ImageSettingError, bad);
});

test("a kustomization's images: entry is updated in place, only the tag line changes", async () => {
  const text = await readFile(path.join(fixtures, "kustomization.yaml"), "utf8");
  const result = setImages([{ path: "overlays/prod/kustomization.yaml", text }], [parseImageSetting("app=registry.example/team/app:1.1.0")], { kustomization: "overlays/prod/kustomization.yaml" });
  assert.deepEqual(result.errors, []);
  const edited = result.files[0]?.text ?? "";
  assert.equal(edited, text.replace('newTag: "1.0.0"', 'newTag: "1.1.0"'));
  assert.deepEqual(result.changes, [{ file: "overlays/prod/kustomization.yaml", line: 12, old: "1.0.0", new: "1.1.0", policy: "app=registry.example/team/app:1.1.0", field: "newTag" }]);
});

test("a new tag drops an old digest; a missing field is added at the entry's indentation", async () => {
  const text = await readFile(path.join(fixtures, "kustomization.yaml"), "utf8");
  const result = setImages([{ path: "k.yaml", text }], [parseImageSetting("worker=registry.example/worker:2.1.0")], { kustomization: "k.yaml" });
  assert.deepEqual(result.errors, []);
  const edited = result.files[0]?.text ?? "";
  const images = (parse(edited) as { images: Record<string, string>[] }).images;
  assert.deepEqual(images[1], { name: "worker", newTag: "2.1.0", newName: "registry.example/worker" });
  assert.match(edited, /\n    newTag: 2\.1\.0\n    newName: registry\.example\/worker\n$/);
  assert.ok(!edited.includes("digest:"));
});

test("an image with no entry gets one; a kustomization without images: gets the list", () => {
  const withList = "resources:\n- deploy.yaml\nimages:\n- name: a\n  newTag: \"1\"\n# trailing comment\n";
  const added = setImages([{ path: "k.yaml", text: withList }], [parseImageSetting("b=reg/b:2.0")], { kustomization: "k.yaml" });
  assert.equal(added.files[0]?.text, "resources:\n- deploy.yaml\nimages:\n- name: a\n  newTag: \"1\"\n- name: b\n  newName: reg/b\n  newTag: \"2.0\"\n# trailing comment\n");
  const without = setImages([{ path: "k.yaml", text: "resources:\n  - deploy.yaml" }], [parseImageSetting("b:3")], { kustomization: "k.yaml" });
  assert.equal(without.files[0]?.text, "resources:\n  - deploy.yaml\nimages:\n- name: b\n  newTag: \"3\"\n");
  const flow = setImages([{ path: "k.yaml", text: "images: []\n" }], [parseImageSetting("b:v3")], { kustomization: "k.yaml" });
  assert.equal(flow.files[0]?.text, "images: [{name: b, newTag: v3}]\n");
  const empty = setImages([{ path: "k.yaml", text: "images:\nresources: []\n" }], [parseImageSetting("b:v3")], { kustomization: "k.yaml" });
  assert.equal(empty.files[0]?.text, "images:\n- name: b\n  newTag: v3\nresources: []\n");
});

test("plain YAML: matching container images change, others and comments stay", async () => {
  const text = await readFile(path.join(fixtures, "commented-deployment.yaml"), "utf8");
  const result = setImages([{ path: "deploy.yaml", text }], [parseImageSetting("registry.example/payments/app:1.4.3")]);
  assert.deepEqual(result.errors, []);
  assert.equal(result.files[0]?.text, text.replace("payments/app:1.4.2", "payments/app:1.4.3"));
  assert.deepEqual(result.changes.map((change) => [change.line, change.old, change.new]), [[29, "registry.example/payments/app:1.4.2", "registry.example/payments/app:1.4.3"]]);
});

test("plain YAML: name=newName:tag matches the name or the new name; unmatched images and bad files are errors", () => {
  const text = "kind: Pod\nspec:\n  initContainers:\n  - name: init\n    image: myapp:old\n  containers:\n  - name: a\n    image: registry.example/myapp:1@sha256:" + "d".repeat(64) + "\n";
  const result = setImages([{ path: "pod.yaml", text }], [parseImageSetting("myapp=registry.example/myapp:2")]);
  assert.deepEqual(result.errors, []);
  assert.equal(result.changes.length, 2);
  assert.match(result.files[0]?.text ?? "", /image: registry\.example\/myapp:2\n.*\n.*\n.*image: registry\.example\/myapp:2\n$/);
  const missing = setImages([{ path: "pod.yaml", text }], [parseImageSetting("other:1")]);
  assert.match(missing.errors[0]?.message ?? "", /no container image named "other" found/);
  const broken = setImages([{ path: "pod.yaml", text }, { path: "bad.yaml", text: "a: [\n" }], [parseImageSetting("myapp:3")]);
  assert.deepEqual(broken.errors.map((error) => error.file), ["bad.yaml"]);
});

test("fuzz-found: a kustomization with more than 100 aliases, or an alias with no anchor, is an error in the result, not a ReferenceError", () => {
  // Counterexample of update.fuzz.test.ts: re-reading the edited kustomization used the yaml
  // package's default alias limit (100), below fjord's, and did not catch conversion errors.
  const bomb = "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\nl1: &l1 [*l0, *l0, *l0, *l0]\nl2: &l2 [*l1, *l1, *l1, *l1]\nl3: &l3 [*l2, *l2, *l2, *l2]\n";
  const edited = setImages([{ path: "kustomization.yaml", text: bomb }], [parseImageSetting("nginx=nginx:1.25")], { kustomization: "kustomization.yaml" });
  assert.deepEqual(edited.errors, []);
  assert.match(edited.files[0]?.text ?? "", /newTag: "?1\.25"?/);
  const unresolved = "images:\n  - name: nginx\n    newTag: \"1.0\"\n  - <<: *nope\n";
  const refused = setImages([{ path: "kustomization.yaml", text: unresolved }], [parseImageSetting("nginx=nginx:1.25")], { kustomization: "kustomization.yaml" });
  assert.equal(refused.errors.length, 1);
  assert.match(refused.errors[0]?.message ?? "", /cannot be read after the edit \(.*alias/);
});
