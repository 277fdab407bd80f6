import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { applyImagePolicies } from "./apply-policies.ts";
import { findFluxV1Automations } from "./flux-v1.ts";
import { migrateFluxV1 } from "./migrate-flux-v1.ts";

const fixtures = path.resolve(import.meta.dirname, "../../../test/fixtures/image-update");

test("annotations become markers plus ImageRepositories and ImagePolicies", async () => {
  const text = await readFile(path.join(fixtures, "flux-v1-workloads.yaml"), "utf8");
  const result = migrateFluxV1([{ path: "workloads.yaml", text }], { namespace: "shop" });
  assert.deepEqual(result.errors, []);
  const edited = result.files[0]?.text ?? "";
  // No Flux v1 automation is left; other annotations and comments are.
  assert.deepEqual(findFluxV1Automations([{ path: "w.yaml", text: edited }]).containers, []);
  assert.ok(!/automated|tag-glob|flux\.weave\.works/.test(edited));
  // The one workload that was never automated keeps its annotation.
  assert.equal(edited.split("fluxcd.io/tag.app: glob:*").length, 2);
  assert.match(edited, /    team: shop   # not Flux\n/);
  assert.match(edited, /image: registry\.example\/shop\/web:master-a1b2c3d-1700000000 # \{"\$imagepolicy": "shop:web-app"\}\n/);
  assert.match(edited, /image: registry\.example\/shop\/metrics:1\.2\.3 # \{"\$imagepolicy": "shop:web-metrics"\}\n/);
  assert.match(edited, /image: registry\.example\/report:2024\.01\.01 # \{"\$imagepolicy": "shop:report"\}\n/);
  // The StatefulSet had only Flux annotations: the key goes with them.
  const statefulSet = parseAllDocuments(edited)[1]?.toJS() as { metadata: Record<string, unknown> };
  assert.deepEqual(statefulSet.metadata, { name: "db" });
  assert.ok(result.notes.some((note) => note.includes('"# exporter"')));

  const objects = new Map(result.created.map((file) => [file.path, parse(file.text) as { apiVersion: string; kind: string; metadata: { name: string; namespace: string }; spec: Record<string, unknown> }]));
  const byName = (kind: string, name: string) => [...objects.values()].find((object) => object.kind === kind && object.metadata.name === name);
  for (const object of objects.values()) {
    assert.equal(object.apiVersion, "fjord.dev/v1alpha1");
    assert.equal(object.metadata.namespace, "shop");
  }
  assert.deepEqual(byName("ImageRepository", "web")?.spec, { image: "registry.example/shop/web", interval: "5m", secretRef: { name: "regcred" } });
  assert.deepEqual(byName("ImagePolicy", "web-app")?.spec, {
    imageRepositoryRef: { name: "web" },
    policy: { numerical: { order: "asc" } },
    filterTags: { pattern: "^master-.*[-_.](?P<ts>[0-9]{10,})$", extract: "$ts" },
  });
  assert.deepEqual(byName("ImagePolicy", "web-metrics")?.spec, { imageRepositoryRef: { name: "metrics" }, policy: { semver: { range: "~1.2" } } });
  assert.deepEqual(byName("ImagePolicy", "db")?.spec, { imageRepositoryRef: { name: "db" }, policy: { alphabetical: { order: "asc" } }, filterTags: { pattern: "^v[0-9]+$" } });
  assert.deepEqual(byName("ImagePolicy", "agent-init")?.spec, { imageRepositoryRef: { name: "init" }, policy: { alphabetical: { order: "asc" } }, filterTags: { pattern: "^master-.*$" } });
  assert.deepEqual(byName("ImagePolicy", "report")?.spec, { imageRepositoryRef: { name: "report" }, policy: { alphabetical: { order: "asc" } } });
  assert.equal(result.migrated.length, 6);
  assert.ok([...objects.keys()].every((file) => file.startsWith("image-automation/")));

  // The markers written are ones the policy updater reads.
  const policies = new Map(result.migrated.map((entry) => [entry.policy, { image: "registry.example/new", tag: "9" }]));
  const updated = applyImagePolicies([{ path: "workloads.yaml", text: edited }], policies);
  assert.deepEqual(updated.errors, []);
  assert.equal(updated.changes.length, 6);
});

test("locked workloads are left alone; a workload's own namespace is the default", () => {
  const text = "kind: Deployment\nmetadata:\n  name: x\n  namespace: apps\n  annotations:\n    fluxcd.io/automated: 'true'\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n        image: a:1\n---\nkind: Deployment\nmetadata:\n  name: y\n  annotations:\n    fluxcd.io/automated: 'true'\n    fluxcd.io/locked: 'true'\nspec:\n  template:\n    spec:\n      containers:\n      - name: b\n        image: b:1\n";
  const result = migrateFluxV1([{ path: "d.yaml", text }]);
  assert.deepEqual(result.migrated.map((entry) => entry.policy), ["apps:x-a"]);
  assert.ok(result.notes.some((note) => note.includes("locked")));
  const edited = result.files[0]?.text ?? "";
  assert.match(edited, /fluxcd\.io\/locked/);
  assert.match(edited, /image: a:1 # \{"\$imagepolicy": "apps:x-a"\}/);
});
