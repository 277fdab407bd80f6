/**
 * Fuzzing the strict reader of Chart.yaml and kustomizations (tool-config.ts), the files fjord
 * and helm or kustomize both read. Properties (testenv/fuzz.ts): only RenderError naming the
 * file, in bounded time and memory; and what it accepts is plain JSON in which no key is one Go
 * would fold onto a field under another spelling, and no merge key survives.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { stringify } from "yaml";
import { hostileString, hostileYaml, mutated } from "../../testenv/fuzz-arbitraries.ts";
import { fuzz } from "../../testenv/fuzz.ts";
import { RenderError } from "./errors.ts";
import { kustomizationReferences } from "./kustomization-references.ts";
import { CHART_METADATA, KUSTOMIZATION } from "./tool-config-shapes.ts";
import { goFold, readToolConfig, type ToolConfigKind } from "./tool-config.ts";

const KUSTOMIZATION_SEEDS = [
  "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: shop\nresources:\n  - ../base\n  - cm.yaml\npatches:\n  - path: patch.yaml\n    target: {kind: Deployment}\nconfigMapGenerator:\n  - name: cfg\n    files: [app.conf, key=other.conf]\n",
  "resources: [a, b]\ncomponents:\n  - ../c\nhelmCharts:\n  - name: x\n    repo: oci://r\n    valuesFile: v.yaml\nimages:\n  - name: nginx\n    newTag: '1.25'\n",
];
const CHART_SEEDS = [
  "apiVersion: v2\nname: mychart\nversion: 0.1.0\nappVersion: \"1.0\"\ndependencies:\n  - name: redis\n    version: 1.x\n    repository: https://charts.example\n",
  "apiVersion: v2\nname: &n mychart\nversion: 1.0.0\n<<: {name: x}\nmaintainers:\n  - {name: a, email: a@b}\n",
];

/** Objects with the tools' field names, their folded look-alikes and hostile values, written out as YAML or JSON. */
const fieldName = fc.constantFrom("resources", "Resources", "re\u017fources", "RESOURCES", "bases", "components", "patches", "name", "\u212aind", "kind", "version", "dependencies", "helmCharts", "openapi", "<<", "namePrefix", "x-extra");
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof({ depthSize: "small" }, hostileString, fc.integer(), fc.boolean(), fc.constant(null), fc.array(tie("v"), { maxLength: 3 }), fc.dictionary(fieldName, tie("v"), { maxKeys: 3 })),
})).v;
const structured = fc.tuple(fc.dictionary(fieldName, value, { maxKeys: 6 }), fc.boolean()).map(([object, json]) => (json ? JSON.stringify(object) : stringify(object)));

function toolConfigText(seeds: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(hostileYaml(seeds), structured, mutated(structured, 2));
}

function checkAccepted(kind: ToolConfigKind, result: unknown): void {
  if (result === null) return;
  assert.ok(typeof result === "object" && !Array.isArray(result), "a mapping");
  assert.doesNotThrow(() => JSON.stringify(result), "plain JSON");
  for (const key of Object.keys(result)) {
    assert.notEqual(key, "<<", "a merge key was accepted");
    const fields = kind.shape.kind === "struct" ? Object.keys(kind.shape.fields) : [];
    const meant = fields.find((field) => goFold(field) === goFold(key));
    if (meant !== undefined) assert.equal(key, meant, `"${key}" would be read as ${meant} by ${kind.tool}`);
  }
  // What reads the accepted content next never fails on its shape.
  kustomizationReferences(result);
}

for (const [kind, seeds, file] of [
  [KUSTOMIZATION, KUSTOMIZATION_SEEDS, "app/kustomization.yaml"],
  [CHART_METADATA, CHART_SEEDS, "chart/Chart.yaml"],
] as const) {
  test(`readToolConfig (${kind.tool}): only RenderError; what it accepts has one meaning`, async (t) => {
    await fuzz(t, {
      name: `readToolConfig ${file} (src/render/tool-config.ts)`,
      arbitrary: toolConfigText(seeds),
      allowed: [RenderError],
      run: (text) => readToolConfig(Buffer.from(text, "utf8"), file, kind),
      check: (result) => checkAccepted(kind, result),
      checkError: (error) => assert.equal((error as RenderError).file, file),
    });
  });
}

test("readToolConfig: bytes that are not UTF-8 are refused, never misread", async (t) => {
  await fuzz(t, {
    name: "readToolConfig raw bytes (src/render/tool-config.ts)",
    arbitrary: fc.uint8Array({ maxLength: 2000 }),
    allowed: [RenderError],
    run: (bytes) => readToolConfig(bytes, "app/kustomization.yaml", KUSTOMIZATION),
    check: (result) => checkAccepted(KUSTOMIZATION, result),
  });
});
