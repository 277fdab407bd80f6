/**
 * Rendering a repository that holds files encrypted by the real sops: plain manifests and a
 * kustomization (resources, a dotenv secretGenerator, a binary generator file) render to the
 * plaintext Secrets, the checkout itself stays encrypted, and missing or wrong keys fail clearly.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { parseAllDocuments } from "yaml";
import type { KubeObject, RenderedObject } from "../src/model/object.ts";
import { render, RenderError } from "../src/render/render.ts";
import { isSopsDocument, parseAgeIdentities } from "../src/secrets/sops/index.ts";
import { ensureBinaries } from "../testenv/ensure-binaries.ts";
import { rejection } from "./support/assertions.ts";
import { runFjord } from "./support/cli.ts";

const fixtures = path.join(import.meta.dirname, "fixtures", "sops");
const CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIBfakecertificatebodyfortests\n-----END CERTIFICATE-----\n";
const PLAINTEXTS = ["c3VwZXItc2VjcmV0LWRiLXBhc3N3b3Jk", "admin-user-fjord", "plaintext-token-1234", "super-secret-env-password", "MIIBfakecertificatebody"];

let bins: Record<"sops" | "age-keygen" | "kustomize", string>;
let work: string;
let repo: string;
let keyFile: string;
let identity: string;
let otherKeyFile: string;
let otherIdentity: string;

function run(binary: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { env, cwd: work, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => (error ? reject(new Error(`${path.basename(binary)}: ${stderr}`)) : resolve(stdout)));
  });
}

async function newKey(name: string): Promise<{ file: string; identity: string; recipient: string }> {
  const file = path.join(work, `${name}.agekey`);
  await run(bins["age-keygen"], ["-o", file], { PATH: process.env.PATH });
  const [parsed] = parseAgeIdentities(await readFile(file, "utf8"), file);
  const recipient = /# public key: (age1\S+)/.exec(await readFile(file, "utf8"))?.[1];
  assert.ok(parsed && recipient);
  return { file, identity: parsed, recipient };
}

/** Encrypts a plaintext file with the real sops into the repository. */
async function sopsEncrypt(plain: string, target: string, recipient: string, flags: string[] = []): Promise<void> {
  const env = { HOME: work, PATH: process.env.PATH };
  const output = await run(bins.sops, ["--encrypt", "--age", recipient, ...flags, plain], env);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, output);
}

