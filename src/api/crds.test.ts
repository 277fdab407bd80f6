import assert from "node:assert/strict";
import { test } from "node:test";
import { APPLICATION_CRD_NAME, customResourceDefinitions, GIT_REPOSITORY_CRD_NAME } from "./crds.ts";
import { APPLICATION_DEFAULTS, GIT_REPOSITORY_DEFAULTS, HISTORY_LIMIT, VERSION } from "./types.ts";

type Schema = { type?: string; properties?: Record<string, Schema>; items?: Schema; default?: unknown; maxItems?: number };

function schemaOf(crdName: string): Schema {
  const crd = customResourceDefinitions().find((candidate) => candidate.metadata.name === crdName);
  assert.ok(crd, crdName);
  const versions = (crd.spec as { versions: Array<{ name: string; schema: { openAPIV3Schema: Schema } }> }).versions;
  const [version] = versions;
  assert.equal(version?.name, VERSION);
  return version.schema.openAPIV3Schema;
}

/** Structural schemas need a type on every node; the API server would refuse the CRD otherwise. */
function untypedPaths(schema: Schema, path = ""): string[] {
  const own = schema.type ? [] : [path || "<root>"];
  const properties = Object.entries(schema.properties ?? {}).flatMap(([key, child]) => untypedPaths(child, `${path}.${key}`));
  const items = schema.items ? untypedPaths(schema.items, `${path}[]`) : [];
  return [...own, ...properties, ...items];
}

test("every schema node has a type", () => {
  for (const name of [GIT_REPOSITORY_CRD_NAME, APPLICATION_CRD_NAME]) assert.deepEqual(untypedPaths(schemaOf(name)), [], name);
});

test("schema defaults are the documented defaults", () => {
  const gitSpec = schemaOf(GIT_REPOSITORY_CRD_NAME).properties!.spec!.properties!;
  for (const [field, value] of Object.entries(GIT_REPOSITORY_DEFAULTS)) assert.equal(gitSpec[field]?.default, value, field);
  const appSpec = schemaOf(APPLICATION_CRD_NAME).properties!.spec!.properties!;
  for (const [field, value] of Object.entries(APPLICATION_DEFAULTS)) assert.equal(appSpec[field]?.default, value, field);
});

test("the history is bounded by HISTORY_LIMIT", () => {
  assert.equal(schemaOf(APPLICATION_CRD_NAME).properties!.status!.properties!.history!.maxItems, HISTORY_LIMIT);
});
