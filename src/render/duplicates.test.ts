import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject, RenderedObject } from "../model/object.ts";
import { assertNoDuplicates } from "./duplicates.ts";
import { RenderError } from "./errors.ts";

function rendered(apiVersion: string, kind: string, metadata: KubeObject["metadata"], file: string, line?: number): RenderedObject {
  return { object: { apiVersion, kind, metadata }, source: line === undefined ? { file } : { file, line } };
}

test("same group, kind, namespace and name twice is an error naming both sources", () => {
  const objects = [
    rendered("apps/v1", "Deployment", { name: "web", namespace: "shop" }, "a.yaml", 1),
    rendered("apps/v1beta1", "Deployment", { name: "web", namespace: "shop" }, "b.yaml", 7),
  ];
  assert.throws(
    () => assertNoDuplicates(objects),
    (error: unknown) => {
      assert.ok(error instanceof RenderError);
      assert.equal(error.code, "duplicate");
      assert.equal(error.file, "b.yaml");
      assert.equal(error.line, 7);
      assert.match(error.message, /Deployment\.apps\/shop\/web is defined twice: in a\.yaml:1 and in b\.yaml:7/);
      return true;
    },
  );
});

test("namespaces compare as written; different kinds, groups or namespaces are distinct", () => {
  assertNoDuplicates([
    rendered("v1", "ConfigMap", { name: "x" }, "a.yaml"),
    rendered("v1", "ConfigMap", { name: "x", namespace: "default" }, "b.yaml"),
    rendered("v1", "Secret", { name: "x" }, "c.yaml"),
    rendered("example.com/v1", "ConfigMap", { name: "x" }, "d.yaml"),
  ]);
  assert.throws(() => assertNoDuplicates([rendered("v1", "ConfigMap", { name: "x" }, "a.yaml"), rendered("v1", "ConfigMap", { name: "x" }, "b.yaml")]), /in a\.yaml and in b\.yaml/);
});

test("objects named by generateName have no identity yet", () => {
  assertNoDuplicates([rendered("batch/v1", "Job", { generateName: "migrate-" }, "a.yaml"), rendered("batch/v1", "Job", { generateName: "migrate-" }, "a.yaml")]);
});
