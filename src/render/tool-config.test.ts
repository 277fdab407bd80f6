import assert from "node:assert/strict";
import { test } from "node:test";
import { RenderError } from "./errors.ts";
import { CHART_METADATA, KUSTOMIZATION } from "./tool-config-shapes.ts";
import { goFold, MAX_TOOL_CONFIG_BYTES, readToolConfig, type ToolConfigKind } from "./tool-config.ts";

function read(text: string | Uint8Array, kind: ToolConfigKind = KUSTOMIZATION): unknown {
  return readToolConfig(typeof text === "string" ? Buffer.from(text) : text, "app/kustomization.yaml", kind);
}

function refusal(text: string | Uint8Array, kind: ToolConfigKind = KUSTOMIZATION): RenderError {
  try {
    read(text, kind);
  } catch (error) {
    assert.ok(error instanceof RenderError, String(error));
    assert.equal(error.code, "tool-config");
    assert.equal(error.file, "app/kustomization.yaml");
    return error;
  }
  assert.fail(`accepted: ${JSON.stringify(text)}`);
}

test("an ordinary kustomization reads as plain JSON", () => {
  const text = [
    "apiVersion: kustomize.config.k8s.io/v1beta1",
    "kind: Kustomization",
    "namespace: shop",
    "resources:",
    "  - ../base",
    "  - 'service.yaml'",
    "commonLabels:",
    "  app.kubernetes.io/Name: web",
    "  Resources: any-label-key-is-fine",
    "patches:",
    "  - path: patch.yaml",
    "    target: {kind: Deployment, name: web}",
    "  - patch: |",
    "      - op: replace",
    "        path: /spec/replicas",
    "        value: 3",
    "replicas:",
    "  - name: web",
    "    count: 2",
    "",
  ].join("\n");
  assert.deepEqual(read(text), {
    apiVersion: "kustomize.config.k8s.io/v1beta1",
    kind: "Kustomization",
    namespace: "shop",
    resources: ["../base", "service.yaml"],
    commonLabels: { "app.kubernetes.io/Name": "web", Resources: "any-label-key-is-fine" },
    patches: [{ path: "patch.yaml", target: { kind: "Deployment", name: "web" } }, { patch: "- op: replace\n  path: /spec/replicas\n  value: 3\n" }],
    replicas: [{ name: "web", count: 2 }],
  });
  assert.equal(read(""), null);
  assert.equal(read("# only a comment\n"), null);
  assert.equal(read("---\n"), null);
});

test("keys Go's encoding/json would fold onto a field are refused, naming the field to write", () => {
  for (const [text, key, field] of [
    ["Resources:\n- ../../other\n", "Resources", "resources"],
    ["RESOURCES: []\n", "RESOURCES", "resources"],
    ["re\u017fources:\n- ../../other\n", "re\\u017fources", "resources"],
    ["\u212aind: Kustomization\n", "\\u212aind", "kind"],
    ["patches:\n- Path: /etc/passwd\n", "Path", "path"],
    ["configMapGenerator:\n- name: x\n  Files: [/etc/passwd]\n", "Files", "files"],
    ["helmGlobals:\n  chartHOME: /\n", "chartHOME", "chartHome"],
  ] as const) {
    const error = refusal(text);
    assert.ok(error.message.includes(`key "${key}"`), error.message);
    assert.ok(error.message.includes(`fix: write \`${field}\``), error.message);
  }
});

test("folding follows Go: ASCII case, long s and the Kelvin sign, nothing else", () => {
  assert.equal(goFold("ReSources"), "resources");
  assert.equal(goFold("re\u017fources"), "resources");
  assert.equal(goFold("\u212aind"), "kind");
  // Dotless i and the Turkish capital I do not fold to ASCII i under simple folding.
  assert.notEqual(goFold("\u0131mages"), "images");
  assert.notEqual(goFold("\u0130mages"), "images");
});

