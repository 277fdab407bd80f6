import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { structuredPatch } from "diff";
import { parseAllDocuments } from "yaml";
import { applyImagePolicies, type LatestImage, type ManifestFile } from "./apply-policies.ts";
import { formatMarker, parseMarker } from "./markers.ts";

const fixtures = path.resolve(import.meta.dirname, "../../../test/fixtures/image-update");
const fixture = async (name: string): Promise<ManifestFile> => ({ path: `deploy/${name}`, text: await readFile(path.join(fixtures, name), "utf8") });

/** The lines a change removed and added, from a real line diff. */
function changedLines(before: string, after: string): { removed: string[]; added: string[] } {
  const hunks = structuredPatch("a", "b", before, after, "", "", { context: 0 }).hunks;
  const lines = hunks.flatMap((hunk) => hunk.lines);
  return { removed: lines.filter((line) => line.startsWith("-")).map((line) => line.slice(1)), added: lines.filter((line) => line.startsWith("+")).map((line) => line.slice(1)) };
}

test("a heavily commented file changes in exactly the marked line, quoting kept", async () => {
  const file = await fixture("commented-deployment.yaml");
  const policies = new Map<string, LatestImage>([["prod:payments", { image: "registry.example/payments/app", tag: "1.5.0" }]]);
  const result = applyImagePolicies([file], policies);
  assert.deepEqual(result.errors, []);
  const [edited] = result.files;
  assert.ok(edited);
  assert.deepEqual(changedLines(file.text, edited.text), {
    removed: ['                image: "registry.example/payments/app:1.4.2" # {"$imagepolicy": "prod:payments"}'],
    added: ['                image: "registry.example/payments/app:1.5.0" # {"$imagepolicy": "prod:payments"}'],
  });
  assert.equal(edited.text.length, file.text.length);
  assert.deepEqual(result.changes, [
    { file: "deploy/commented-deployment.yaml", line: 29, old: "registry.example/payments/app:1.4.2", new: "registry.example/payments/app:1.5.0", policy: "prod:payments", field: "image" },
  ]);
  // Still the same objects apart from the image.
  const [deployment] = parseAllDocuments(edited.text).map((document) => document.toJS() as { spec: { template: { spec: { containers: { image: string }[] } } } });
  assert.equal(deployment?.spec.template.spec.containers[0]?.image, "registry.example/payments/app:1.5.0");
});

test("kustomization images entries: name, tag and digest markers", async () => {
  const file = await fixture("kustomization.yaml");
  const digest = `sha256:${"a".repeat(64)}`;
  const policies = new Map<string, LatestImage>([
    ["apps:app", { image: "registry.example/team/app2", tag: "1.10" }],
    ["apps:worker", { image: "registry.example/worker", tag: "2.1.0", digest }],
  ]);
  const result = applyImagePolicies([file], policies);
  assert.deepEqual(result.errors, []);
  const text = result.files[0]?.text ?? "";
  const { removed, added } = changedLines(file.text, text);
  assert.equal(removed.length, 3);
  assert.deepEqual(added, [
    '    newName: registry.example/team/app2 # {"$imagepolicy": "apps:app:name"}',
    // Quoted as it was; "1.10" must stay a string.
    '    newTag: "1.10" # {"$imagepolicy": "apps:app:tag"}',
    `    digest: ${digest} # {"$imagepolicy": "apps:worker:digest"}`,
  ]);
  assert.deepEqual(
    result.changes.map((change) => [change.line, change.field, change.new]),
    [
      [11, "name", "registry.example/team/app2"],
      [12, "tag", "1.10"],
      [15, "digest", digest],
    ],
  );
});

test("Helm values: any scalar with a marker, sequence items too", async () => {
  const file = await fixture("values.yaml");
  const policies = new Map<string, LatestImage>([
    ["flux-system:podinfo", { image: "ghcr.io/example/podinfo", tag: "6.1.0" }],
    ["flux-system:helper", { image: "ghcr.io/example/helper", tag: "0.2.0", digest: `sha256:${"b".repeat(64)}` }],
  ]);
  const result = applyImagePolicies([file], policies);
  assert.deepEqual(result.errors, []);
  const { added } = changedLines(file.text, result.files[0]?.text ?? "");
  assert.deepEqual(added, ['  tag: 6.1.0 # {"$imagepolicy": "flux-system:podinfo:tag"}', `  - ghcr.io/example/helper:0.2.0@sha256:${"b".repeat(64)} # {"$imagepolicy": "flux-system:helper"}`]);
});

