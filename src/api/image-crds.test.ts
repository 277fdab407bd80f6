import assert from "node:assert/strict";
import { test } from "node:test";
import { customResourceDefinitions } from "./crds.ts";
import { IMAGE_POLICY_CRD_NAME, IMAGE_REPOSITORY_CRD_NAME, IMAGE_UPDATE_AUTOMATION_CRD_NAME } from "./image-crds.ts";
import { IMAGE_REPOSITORY_DEFAULTS } from "./image-types.ts";

type Schema = { type?: string; properties?: Record<string, Schema>; items?: Schema; additionalProperties?: Schema; default?: unknown };
type Crd = { spec: { names: { shortNames: string[] }; versions: Array<{ schema: { openAPIV3Schema: Schema } }> } };

const crdNamed = (name: string) => customResourceDefinitions().find((candidate) => candidate.metadata.name === name) as unknown as Crd | undefined;

function untypedPaths(schema: Schema, path = ""): string[] {
  const own = schema.type ? [] : [path || "<root>"];
  const properties = Object.entries(schema.properties ?? {}).flatMap(([key, child]) => untypedPaths(child, `${path}.${key}`));
  const items = schema.items ? untypedPaths(schema.items, `${path}[]`) : [];
  const values = schema.additionalProperties ? untypedPaths(schema.additionalProperties, `${path}{}`) : [];
  return [...own, ...properties, ...items, ...values];
}

test("the image kinds are registered with the other CRDs, structurally typed, with short names that do not clash with Flux's", () => {
  const flux = new Set(["imagerepo", "imagepolicy", "imageupdateauto", "imgrepo", "imgpol", "imgupd"]);
  for (const name of [IMAGE_REPOSITORY_CRD_NAME, IMAGE_POLICY_CRD_NAME, IMAGE_UPDATE_AUTOMATION_CRD_NAME]) {
    const crd = crdNamed(name);
    assert.ok(crd, name);
    assert.deepEqual(untypedPaths(crd.spec.versions[0]!.schema.openAPIV3Schema), [], name);
    for (const shortName of crd.spec.names.shortNames) assert.ok(!flux.has(shortName), shortName);
  }
});

test("ImageRepository defaults are the documented ones", () => {
  const spec = crdNamed(IMAGE_REPOSITORY_CRD_NAME)!.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!.properties!;
  for (const [field, value] of Object.entries(IMAGE_REPOSITORY_DEFAULTS)) assert.equal(spec[field]?.default, value, field);
});
