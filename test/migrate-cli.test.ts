// `fjord migrate flux-v1` on a directory of real files; the output is read back and checked.

import assert from "node:assert/strict";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { applyImagePolicies, findFluxV1Automations } from "../src/image/update/index.ts";
import { runFjord } from "./support/cli.ts";

const fixtures = join(import.meta.dirname, "fixtures", "image-update");
let scratch: string;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), "fjord-migrate-"));
});
after(() => rm(scratch, { recursive: true, force: true }));

async function workspace(name: string): Promise<string> {
  const dir = join(scratch, name);
  await cp(join(fixtures, "flux-v1-workloads.yaml"), join(dir, "apps", "workloads.yaml"));
  await cp(join(fixtures, "values.yaml"), join(dir, "apps", "values.yaml"));
  return dir;
}

interface ImageObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: Record<string, unknown>;
}

test("converts annotations to markers and writes ImageRepository and ImagePolicy files", async () => {
  const dir = await workspace("convert");
  const original = await readFile(join(dir, "apps", "workloads.yaml"), "utf8");
  const valuesBefore = await readFile(join(dir, "apps", "values.yaml"), "utf8");
  const result = await runFjord(["migrate", "flux-v1", dir, "--namespace", "flux-system"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /converted 6 containers in 1 file; 12 new files under image-automation\n$/);
  assert.match(result.stderr, /note: .*most recently built/);

  const edited = await readFile(join(dir, "apps", "workloads.yaml"), "utf8");
  assert.notEqual(edited, original);
  assert.equal(await readFile(join(dir, "apps", "values.yaml"), "utf8"), valuesBefore);
  assert.equal(findFluxV1Automations([{ path: "w", text: edited }]).containers.length, 0);
  assert.match(edited, /image: registry\.example\/shop\/web:master-a1b2c3d-1700000000 # \{"\$imagepolicy": "flux-system:web-app"\}/);
  assert.match(edited, /# Flux v1 annotated workloads, every form\n/);
  assert.equal(parseAllDocuments(edited).length, 5);

  const generated = (await readdir(join(dir, "image-automation"))).sort();
  const objects: ImageObject[] = await Promise.all(generated.map(async (file) => parse(await readFile(join(dir, "image-automation", file), "utf8")) as ImageObject));
  assert.deepEqual(objects.filter((o) => o.kind === "ImageRepository").map((o) => o.metadata.name).sort(), ["agent", "db", "init", "metrics", "report", "web"]);
  for (const object of objects) {
    assert.equal(object.apiVersion, "fjord.dev/v1alpha1");
    assert.equal(object.metadata.namespace, "flux-system");
  }
  const policies = objects.filter((o) => o.kind === "ImagePolicy");
  assert.equal(policies.length, 6);
  const web = policies.find((p) => p.metadata.name === "web-app");
  assert.deepEqual(web?.spec, { imageRepositoryRef: { name: "web" }, policy: { numerical: { order: "asc" } }, filterTags: { pattern: "^master-.*[-_.](?P<ts>[0-9]{10,})$", extract: "$ts" } });
  // Every policy's repository exists, and the namespaced Secret only goes with its own namespace.
  const repositories = new Set(objects.filter((o) => o.kind === "ImageRepository").map((o) => o.metadata.name));
  for (const policy of policies) assert.ok(repositories.has((policy.spec.imageRepositoryRef as { name: string }).name));
  assert.match(result.stderr, /Secret "regcred" in another namespace/);

  // The markers are what the automation reads.
  const latest = new Map(policies.map((p) => [`flux-system:${p.metadata.name}`, { image: "registry.example/x", tag: "1" }]));
  assert.equal(applyImagePolicies([{ path: "w", text: edited }], latest).changes.length, 6);

  const again = await runFjord(["migrate", "flux-v1", dir]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /no workload .* is automated the Flux v1 way/);
});

test("--dry-run prints the diff and writes nothing", async () => {
  const dir = await workspace("dry");
  const original = await readFile(join(dir, "apps", "workloads.yaml"), "utf8");
  const result = await runFjord(["migrate", "flux-v1", dir, "--dry-run"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /--- a\/apps\/workloads\.yaml\n\+\+\+ b\/apps\/workloads\.yaml\n/);
  assert.match(result.stdout, /\n- {4}fluxcd\.io\/automated: "true"\n/);
  assert.match(result.stdout, /--- \/dev\/null\n\+\+\+ b\/image-automation\/imagepolicy-shop-web-app\.yaml\n/);
  assert.match(result.stdout, /dry run: would convert 6 containers/);
  assert.equal(await readFile(join(dir, "apps", "workloads.yaml"), "utf8"), original);
  assert.deepEqual((await readdir(dir)).sort(), ["apps"]);
});

test("a malformed file among the automated ones: exit 1, named, nothing written", async () => {
  const dir = await workspace("broken");
  await writeFile(join(dir, "apps", "zz.yaml"), 'metadata:\n  annotations:\n    fluxcd.io/automated: "true"\n  bad: [\n');
  const original = await readFile(join(dir, "apps", "workloads.yaml"), "utf8");
  const result = await runFjord(["migrate", "flux-v1", dir]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /apps\/zz\.yaml:\d+: not valid YAML/);
  assert.equal(await readFile(join(dir, "apps", "workloads.yaml"), "utf8"), original);
  assert.deepEqual((await readdir(dir)).sort(), ["apps"]);
});
