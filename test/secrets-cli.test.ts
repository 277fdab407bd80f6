/**
 * `fjord secrets keygen` and `fjord secrets edit` against the real age and sops: keys fjord
 * generates work with age, and edits produce files sops decrypts, without plaintext left behind.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { parse } from "yaml";
import { ensureBinaries } from "../testenv/ensure-binaries.ts";
import { runFjord } from "./support/cli.ts";

let bins: Record<"sops" | "age", string>;
let work: string;
let keyFile: string;
let recipient: string;

function exec(binary: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(binary, args, { env, cwd: work }, (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }));
    if (input !== undefined) child.stdin?.end(input);
  });
}

function sopsDecrypt(file: string) {
  return exec(bins.sops, ["--decrypt", file], { HOME: work, PATH: process.env.PATH, SOPS_AGE_KEY_FILE: keyFile });
}

function fjord(args: string[], env: NodeJS.ProcessEnv = {}) {
  return runFjord(args, { HOME: work, SOPS_AGE_KEY_FILE: keyFile, SOPS_AGE_KEY: "", ...env });
}

async function editScratch(): Promise<string[]> {
  return (await readdir(os.tmpdir())).filter((name) => name.startsWith("fjord-edit-"));
}

before(async () => {
  bins = await ensureBinaries(["sops", "age"], () => {});
  work = await mkdtemp(path.join(os.tmpdir(), "fjord-secrets-cli-"));
  keyFile = path.join(work, "keys.txt");
  const generated = await fjord(["secrets", "keygen", "-o", keyFile]);
  assert.equal(generated.code, 0, generated.stderr);
  recipient = /^Public key: (age1\S+)$/m.exec(generated.stderr)?.[1] ?? "";
  assert.ok(recipient, generated.stderr);
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test("keygen writes an age identity (mode 0600) that the real age encrypts to and decrypts with", async () => {
  assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
  const text = await readFile(keyFile, "utf8");
  assert.match(text, new RegExp(`^# created: .+\\n# public key: ${recipient}\\nAGE-SECRET-KEY-1[0-9A-Z]+\\n$`));
  const encrypted = await exec(bins.age, ["-r", recipient, "-a"], { PATH: process.env.PATH }, "age says hello");
  assert.equal(encrypted.code, 0, encrypted.stderr);
  const decrypted = await exec(bins.age, ["-d", "-i", keyFile], { PATH: process.env.PATH }, encrypted.stdout);
  assert.equal(decrypted.stdout, "age says hello");
  const again = await fjord(["secrets", "keygen", "-o", keyFile]);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /never overwrites a key file/);
  assert.equal(await readFile(keyFile, "utf8"), text);
});

async function encryptedFile(name: string, content: string): Promise<string> {
  const plain = path.join(work, `plain-${name}`);
  await writeFile(plain, content);
  const result = await fjord(["secrets", "encrypt", "--age", recipient, plain]);
  assert.equal(result.code, 0, result.stderr);
  const file = path.join(work, name);
  await writeFile(file, result.stdout);
  return file;
}

test("edit re-encrypts with the same key: sops decrypts the change, untouched values keep their ciphertext", async () => {
  const file = await encryptedFile("edit.yaml", "username: admin\npassword: old-secret-value\n");
  const before = await readFile(file, "utf8");
  const scratch = await editScratch();
  const edited = await fjord(["secrets", "edit", file], { EDITOR: "sed -i s/old-secret-value/new-secret-value/" });
  assert.equal(edited.code, 0, edited.stderr);
  assert.ok(!edited.stdout.includes("secret-value") && !edited.stderr.includes("secret-value"));
  const after = await readFile(file, "utf8");
  const line = (text: string, key: string) => text.split("\n").find((l) => l.startsWith(`${key}:`));
  assert.equal(line(after, "username"), line(before, "username"));
  assert.notEqual(line(after, "password"), line(before, "password"));
  assert.ok(!after.includes("new-secret-value"));
  const decrypted = await sopsDecrypt(file);
  assert.equal(decrypted.code, 0, decrypted.stderr);
  assert.deepEqual(parse(decrypted.stdout), { username: "admin", password: "new-secret-value" });
  assert.deepEqual(await editScratch(), scratch, "the plaintext copy is removed");
});

test("edit leaves the file alone when nothing changed or the result does not parse", async () => {
  const file = await encryptedFile("broken.yaml", "password: keep-this-secret\n");
  const before = await readFile(file, "utf8");
  const unchanged = await fjord(["secrets", "edit", file], { EDITOR: "true" });
  assert.equal(unchanged.code, 0, unchanged.stderr);
  assert.match(unchanged.stderr, /has not changed/);
  const broken = await fjord(["secrets", "edit", file], { EDITOR: "sed -i s/^password:/password:[/" });
  assert.notEqual(broken.code, 0);
  assert.match(broken.stderr, /the edited file is not valid yaml, so nothing was written/);
  assert.ok(!broken.stderr.includes("keep-this-secret"));
  const failedEditor = await fjord(["secrets", "edit", file], { EDITOR: "false" });
  assert.notEqual(failedEditor.code, 0);
  assert.match(failedEditor.stderr, /exited with code 1; the file was not changed/);
  assert.equal(await readFile(file, "utf8"), before);
});

test("edit works on a file the real sops encrypted", async () => {
  const plain = path.join(work, "by-sops.env");
  await writeFile(plain, "API_TOKEN=first-token\nOTHER=x\n");
  const encrypted = await exec(bins.sops, ["--encrypt", "--age", recipient, plain], { HOME: work, PATH: process.env.PATH });
  assert.equal(encrypted.code, 0, encrypted.stderr);
  const file = path.join(work, "sops-made.env");
  await writeFile(file, encrypted.stdout);
  const edited = await fjord(["secrets", "edit", file], { EDITOR: "sed -i s/first-token/second-token/" });
  assert.equal(edited.code, 0, edited.stderr);
  assert.equal((await sopsDecrypt(file)).stdout, "API_TOKEN=second-token\nOTHER=x\n");
});