test("merge keys, anchors, aliases and tags are refused", () => {
  assert.match(refusal("resources: [base]\n<<: {resources: [../../x]}\n").message, /:2:1: merge key << at the top level/);
  assert.match(refusal('"<<": {resources: [x]}\n').message, /merge key <</);
  assert.match(refusal("resources: &r [base]\ncomponents: *r\n").message, /anchor &r under resources/);
  assert.match(refusal("resources: !!seq [base]\n").message, /explicit tag/);
  assert.match(refusal("resources:\n- !custom base\n").message, /explicit tag/);
  assert.match(refusal("namePrefix: !!str x\n").message, /explicit tag/);
});

test("a Chart.yaml name hidden behind a merge key is refused (attack 1's file)", () => {
  const error = refusal('name: "--post-renderer=chart/pwn.sh"\n<<: {name: mychart}\nversion: 1.0.0\n', CHART_METADATA);
  assert.match(error.message, /merge key <</);
  assert.equal(error.message.includes("pwn"), false);
});

test("duplicate and non-string keys are refused", () => {
  assert.match(refusal("resources: [a]\nresources: [b]\n").message, /:2:1: key "resources" appears twice/);
  assert.match(refusal('resources: [a]\n"resources": [b]\n').message, /appears twice/);
  assert.match(refusal("commonLabels:\n  on: x\n").message, /key "on" under commonLabels is read as a boolean/);
  assert.match(refusal("commonLabels:\n  8080: x\n").message, /is read as a number/);
  assert.match(refusal("commonLabels:\n  ~: x\n").message, /is read as null/);
  assert.match(refusal("? [a, b]\n: x\n").message, /is not a plain string/);
  // Quoted, they are strings to both readers.
  assert.deepEqual(read('commonLabels:\n  "on": x\n  "8080": z\n'), { commonLabels: { on: "x", "8080": "z" } });
});

test("unknown top-level kustomization fields are refused; unknown Chart.yaml fields are not", () => {
  assert.match(refusal("resourcez: [a]\n").message, /unknown field "resourcez" at the top level: kustomize does not know it/);
  assert.deepEqual(read("name: shop\nx-team: web\ndescription: a\n  long text\n", CHART_METADATA), { name: "shop", "x-team": "web", description: "a long text" });
  assert.match(refusal("name: shop\nNAME: other\n", CHART_METADATA).message, /key "NAME" at the top level is not "name", but helm would read it as "name"/);
});

test("directives, several documents, non-mappings, multi-line flow scalars and bad UTF-8 are refused", () => {
  assert.match(refusal("%YAML 1.1\n---\nresources: [a]\n").message, /YAML directive %YAML 1\.1/);
  assert.match(refusal("%TAG ! tag:example.com,2000:\n---\nresources: [a]\n").message, /YAML directive/);
  assert.match(refusal("resources: [a]\n---\nresources: [../../x]\n").message, /holds more than one YAML document; kustomize reads only the first/);
  assert.match(refusal("---\n---\nresources: [../../x]\n").message, /holds more than one YAML document/);
  assert.deepEqual(read("---\nresources: [a]\n---\n# the end\n"), { resources: ["a"] });
  assert.match(refusal("- a\n").message, /must hold a mapping/);
  assert.match(refusal("resources:\n- '../\n  ../x'\n").message, /:2:3: a value under resources\[0\] spans several lines/);
  assert.match(refusal(Buffer.from([0x72, 0x3a, 0x20, 0xff, 0x0a])).message, /not valid UTF-8/);
  assert.match(refusal(Buffer.from("\ufeffresources: []\n", "utf16le")).message, /not valid UTF-8/);
  assert.match(refusal("resources: [a\n").message, /malformed YAML/);
});

test("files over the size limit are refused before parsing", () => {
  const big = Buffer.alloc(MAX_TOOL_CONFIG_BYTES + 1, 0x20);
  assert.match(refusal(big).message, new RegExp(`at most ${MAX_TOOL_CONFIG_BYTES} bytes`));
});

test("fuzz-found: a file nested too deep for the parser's recursion is refused, not a stack overflow", () => {
  // Counterexample of tool-config's pre-pass for directives, which parsed the whole file unbounded.
  const error = refusal(`${": ".repeat(1900)}a: b\nc: d\n`);
  assert.match(error.message, /nested deeper than 200 levels/);
});
