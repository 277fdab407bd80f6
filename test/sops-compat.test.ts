/**
 * fjord's SOPS implementation against the real `sops` and `age-keygen`: files sops encrypts,
 * fjord decrypts (MAC verified) to what `sops --decrypt` prints; files `fjord secrets encrypt`
 * writes, sops decrypts to the original content. Tampering fails clearly and without plaintext.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { decryptContent, emitPlain, loadPlain, parseAgeIdentities, type SopsFormat } from "../src/secrets/sops/index.ts";
import { ensureBinaries } from "../testenv/ensure-binaries.ts";
import { runFjord } from "./support/cli.ts";

const fixtures = path.join(import.meta.dirname, "fixtures", "sops");

/** Strings from the fixtures that must never appear in anything fjord prints on failure. */
const PLAINTEXTS = ["c3VwZXItc2VjcmV0LWRiLXBhc3N3b3Jk", "admin-user-fjord", "plaintext-token-1234", "super-secret-env-password", "value-in-depth", "secret-by-comment"];

interface Key {
  file: string;
  recipient: string;
  identity: string;
}

interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

let bins: Record<"sops" | "age" | "age-keygen", string>;
let work: string;
let main: Key;
let other: Key;
let third: Key;

function exec(binary: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(binary, args, { env, cwd: work, encoding: "buffer", maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr: stderr.toString("utf8") });
    });
  });
}

async function ageKeygen(name: string): Promise<Key> {
  const file = path.join(work, `${name}.agekey`);
  const result = await exec(bins["age-keygen"], ["-o", file], { PATH: process.env.PATH });
  assert.equal(result.code, 0, result.stderr);
  const recipient = /Public key: (age1\S+)/.exec(result.stderr)?.[1];
  assert.ok(recipient, result.stderr);
  const [identity] = parseAgeIdentities(await readFile(file, "utf8"), file);
  assert.ok(identity);
  return { file, recipient, identity };
}

/** The real sops with a clean environment: its own HOME, keys only from SOPS_AGE_KEY_FILE. */
async function sops(args: string[], key: Key = main): Promise<Run> {
  return exec(bins.sops, args, { HOME: path.join(work, "home"), PATH: process.env.PATH, SOPS_AGE_KEY_FILE: key.file });
}

