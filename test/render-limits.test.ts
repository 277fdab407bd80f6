/**
 * Issue 13, attacks 6, 9 and 12 against the real renderers: repositories built to exhaust the
 * controller's memory (large files, large tool output, many objects, alias bombs) are refused
 * quickly with an error naming the file and the limit, and errors in secret files never quote
 * them. Limits and their reasons: src/input/limits.ts.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { applyImagePolicies } from "../src/image/update/apply-policies.ts";
import { render, RenderError, type RenderOptions } from "../src/render/render.ts";
import { encryptContent } from "../src/secrets/sops/index.ts";
import { ensureBinaries } from "../testenv/ensure-binaries.ts";

let bins: Record<"helm" | "kustomize", string>;
let work: string;
let counter = 0;

before(async () => {
  bins = await ensureBinaries(["helm", "kustomize"], () => {});
  work = await mkdtemp(path.join(os.tmpdir(), "fjord-render-limits-"));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

const MiB = 1024 * 1024;

/** A repository holding `files`; returns its root. */
async function repository(files: Record<string, string>): Promise<string> {
  const root = path.join(work, `repo-${counter++}`);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  }
  return root;
}

/** ConfigMaps of about `bytes` each, as one YAML stream. */
function configMaps(count: number, bytes = 100, prefix = "cm"): string {
  const filler = "x".repeat(Math.max(0, bytes - 80));
  return Array.from({ length: count }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${prefix}-${i}\ndata:\n  v: "${filler}"\n`).join("---\n");
}

/** Each level aliases the one before ten times: 10^levels values from a few hundred bytes. */
function aliasBomb(levels: number): string {
  const lines = ["apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: bomb", "data:", '  l0: &l0 ["v", "v", "v", "v", "v", "v", "v", "v", "v", "v"]'];
  for (let level = 1; level < levels; level++) lines.push(`  l${level}: &l${level} [${Array(10).fill(`*l${level - 1}`).join(", ")}]`);
  return `${lines.join("\n")}\n`;
}

interface Outcome {
  error: RenderError;
  ms: number;
  heapGrowthMiB: number;
}

/** Renders, expecting a RenderError; measures how long it took and how far the heap grew. */
async function refused(options: RenderOptions): Promise<Outcome> {
  const heap = process.memoryUsage().heapUsed;
  let peak = heap;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 10);
  const started = performance.now();
  try {
    await render({ helmBinary: bins.helm, kustomizeBinary: bins.kustomize, ...options });
  } catch (error) {
    assert.ok(error instanceof RenderError, String(error));
    return { error, ms: performance.now() - started, heapGrowthMiB: (Math.max(peak, process.memoryUsage().heapUsed) - heap) / MiB };
  } finally {
    clearInterval(sampler);
  }
  assert.fail("the render succeeded");
}

function chart(template: string, values = ""): Record<string, string> {
  return { "chart/Chart.yaml": "apiVersion: v2\nname: hostile\nversion: 0.1.0\n", "chart/values.yaml": values, "chart/templates/all.yaml": template };
}

test("attack 9: a manifest file larger than 8 MiB is refused unread, naming it, its size and the limit", async () => {
  const root = await repository({ "apps/small.yaml": configMaps(1), "apps/huge.yaml": configMaps(1, 9 * MiB) });
  const { error, heapGrowthMiB } = await refused({ root, path: "apps" });
  assert.equal(error.code, "limit-exceeded");
  assert.equal(error.file, "apps/huge.yaml");
  assert.match(error.message, /^apps\/huge\.yaml: file is 9 MiB; fjord reads manifest files of at most 8 MiB\n {2}fix: /);
  assert.ok(heapGrowthMiB < 32, `heap grew ${heapGrowthMiB.toFixed(0)} MiB: the file was read`);
});

test("attack 9: plain files that sum to more than 16 MiB are refused before any is read", async () => {
  const files = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`apps/part-${i}.yaml`, configMaps(60, 100 * 1024, `p${i}`)]));
  const root = await repository(files);
  const { error, heapGrowthMiB } = await refused({ root, path: "apps" });
  assert.equal(error.code, "limit-exceeded");
  assert.equal(error.file, "apps");
  assert.match(error.message, /apps is 17\.\d MiB of manifests; fjord renders at most 16 MiB per Application/);
  assert.match(error.message, /fix: split the path into several Applications/);
  assert.ok(heapGrowthMiB < 32, `heap grew ${heapGrowthMiB.toFixed(0)} MiB`);
});

test("attack 9: a chart that prints more than 16 MiB is stopped and refused", async () => {
  // 60 MiB of ConfigMaps (the issue saw 52 MB of helm output grow the controller to 1.1 GB).
  const template = `{{- range $i := until 60000 }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{{ $i }}\ndata:\n  v: {{ $.Values.filler | quote }}\n{{- end }}\n`;
  const root = await repository(chart(template, `filler: ${"x".repeat(1000)}\n`));
  const { error, heapGrowthMiB } = await refused({ root, path: "chart" });
  assert.equal(error.code, "helm-failed");
  assert.equal(error.file, "chart/Chart.yaml");
  assert.match(error.message, /helm template printed more than 16 MiB of manifests, fjord's limit per Application; it was stopped/);
  assert.ok(heapGrowthMiB < 64, `heap grew ${heapGrowthMiB.toFixed(0)} MiB`);
});

test("attack 9: kustomize output over 16 MiB is stopped and refused", async () => {
  const files: Record<string, string> = { "app/kustomization.yaml": `resources:\n${Array.from({ length: 3 }, (_, i) => `  - part-${i}.yaml`).join("\n")}\n` };
  for (let i = 0; i < 3; i++) files[`app/part-${i}.yaml`] = configMaps(60, 100 * 1024, `p${i}`);
  const { error } = await refused({ root: await repository(files), path: "app" });
  assert.equal(error.code, "kustomize-failed");
  assert.match(error.message, /printed more than 16 MiB of manifests, fjord's limit per Application; it was stopped/);
});

test("attack 9: more than 5,000 objects are refused, from files and from a chart", async () => {
  const plain = await refused({ root: await repository({ "apps/many.yaml": configMaps(5001) }), path: "apps" });
  assert.equal(plain.error.code, "limit-exceeded");
  assert.equal(plain.error.file, "apps/many.yaml");
  assert.match(plain.error.message, /more than 5,000 objects \(fjord's limit per Application\)/);
  // 50,000 small objects from one template.
  const template = `{{- range $i := until 50000 }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{{ $i }}\n{{- end }}\n`;
  const helm = await refused({ root: await repository(chart(template)), path: "chart" });
  assert.equal(helm.error.code, "limit-exceeded");
  assert.equal(helm.error.file, "chart/templates/all.yaml");
  assert.match(helm.error.message, /more than 5,000 objects/);
  // Exactly the limit is fine.
  const objects = await render({ root: await repository({ "apps/many.yaml": configMaps(5000) }), path: "apps" });
  assert.equal(objects.length, 5000);
});

test("attack 6: alias bombs are refused at once in plain manifests, helm output, kustomize output and image automation", async () => {
  const plain = await refused({ root: await repository({ "apps/bomb.yaml": aliasBomb(9) }), path: "apps" });
  assert.equal(plain.error.code, "limit-exceeded");
  assert.match(plain.error.message, /^apps\/bomb\.yaml:\d+:\d+: this YAML document grows beyond .* once its aliases are expanded \(fjord's limit\)/);
  assert.ok(plain.ms < 1000 && plain.heapGrowthMiB < 64, `${plain.ms.toFixed(0)} ms, ${plain.heapGrowthMiB.toFixed(0)} MiB`);

  // helm's go-yaml refuses excessive aliasing itself; kustomize's expands it without limit
  // (16 GB in two minutes), so fjord checks what it reads first. Either way the render fails at once.
  for (const options of [
    { root: await repository(chart(aliasBomb(9))), path: "chart" },
    { root: await repository({ "app/kustomization.yaml": "resources:\n  - bomb.yaml\n", "app/bomb.yaml": aliasBomb(9) }), path: "app" },
  ]) {
    const outcome = await refused(options);
    assert.ok(["limit-exceeded", "helm-failed", "kustomize-failed"].includes(outcome.error.code), outcome.error.message);
    assert.ok(outcome.ms < 10_000 && outcome.heapGrowthMiB < 64, `${outcome.error.code}: ${outcome.ms.toFixed(0)} ms, ${outcome.heapGrowthMiB.toFixed(0)} MiB`);
  }

  const started = performance.now();
  const marked = `${aliasBomb(9)}  image: registry.example/app:1 # {"$imagepolicy": "team:app"}\n`;
  const result = applyImagePolicies([{ path: "apps/bomb.yaml", text: marked }], new Map([["team:app", { image: "registry.example/app", tag: "2" }]]));
  assert.ok(performance.now() - started < 1000);
  assert.deepEqual(result.files, [], "left untouched");
  assert.match(result.errors[0]?.message ?? "", /grows beyond .* once its aliases are expanded/);
});

test("attack 12: a YAML error in a Secret never quotes its content (plain file, SOPS file, decrypted file, helm template)", async () => {
  const password = "hunter2-Sesame-9c1f";
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);
  const encrypt = async (text: string) => (await encryptContent(text, { format: "yaml", recipients: [recipient], rules: { encryptedRegex: "^(data|stringData)$" }, fileName: "secret.yaml" })).toString("utf8");
  const valid = await encrypt(`apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: ${password}\n`);
  // A SOPS file that no longer parses (a merge conflict left in it, say).
  const brokenSops = valid.replace(/^(\s+password: )/m, `$1"${password} `);
  // A valid SOPS file (not a Secret) whose plaintext kubectl cannot read: the error is in the
  // decrypted copy, and the value it is about is the secret.
  const pin = "9007199254740993";
  const unreadable = await encrypt(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\ndata:\n  pin: ${pin}\n`);
  const cases: Array<[string, RenderOptions]> = [
    ["plain Secret", { root: await repository({ "apps/secret.yaml": `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: "${password}\n  user: admin\n` }), path: "apps" }],
    ["plain Secret, error before kind", { root: await repository({ "apps/secret.yaml": `stringData:\n  password: ${password}: x\nkind: Secret\n` }), path: "apps" }],
    ["SOPS file", { root: await repository({ "apps/secret.yaml": brokenSops }), path: "apps", decryption: { identities: [identity] } }],
    ["decrypted copy", { root: await repository({ "apps/config.yaml": unreadable }), path: "apps", decryption: { identities: [identity] } }],
    ["helm template", { root: await repository(chart(`apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {{ .Values.password }} x: y\n`, `password: ${password}\n`)), path: "chart" }],
  ];
  for (const [name, options] of cases) {
    const { error } = await refused(options);
    assert.ok(!error.message.includes(password) && !error.message.includes(pin), `${name}: ${error.message}`);
    assert.ok(!error.message.includes("ENC["), `${name} quotes ciphertext: ${error.message}`);
    assert.match(error.message, /^[\w./-]+(:\d+)?(:\d+)?: /, `${name} still names the file`);
  }
});
