import assert from "node:assert/strict";
import { test } from "node:test";
import { kustomizationReferences } from "./kustomization-references.ts";

test("every field that loads a path or URL is found", () => {
  const references = kustomizationReferences({
    resources: ["../base", "cm.yaml"],
    bases: ["../old-base"],
    components: ["../components/monitoring"],
    generators: ["gen.yaml", "apiVersion: builtin\nkind: ConfigMapGenerator\n"],
    transformers: ["labels.yaml"],
    validators: ["check.yaml"],
    crds: ["crd.json"],
    configurations: ["config.yaml"],
    patchesStrategicMerge: ["psm.yaml", "apiVersion: v1\nkind: ConfigMap\n"],
    patches: [{ path: "patch.yaml" }, { patch: "inline" }],
    patchesJson6902: [{ path: "json.yaml" }],
    replacements: [{ path: "replace.yaml" }],
    configMapGenerator: [{ files: ["app.conf", "key=other.conf"], envs: ["a.env"], env: "b.env" }],
    secretGenerator: [{ files: ["https://example.com/secret.txt"] }],
    openapi: { path: "schema.json" },
    helmCharts: [{ repo: "oci://registry.example.com/charts" }],
    helmGlobals: { chartHome: "charts" },
    namePrefix: "not-a-path-",
  });
  assert.deepEqual(
    references.map((reference) => `${reference.kind} ${reference.field} ${reference.value}`),
    [
      "base resources ../base",
      "base resources cm.yaml",
      "base bases ../old-base",
      "base components ../components/monitoring",
      "base generators gen.yaml",
      "base transformers labels.yaml",
      "base validators check.yaml",
      "file crds crd.json",
      "file configurations config.yaml",
      "file patchesStrategicMerge psm.yaml",
      "file patches.path patch.yaml",
      "file patchesJson6902.path json.yaml",
      "file replacements.path replace.yaml",
      "file configMapGenerator.files app.conf",
      "file configMapGenerator.files other.conf",
      "file configMapGenerator.envs a.env",
      "file configMapGenerator.env b.env",
      "file secretGenerator.files https://example.com/secret.txt",
      "file openapi.path schema.json",
      "file helmCharts.repo oci://registry.example.com/charts",
      "file helmGlobals.chartHome charts",
    ],
  );
});

test("anything that is not a kustomization has no references", () => {
  assert.deepEqual(kustomizationReferences(null), []);
  assert.deepEqual(kustomizationReferences(["a"]), []);
  assert.deepEqual(kustomizationReferences({ resources: "not-a-list" }), []);
});