async function sopsOk(args: string[], key: Key = main): Promise<Buffer> {
  const result = await sops(args, key);
  assert.equal(result.code, 0, `sops ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

async function fjord(args: string[], key: Key = main): Promise<Run> {
  const result = await runFjord(args, { HOME: path.join(work, "home"), SOPS_AGE_KEY_FILE: key.file, SOPS_AGE_KEY: "" });
  return { code: result.code, stdout: Buffer.from(result.stdout, "utf8"), stderr: result.stderr };
}

async function writeWork(name: string, content: string | Uint8Array): Promise<string> {
  const file = path.join(work, name);
  await writeFile(file, content);
  return file;
}

/** YAML or JSON as plain data; key order does not matter here, the MAC checks it. */
function data(text: string | Buffer, format: SopsFormat): unknown {
  const source = text.toString();
  return format === "json" ? JSON.parse(source) : parseAllDocuments(source).map((doc) => doc.toJS() as unknown);
}

function assertSameContent(actual: Buffer, expected: Buffer, format: SopsFormat, what: string): void {
  if (format === "yaml" || format === "json") assert.deepEqual(data(actual, format), data(expected, format), what);
  else assert.deepEqual(actual, expected, what);
}

/**
 * The original as sops reads it: go-yaml's types (`012` is octal) rather than the yaml package's
 * YAML 1.2. That fjord reads it the same way as sops is what the MAC checks in the tests above.
 */
function asSopsReadsIt(original: Buffer, format: SopsFormat): Buffer {
  return format === "yaml" ? emitPlain(loadPlain(original, format), format) : original;
}

function assertNoSecrets(text: string, ...extra: string[]): void {
  for (const secret of [...PLAINTEXTS, main.identity, other.identity, third.identity, ...extra]) {
    assert.ok(!text.includes(secret), `output leaks a secret: ${text}`);
  }
}

before(async () => {
  bins = await ensureBinaries(["sops", "age", "age-keygen"], () => {});
  work = await mkdtemp(path.join(os.tmpdir(), "fjord-sops-compat-"));
  await mkdir(path.join(work, "home"));
  [main, other, third] = await Promise.all([ageKeygen("main"), ageKeygen("other"), ageKeygen("third")]);
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

interface Case {
  name: string;
  file: string;
  content: () => Promise<Buffer>;
  format: SopsFormat;
  flags: string[];
}

const fixture = (name: string) => () => readFile(path.join(fixtures, name));
const inline = (text: string) => () => Promise.resolve(Buffer.from(text, "utf8"));

const SELECTOR_DOC = `db_secret:
  user: db-user
  pass: super-secret-db-pass
public_key: visible-key
token_plain: visible-token
nested:
  password: nested-secret
`;

const CASES: Case[] = [
  { name: "a Kubernetes Secret, the usual --encrypted-regex", file: "secret.yaml", content: fixture("secret.yaml"), format: "yaml", flags: ["--encrypted-regex", "^(data|stringData)$"] },
  { name: "YAML with every type, lists, comments and integer-like keys", file: "everything.yaml", content: fixture("everything.yaml"), format: "yaml", flags: [] },
  { name: "a YAML stream of several documents", file: "stream.yaml", content: inline("a: first-doc-secret\n---\nb: second-doc-secret\nc: [1, 2]\n"), format: "yaml", flags: [] },
  { name: "JSON with integer-like keys and big numbers", file: "everything.json", content: fixture("everything.json"), format: "json", flags: [] },
  { name: "dotenv", file: "app.env", content: fixture("app.env"), format: "dotenv", flags: [] },
  { name: "binary (not UTF-8)", file: "blob.bin", content: () => Promise.resolve(Buffer.concat([randomBytes(300), Buffer.from([0xff, 0xfe, 0x00])])), format: "binary", flags: [] },
  { name: "unencrypted_regex", file: "unencrypted-regex.yaml", content: inline(SELECTOR_DOC), format: "yaml", flags: ["--unencrypted-regex", "^(public_key|token_plain)$"] },
  { name: "encrypted_suffix", file: "encrypted-suffix.yaml", content: inline(SELECTOR_DOC), format: "yaml", flags: ["--encrypted-suffix", "_secret"] },
  { name: "unencrypted_suffix", file: "unencrypted-suffix.yaml", content: inline(SELECTOR_DOC), format: "yaml", flags: ["--unencrypted-suffix", "_plain"] },
  { name: "mac_only_encrypted", file: "mac-only.yaml", content: fixture("secret.yaml"), format: "yaml", flags: ["--encrypted-regex", "^(data|stringData)$", "--mac-only-encrypted"] },
  {
    name: "encrypted_comment_regex",
    file: "comment-regex.yaml",
    content: inline("visible: plain-value\n# sops:enc\npassword: secret-by-comment\nafter: also-plain\n"),
    format: "yaml",
    flags: ["--encrypted-comment-regex", "sops:enc"],
  },
  {
    name: "unencrypted_comment_regex",
    file: "uncomment-regex.yaml",
    content: inline("# sops:plain\nvisible: plain-value\npassword: secret-by-comment\n"),
    format: "yaml",
    flags: ["--unencrypted-comment-regex", "sops:plain"],
  },
];

for (const testCase of CASES) {
  test(`sops encrypts, fjord decrypts: ${testCase.name}`, async () => {
    const plain = await writeWork(`plain-${testCase.file}`, await testCase.content());
    const encrypted = await sopsOk(["--encrypt", "--age", main.recipient, ...testCase.flags, plain]);
    assert.ok(encrypted.includes("ENC[AES256_GCM"), "sops encrypted something");
    const encryptedFile = await writeWork(`sops-${testCase.file}`, encrypted);
    const bySops = await sopsOk(["--decrypt", encryptedFile]);
    const byFjord = await decryptContent(encrypted, { format: testCase.format, identities: [main.identity], fileName: testCase.file });
    assertSameContent(byFjord, bySops, testCase.format, "fjord and sops decrypt to the same content");
    assertSameContent(byFjord, asSopsReadsIt(await readFile(plain), testCase.format), testCase.format, "the content is the original");
  });

  test(`fjord secrets encrypt, sops decrypts: ${testCase.name}`, async () => {
    const original = await testCase.content();
    const plain = await writeWork(`fjord-plain-${testCase.file}`, original);
    const result = await fjord(["secrets", "encrypt", "--age", main.recipient, ...testCase.flags, plain]);
    assert.equal(result.code, 0, result.stderr);
    const encryptedFile = await writeWork(`fjord-${testCase.file}`, result.stdout);
    const decrypted = await sops(["--decrypt", encryptedFile]);
    assert.equal(decrypted.code, 0, decrypted.stderr);
    // sops warns, and leaves them as they are, about comments it cannot decrypt.
    assert.doesNotMatch(decrypted.stderr, /unencrypted comment/i);
    assert.ok(!decrypted.stdout.includes("ENC[AES256_GCM"), "sops decrypted every value and comment");
    assertSameContent(decrypted.stdout, asSopsReadsIt(original, testCase.format), testCase.format, "sops decrypts fjord's file to the original");
  });
}

test("the Secret sops encrypts keeps its clear-text fields, and fjord removes the sops metadata", async () => {
  const plain = path.join(fixtures, "secret.yaml");
  const encrypted = await sopsOk(["--encrypt", "--age", main.recipient, "--encrypted-regex", "^(data|stringData)$", plain]);
  const document = parse(encrypted.toString()) as { kind: string; metadata: { name: string }; data: Record<string, string>; sops: unknown };
  assert.equal(document.kind, "Secret");
  assert.equal(document.metadata.name, "db-credentials");
  assert.match(document.data.password!, /^ENC\[AES256_GCM,data:.*,type:str\]$/);
  const decrypted = parse((await decryptContent(encrypted, { format: "yaml", identities: [main.identity], fileName: "secret.yaml" })).toString()) as Record<string, unknown>;
  assert.equal("sops" in decrypted, false);
  assert.deepEqual(decrypted, parse(await readFile(plain, "utf8")));
});

test("a file for several recipients opens with any one of them, in both directions", async () => {
  const plain = path.join(fixtures, "secret.yaml");
  const bySops = await sopsOk(["--encrypt", "--age", `${other.recipient},${main.recipient}`, plain]);
  await decryptContent(bySops, { format: "yaml", identities: [main.identity], fileName: "multi.yaml" });
  const result = await fjord(["secrets", "encrypt", "--age", other.recipient, "--age", main.recipient, plain]);
  assert.equal(result.code, 0, result.stderr);
  const file = await writeWork("fjord-multi.yaml", result.stdout);
  await sopsOk(["--decrypt", file], other);
  await sopsOk(["--decrypt", file], main);
});

test("fjord secrets decrypt prints what sops prints, and --extract one value", async () => {
  const encrypted = await sopsOk(["--encrypt", "--age", main.recipient, "--encrypted-regex", "^(data|stringData)$", path.join(fixtures, "secret.yaml")]);
  const file = await writeWork("extract.yaml", encrypted);
  const whole = await fjord(["secrets", "decrypt", file]);
  assert.equal(whole.code, 0, whole.stderr);
  assertSameContent(whole.stdout, await sopsOk(["--decrypt", file]), "yaml", "same document");
  const value = await fjord(["secrets", "decrypt", "--extract", '["stringData"]["username"]', file]);
  assert.equal(value.code, 0, value.stderr);
  assert.equal(value.stdout.toString(), (await sopsOk(["--decrypt", "--extract", '["stringData"]["username"]', file])).toString());
  assert.equal(value.stdout.toString(), "admin-user-fjord");
});

async function failingDecrypt(name: string, content: string | Buffer, key: Key): Promise<Run> {
  const file = await writeWork(name, content);
  const result = await fjord(["secrets", "decrypt", file], key);
  assert.notEqual(result.code, 0, "decryption must fail");
  assert.equal(result.stdout.length, 0, "nothing on stdout");
  assert.ok(result.stderr.includes(file), `the error names the file: ${result.stderr}`);
  assertNoSecrets(result.stderr);
  return result;
}

test("a value changed in a sops file: fjord refuses it, naming the file, without plaintext", async () => {
  const encrypted = (await sopsOk(["--encrypt", "--age", main.recipient, "--encrypted-regex", "^(data|stringData)$", path.join(fixtures, "secret.yaml")])).toString();
  const tampered = encrypted.replace(/(password: ENC\[AES256_GCM,data:)(.)/, (_, prefix: string, char: string) => `${prefix}${char === "A" ? "B" : "A"}`);
  assert.notEqual(tampered, encrypted);
  const result = await failingDecrypt("tampered-value.yaml", tampered, main);
  assert.match(result.stderr, /the value at data\.password does not authenticate: the file was modified after encryption/);
  const renamed = await failingDecrypt("tampered-clear.yaml", encrypted.replace("name: db-credentials", "name: db-credentials-2"), main);
  assert.match(renamed.stderr, /MAC mismatch: the file was modified after encryption/);
  const badMac = encrypted.replace(/(mac: ENC\[AES256_GCM,data:)(.)/, (_, prefix: string, char: string) => `${prefix}${char === "A" ? "B" : "A"}`);
  const macResult = await failingDecrypt("tampered-mac.yaml", badMac, main);
  assert.match(macResult.stderr, /the file was modified after encryption/);
  // sops agrees that these files are broken.
  for (const name of ["tampered-value.yaml", "tampered-clear.yaml", "tampered-mac.yaml"]) assert.notEqual((await sops(["--decrypt", path.join(work, name)])).code, 0);
});

test("the wrong key, or a file for other recipients only: the error lists recipients and the keys tried", async () => {
  const encrypted = await sopsOk(["--encrypt", "--age", main.recipient, path.join(fixtures, "secret.yaml")]);
  const wrongKey = await failingDecrypt("for-main.yaml", encrypted, other);
  assert.ok(wrongKey.stderr.includes(main.recipient), wrongKey.stderr);
  assert.ok(wrongKey.stderr.includes(other.recipient), wrongKey.stderr);
  assert.match(wrongKey.stderr, /none of them a recipient/);
  const forOthers = await sopsOk(["--encrypt", "--age", `${other.recipient},${third.recipient}`, path.join(fixtures, "secret.yaml")]);
  const othersOnly = await failingDecrypt("for-others.yaml", forOthers, main);
  assert.ok(othersOnly.stderr.includes(other.recipient) && othersOnly.stderr.includes(third.recipient), othersOnly.stderr);
  assert.match(othersOnly.stderr, /SOPS_AGE_KEY_FILE/);
  const relabelled = forOthers.toString().replaceAll(other.recipient, main.recipient);
  const claimed = await failingDecrypt("relabelled.yaml", relabelled, main);
  assert.match(claimed.stderr, /does not open with the identity for that recipient/);
});