test("a plain tag that would read as a number is quoted", () => {
  const result = applyImagePolicies([{ path: "v.yaml", text: 'tag: 1.0.0 # {"$imagepolicy": "a:b:tag"}\n' }], new Map([["a:b", { image: "x", tag: "1.10" }]]));
  assert.equal(result.files[0]?.text, 'tag: "1.10" # {"$imagepolicy": "a:b:tag"}\n');
});

test("a marker naming a missing policy is an error with file and line; other markers still apply", () => {
  const text = 'a: x:1 # {"$imagepolicy": "ns:gone"}\nb: y:1 # {"$imagepolicy": "ns:here"}\nc: z # {"$imagepolicy": "broken"}\n';
  const result = applyImagePolicies([{ path: "apps/values.yaml", text }], new Map([["ns:here", { image: "y", tag: "2" }]]));
  assert.deepEqual(result.errors, [
    { file: "apps/values.yaml", line: 1, message: 'marker names image policy "ns:gone", which does not exist' },
    { file: "apps/values.yaml", line: 3, message: result.errors[1]?.message },
  ]);
  assert.match(result.errors[1]?.message ?? "", /malformed image policy marker/);
  assert.equal(result.files[0]?.text, text.replace("y:1", "y:2"));
});

test("a malformed YAML file is left untouched and named", () => {
  const bad = { path: "apps/broken.yaml", text: 'a: x:1 # {"$imagepolicy": "ns:p"}\nb: [unclosed\n' };
  const good = { path: "apps/good.yaml", text: 'image: x:1 # {"$imagepolicy": "ns:p"}\n' };
  const result = applyImagePolicies([bad, good], new Map([["ns:p", { image: "x", tag: "2" }]]));
  assert.deepEqual(result.files.map((file) => file.path), ["apps/good.yaml"]);
  assert.equal(result.errors.length, 1);
  assert.equal(result.errors[0]?.file, "apps/broken.yaml");
  assert.match(result.errors[0]?.message ?? "", /not valid YAML, left untouched/);
  assert.equal(typeof result.errors[0]?.line, "number");
});

test("no change when the image is already the latest", () => {
  const result = applyImagePolicies([{ path: "a.yaml", text: 'image: x:2 # {"$imagepolicy": "ns:p"}\n' }], new Map([["ns:p", { image: "x", tag: "2" }]]));
  assert.deepEqual(result, { files: [], changes: [], errors: [] });
});

test("markers parse and format like Flux's", () => {
  assert.deepEqual(parseMarker(' {"$imagepolicy": "flux-system:podinfo"}'), { policy: "flux-system:podinfo", field: "image" });
  assert.deepEqual(parseMarker('{"$imagepolicy": "ns:p:digest"}'), { policy: "ns:p", field: "digest" });
  assert.equal(parseMarker(" an ordinary comment"), undefined);
  assert.ok(parseMarker('{"$imagepolicy": "ns:p:size"}') && "error" in (parseMarker('{"$imagepolicy": "ns:p:size"}') ?? {}));
  assert.equal(formatMarker("ns:p"), '{"$imagepolicy": "ns:p"}');
  assert.equal(formatMarker("ns:p", "tag"), '{"$imagepolicy": "ns:p:tag"}');
});

test("a large file without markers is only checked, a document at a time; a marked one is held to the limit of one document", () => {
  const bundle = Array.from({ length: 500 }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c${i}\ndata:\n${Array.from({ length: 200 }, (_, k) => `  k${k}: v`).join("\n")}\n`).join("---\n");
  const policies = new Map([["ns:p", { image: "x", tag: "2" }]]);
  const unmarked = applyImagePolicies([{ path: "crds/bundle.yaml", text: bundle }], policies);
  assert.deepEqual(unmarked, { files: [], changes: [], errors: [] }, "about 300,000 tokens in 500 documents are fine when nothing is edited");
  const marked = applyImagePolicies([{ path: "apps/bundle.yaml", text: `${bundle}---\nimage: x:1 # {"$imagepolicy": "ns:p"}\n` }], policies);
  assert.deepEqual(marked.files, []);
  assert.match(marked.errors[0]?.message ?? "", /more than 250,000 YAML tokens .* in one file \(fjord's limit\)/);
});
