/**
 * Fuzzing how a plain manifest file from Git becomes Kubernetes objects (yaml-stream.ts, then
 * manifest-objects.ts: Lists flattened, non-objects refused). Properties (testenv/fuzz.ts):
 * only RenderError naming the file, in bounded time and memory; and every object it returns
 * has a string apiVersion and kind and a place in the file.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { hostileString, hostileYaml } from "../../testenv/fuzz-arbitraries.ts";
import { fuzz } from "../../testenv/fuzz.ts";
import type { RenderedObject } from "../model/object.ts";
import { RenderError } from "./errors.ts";
import { objectsFromDocuments, type DocumentOrigin } from "./manifest-objects.ts";
import { parseYamlStream } from "./yaml-stream.ts";

const origin: DocumentOrigin = { file: "apps/x.yaml", linesRefer: true, notAnObjectFix: "add apiVersion and kind" };

const objectShaped = fc
  .record({ apiVersion: fc.oneof({ weight: 4, arbitrary: fc.constantFrom("v1", "apps/v1") }, fc.constantFrom("", "v1/x/y"), hostileString, fc.integer()), kind: fc.oneof({ weight: 4, arbitrary: fc.constantFrom("ConfigMap", "List", "Secret", "ConfigMapList") }, hostileString, fc.constant(null)), metadata: fc.oneof({ weight: 4, arbitrary: fc.record({ name: fc.oneof(fc.constantFrom("a", "b"), hostileString) }) }, fc.constant("x"), fc.constant([])), items: fc.array(fc.jsonValue(), { maxLength: 3 }) }, { requiredKeys: ["apiVersion", "kind"] })
  .map((object) => JSON.stringify(object));

test("plain manifests to objects: only RenderError; every object has apiVersion and kind", async (t) => {
  await fuzz(t, {
    name: "objectsFromDocuments (src/render/manifest-objects.ts)",
    arbitrary: fc.oneof(objectShaped, fc.array(objectShaped, { minLength: 2, maxLength: 4 }).map((docs) => docs.join("\n---\n")), hostileYaml(["apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n  - kind: Secret\n"])),
    allowed: [RenderError],
    run: (text) => objectsFromDocuments(parseYamlStream(text, { file: origin.file }), origin),
    check: (result) => {
      for (const object of result as RenderedObject[]) {
        const { apiVersion, kind } = object.object as { apiVersion?: unknown; kind?: unknown };
        assert.ok(typeof apiVersion === "string" && apiVersion !== "" && typeof kind === "string" && kind !== "", `an object without apiVersion or kind: ${JSON.stringify(object.object).slice(0, 200)}`);
      }
    },
    checkError: (error) => assert.equal((error as RenderError).file, origin.file),
  });
});