before(async () => {
  bins = await ensureBinaries(["sops", "age-keygen", "kustomize"], () => {});
  work = await mkdtemp(path.join(os.tmpdir(), "fjord-sops-render-"));
  const main = await newKey("main");
  const other = await newKey("other");
  [keyFile, identity, otherKeyFile, otherIdentity] = [main.file, main.identity, other.file, other.identity];
  repo = path.join(work, "repo");
  const secretFlags = ["--encrypted-regex", "^(data|stringData)$"];
  // A plain directory: an encrypted Secret next to an ordinary ConfigMap.
  await sopsEncrypt(path.join(fixtures, "secret.yaml"), path.join(repo, "plain", "secret.yaml"), main.recipient, secretFlags);
  await writeFile(path.join(repo, "plain", "config.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: production\n");
  // A kustomization: an encrypted resource, an encrypted dotenv and an encrypted binary file for generators.
  const app = path.join(repo, "app");
  await sopsEncrypt(path.join(fixtures, "secret.yaml"), path.join(app, "secret.enc.yaml"), main.recipient, secretFlags);
  await sopsEncrypt(path.join(fixtures, "app.env"), path.join(app, "app.env"), main.recipient);
  const certificate = path.join(work, "tls.crt");
  await writeFile(certificate, CERTIFICATE);
  await sopsEncrypt(certificate, path.join(app, "tls.crt"), main.recipient);
  await writeFile(
    path.join(app, "kustomization.yaml"),
    `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: shop
resources:
  - secret.enc.yaml
generatorOptions:
  disableNameSuffixHash: true
secretGenerator:
  - name: app-env
    envs:
      - app.env
  - name: tls
    files:
      - tls.crt
`,
  );
  // Another environment's secret, for a key this render does not have: unused, so harmless.
  await sopsEncrypt(path.join(fixtures, "secret.yaml"), path.join(repo, "other-cluster", "secret.yaml"), other.recipient);
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

function secret(objects: RenderedObject[], name: string): KubeObject & { data?: Record<string, string>; stringData?: Record<string, string> } {
  const found = objects.find(({ object }) => object.kind === "Secret" && object.metadata.name === name);
  assert.ok(found, `no Secret ${name} in ${objects.map(({ object }) => object.metadata.name).join(", ")}`);
  return found.object;
}

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

async function scratchDirectories(): Promise<string[]> {
  return (await readdir(os.tmpdir())).filter((name) => name.startsWith("fjord-decrypted-"));
}

test("a plain directory renders the plaintext Secret, without the sops metadata", async () => {
  const objects = await render({ root: repo, path: "plain", decryption: { identities: [identity] } });
  assert.deepEqual(objects.map(({ object, source }) => `${object.kind}/${object.metadata.name} ${source.file}`).sort(), ["ConfigMap/settings plain/config.yaml", "Secret/db-credentials plain/secret.yaml"]);
  const db = secret(objects, "db-credentials");
  assert.equal("sops" in db, false);
  assert.equal(db.data?.password, "c3VwZXItc2VjcmV0LWRiLXBhc3N3b3Jk");
  assert.equal(db.data?.["10"], "dGVu");
  assert.equal(db.stringData?.username, "admin-user-fjord");
  assert.equal(db.stringData?.["config.yaml"], "host: db.internal\ntoken: plaintext-token-1234\n");
  assert.equal(db.metadata.namespace, "shop");
});

test("a kustomization renders decrypted resources and generator inputs; the checkout stays encrypted", async () => {
  const before = await scratchDirectories();
  const objects = await render({ root: repo, path: "app", kustomizeBinary: bins.kustomize, decryption: { identities: [otherIdentity, identity] } });
  const db = secret(objects, "db-credentials");
  assert.equal("sops" in db, false);
  assert.equal(db.data?.password, "c3VwZXItc2VjcmV0LWRiLXBhc3N3b3Jk");
  const env = secret(objects, "app-env");
  assert.deepEqual(env.data, { DB_HOST: base64("db.internal"), DB_PASSWORD: base64("super-secret-env-password"), EMPTY: "", MULTI: base64("first\\nsecond") }, "a decrypted dotenv file keeps sops's \\n escapes, as `sops -d` writes it");
  // kustomize wraps long base64 lines; the bytes are what matter.
  assert.equal(Buffer.from(secret(objects, "tls").data?.["tls.crt"] ?? "", "base64").toString("utf8"), CERTIFICATE);
  for (const file of ["app/secret.enc.yaml", "app/app.env", "app/tls.crt"]) {
    const content = await readFile(path.join(repo, file));
    assert.equal(isSopsDocument(content, file.endsWith(".env") ? "dotenv" : file.endsWith(".yaml") ? "yaml" : "binary"), true, `${file} is still encrypted`);
  }
  assert.deepEqual(await scratchDirectories(), before, "the private copy is removed");
});

test("without keys, an encrypted manifest is an error saying how to give keys, not ciphertext applied", async () => {
  const plain = await rejection(render({ root: repo, path: "plain" }), RenderError);
  assert.equal(plain.code, "decryption-failed");
  assert.equal(plain.file, "plain/secret.yaml");
  assert.match(plain.message, /^plain\/secret\.yaml:1: Secret\/shop\/db-credentials carries SOPS metadata, and no decryption keys were given: fjord does not apply ciphertext/);
  assert.match(plain.message, /--decryption-key-file/);
  const kustomized = await rejection(render({ root: repo, path: "app", kustomizeBinary: bins.kustomize }), RenderError);
  assert.equal(kustomized.code, "decryption-failed");
  assert.equal(kustomized.file, "app/kustomization.yaml");
  for (const error of [plain, kustomized]) for (const secret of PLAINTEXTS) assert.ok(!error.message.includes(secret));
});

test("the wrong key fails naming the file and its recipients, without plaintext", async () => {
  const error = await rejection(render({ root: repo, path: "plain", decryption: { identities: [otherIdentity] } }), RenderError);
  assert.equal(error.code, "decryption-failed");
  assert.equal(error.file, "plain/secret.yaml");
  assert.match(error.message, /^plain\/secret\.yaml: cannot decrypt: the file is encrypted for age recipients age1/);
  for (const secret of [...PLAINTEXTS, identity, otherIdentity]) assert.ok(!error.message.includes(secret));
});

test("a tampered file in a kustomization fails the render", async () => {
  const tampered = await mkdtemp(path.join(work, "tampered-"));
  await cp(repo, tampered, { recursive: true });
  const file = path.join(tampered, "app", "secret.enc.yaml");
  await writeFile(file, (await readFile(file, "utf8")).replace("name: db-credentials", "name: db-credentials-x"));
  const error = await rejection(render({ root: tampered, path: "app", kustomizeBinary: bins.kustomize, decryption: { identities: [identity] } }), RenderError);
  assert.equal(error.file, "app/secret.enc.yaml");
  assert.match(error.message, /MAC mismatch: the file was modified after encryption/);
});

test("fjord build decrypts with --decryption-key-file or SOPS_AGE_KEY_FILE, and fails without a key", async () => {
  const withFlag = await runFjord(["build", "--repo", repo, "--path", "app", "--decryption-key-file", keyFile], { HOME: work, SOPS_AGE_KEY_FILE: "", SOPS_AGE_KEY: "" });
  assert.equal(withFlag.code, 0, withFlag.stderr);
  const docs = parseAllDocuments(withFlag.stdout).map((doc) => doc.toJS() as KubeObject & { data?: Record<string, string> });
  assert.equal(docs.find((doc) => doc.metadata.name === "app-env")?.data?.DB_PASSWORD, base64("super-secret-env-password"));
  assert.ok(!withFlag.stdout.includes("sops"), "no sops metadata in the output");
  const withEnv = await runFjord(["build", "--repo", repo, "--path", "plain"], { HOME: work, SOPS_AGE_KEY_FILE: keyFile, SOPS_AGE_KEY: "" });
  assert.equal(withEnv.code, 0, withEnv.stderr);
  assert.ok(withEnv.stdout.includes("admin-user-fjord"));
  const withoutKey = await runFjord(["build", "--repo", repo, "--path", "plain"], { HOME: work, SOPS_AGE_KEY_FILE: "", SOPS_AGE_KEY: "" });
  assert.equal(withoutKey.code, 6, withoutKey.stderr);
  assert.match(withoutKey.stderr, /plain\/secret\.yaml:1: .*no decryption keys were given/);
  const wrongKey = await runFjord(["build", "--repo", repo, "--path", "plain", "--decryption-key-file", otherKeyFile], { HOME: work, SOPS_AGE_KEY_FILE: "", SOPS_AGE_KEY: "" });
  assert.equal(wrongKey.code, 6);
  for (const output of [withoutKey.stdout, withoutKey.stderr, wrongKey.stdout, wrongKey.stderr]) for (const secret of [...PLAINTEXTS, identity, otherIdentity]) assert.ok(!output.includes(secret));
});
