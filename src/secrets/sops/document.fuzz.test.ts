/**
 * Fuzzing SOPS documents from Git (document.ts with the YAML, JSON and dotenv stores and the
 * metadata reader). Properties (testenv/fuzz.ts): only SopsError, in bounded time and memory,
 * for any text; and a file altered in any way, ciphertext, IVs, tags, MAC, metadata,
 * structure, either fails with a SopsError or decrypts to exactly the values that were
 * encrypted: never to something an attacker chose.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { generateIdentity, identityToRecipient } from "age-encryption";
import fc from "fast-check";
import { corruptBase64, hostileString, hostileYaml, mutated } from "../../../testenv/fuzz-arbitraries.ts";
import { fuzz } from "../../../testenv/fuzz.ts";
import { encryptContent, loadPlain, openSopsDocument, parseSopsDocument, type SopsFormat } from "./document.ts";
import { SopsError } from "./errors.ts";
import type { Branches, TreeValue } from "./tree.ts";

const PLAINTEXT: Record<Exclude<SopsFormat, "binary">, string> = {
  yaml: "password: hunter2\nport: 5432\nratio: 0.5\nenabled: true\nlist:\n    - one\n    - 2\nnested:\n    key: value\n",
  json: '{\n\t"password": "hunter2",\n\t"port": 5432,\n\t"list": [\n\t\ttrue,\n\t\tnull\n\t]\n}\n',
  dotenv: "PASSWORD=hunter2\nPORT=5432\n",
};
const FORMATS = Object.keys(PLAINTEXT) as Array<keyof typeof PLAINTEXT>;

const keys = (async () => {
  const identity = await generateIdentity();
  const recipient = await identityToRecipient(identity);
  const encrypted = Object.fromEntries(
    await Promise.all(FORMATS.map(async (format) => [format, (await encryptContent(PLAINTEXT[format], { format, recipients: [recipient], fileName: `s.${format}` })).toString("utf8")] as const)),
  ) as Record<keyof typeof PLAINTEXT, string>;
  return { identity, encrypted };
})();

/**
 * A tree as plain values (comments and layout left out), to compare what two documents say.
 * A value's type (`type:str` in its ENC[...]) is authenticated neither by its tag nor by the
 * MAC, in sops as in fjord, so `hunter2` as str or as bytes compare equal: the bytes are what
 * the file guarantees.
 */
function plain(value: TreeValue): unknown {
  if (value.kind === "scalar") return value.scalar.type === "bytes" ? Buffer.from(value.scalar.value).toString("utf8") : String((value.scalar as { value?: unknown }).value);
  if (value.kind === "seq") return value.items.filter((item) => item.kind !== "comment").map((item) => plain(item));
  return value.items.flatMap((item) => (item.kind === "entry" ? [[item.key, plain(item.value)]] : []));
}
const plainBranches = (branches: Branches) => branches.map((branch) => plain(branch));

/** Edits aimed at the parts that carry the cryptography: ENC[...] fields, the MAC, age stanzas, rules. */
function tampered(text: string): fc.Arbitrary<string> {
  const fields = [...text.matchAll(/(data|iv|tag):([A-Za-z0-9+/=]*)/g)].map((match) => ({ at: match.index + match[1]!.length + 1, value: match[2]! }));
  const field = fc.constantFrom(...fields).chain(({ at, value }) => corruptBase64(value).map((bad) => text.slice(0, at) + bad + text.slice(at + value.length)));
  const swapped = fc.constantFrom(...fields).chain((a) => fc.constantFrom(...fields).map((b) => (a.at < b.at && a.value !== b.value ? text.slice(0, a.at) + b.value + text.slice(a.at + a.value.length) : text)));
  const typeChanged = fc.constantFrom("type:str", "type:int", "type:float", "type:bool", "type:bytes", "type:comment", "type:", "type:x").map((type) => text.replace(/type:\w+/, type));
  const rule = fc.tuple(fc.constantFrom("encrypted_regex", "unencrypted_regex", "encrypted_suffix", "unencrypted_suffix", "encrypted_comment_regex", "mac_only_encrypted"), fc.oneof(hostileString, fc.constantFrom("(a+)+$", "^pass", ".*", "true", "[", "(?P<x>"))).map(([key, value]) =>
    text.replace(/^(\s*)(lastmodified|sops_lastmodified)/m, (_line, indent: string, name: string) => (name.startsWith("sops_") ? `sops_${key}=${value.replace(/\n/g, "")}\n${name}` : `${indent}${key}: ${JSON.stringify(value)}\n${indent}${name}`)),
  );
  const lastModified = fc.constantFrom("2024-01-01T00:00:00Z", "0000-00-00T00:00:00Z", "9999-12-31T23:59:59.999999999+14:00", "not a time", "").map((time) => text.replace(/(lastmodified["]?[:=] ?"?)[^"\n]*/, `$1${time}`));
  return fc.oneof(field, swapped, typeChanged, rule, lastModified, mutated(fc.constant(text), 3));
}

for (const format of FORMATS) {
  test(`parseSopsDocument (${format}): only SopsError`, async (t) => {
    const { encrypted } = await keys;
    await fuzz(t, {
      name: `parseSopsDocument ${format} (src/secrets/sops/document.ts)`,
      arbitrary: fc.oneof(hostileYaml([encrypted[format]]), tampered(encrypted[format])),
      allowed: [SopsError],
      run: (text) => parseSopsDocument(text, format, `secrets/s.${format}`),
      checkError: (error) => assert.ok(!error.message.includes("hunter2")),
    });
  });

  test(`openSopsDocument (${format}): a tampered file fails or decrypts to exactly what was encrypted`, async (t) => {
    const { identity, encrypted } = await keys;
    const original = plainBranches(loadPlain(PLAINTEXT[format], format));
    await fuzz(t, {
      name: `openSopsDocument ${format} (src/secrets/sops/document.ts)`,
      arbitrary: tampered(encrypted[format]),
      allowed: [SopsError],
      run: (text) => openSopsDocument(text, { format, identities: [identity], fileName: `secrets/s.${format}` }),
      check: (document) => assert.deepEqual(plainBranches((document as { branches: Branches }).branches), original, "a tampered file decrypted to other values"),
      checkError: (error) => assert.ok(!error.message.includes("hunter2"), "the error quotes a decrypted value"),
    });
  });
}
