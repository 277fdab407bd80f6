import assert from "node:assert/strict";
import { test } from "node:test";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { decryptText, encryptContent, formatForPath, isSopsDocument, openSopsDocument, reencryptDocument, type SopsFormat } from "./document.ts";
import { SopsError } from "./errors.ts";
import { assertWithinTimeBound } from "../../../testenv/time-bound.ts";

const PLAINTEXT = "hunter2-very-secret";

async function keyPair(): Promise<{ identity: string; recipient: string }> {
  const identity = await generateIdentity();
  return { identity, recipient: await identityToRecipient(identity) };
}

async function encrypt(text: string, format: SopsFormat, recipient: string, rules = {}): Promise<string> {
  return (await encryptContent(text, { format, recipients: [recipient], rules, fileName: `secret.${format}` })).toString("utf8");
}

async function failure(promise: Promise<unknown>): Promise<SopsError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SopsError, String(error));
    return error;
  }
  assert.fail("expected a SopsError");
}

function assertClean(error: SopsError, ...secrets: string[]): void {
  for (const secret of [PLAINTEXT, ...secrets]) assert.ok(!error.message.includes(secret), `message leaks a secret: ${error.message}`);
}

test("every format round-trips through encryption", async () => {
  const { identity, recipient } = await keyPair();
  const cases: Array<[SopsFormat, string]> = [
    ["yaml", `password: ${PLAINTEXT}\nport: 5432\nratio: 0.25\nenabled: true\n"10": ten\nlist:\n    - one\n    - 2\n`],
    ["json", `{\n\t"password": "${PLAINTEXT}",\n\t"10": 1,\n\t"b": [\n\t\ttrue,\n\t\tnull\n\t]\n}\n`],
    ["dotenv", `# comment\nPASSWORD=${PLAINTEXT}\nMULTI=a\\nb\n`],
    ["binary", `any bytes ${PLAINTEXT}\n`],
  ];
  for (const [format, text] of cases) {
    const encrypted = await encrypt(text, format, recipient);
    assert.ok(!encrypted.includes(PLAINTEXT), format);
    assert.equal(isSopsDocument(encrypted, format), true, format);
    assert.equal(isSopsDocument(text, format), false, format);
    assert.equal(await decryptText(encrypted, { format, identities: [identity], fileName: "f" }), text, format);
  }
});

test("files are detected by extension like sops does", () => {
  assert.equal(formatForPath("a/secret.yaml"), "yaml");
  assert.equal(formatForPath("a/secret.yml"), "yaml");
  assert.equal(formatForPath("a/secret.YAML"), "binary", "sops compares suffixes case-sensitively");
  assert.equal(formatForPath("x.json"), "json");
  assert.equal(formatForPath(".env"), "dotenv");
  assert.equal(formatForPath("app.env"), "dotenv");
  assert.equal(formatForPath("tls.crt"), "binary");
});

test("a tampered value fails naming the file and the key, without the plaintext", async () => {
  const { identity, recipient } = await keyPair();
  const encrypted = await encrypt(`password: ${PLAINTEXT}\n`, "yaml", recipient);
  const tampered = encrypted.replace(/password: ENC\[AES256_GCM,data:(.)/, (_, c: string) => `password: ENC[AES256_GCM,data:${c === "A" ? "B" : "A"}`);
  const error = await failure(decryptText(tampered, { format: "yaml", identities: [identity], fileName: "apps/secret.yaml" }));
  assert.equal(error.code, "tampered");
  assert.match(error.message, /^apps\/secret\.yaml: the value at password does not authenticate: the file was modified after encryption/);
  assertClean(error, identity);
});

test("a changed clear-text value or MAC is a MAC mismatch", async () => {
  const { identity, recipient } = await keyPair();
  const encrypted = await encrypt(`kind: Secret\ndata:\n    password: ${PLAINTEXT}\n`, "yaml", recipient, { encryptedRegex: "^data$" });
  const renamed = await failure(decryptText(encrypted.replace("kind: Secret", "kind: ConfigMap"), { format: "yaml", identities: [identity], fileName: "s.yaml" }));
  assert.equal(renamed.code, "tampered");
  assert.match(renamed.message, /MAC mismatch: the file was modified after encryption/);
  const badMac = encrypted.replace(/mac: ENC\[AES256_GCM,data:(.)/, (_, c: string) => `mac: ENC[AES256_GCM,data:${c === "A" ? "B" : "A"}`);
  const macError = await failure(decryptText(badMac, { format: "yaml", identities: [identity], fileName: "s.yaml" }));
  assert.equal(macError.code, "tampered");
  assertClean(macError, identity);
});

test("without a matching key the error lists the file's recipients and the ones tried", async () => {
  const owner = await keyPair();
  const stranger = await keyPair();
  const encrypted = await encrypt(`password: ${PLAINTEXT}\n`, "yaml", owner.recipient);
  const error = await failure(decryptText(encrypted, { format: "yaml", identities: [stranger.identity], fileName: "s.yaml" }));
  assert.equal(error.code, "no-matching-key");
  assert.ok(error.message.includes(owner.recipient));
  assert.ok(error.message.includes(stranger.recipient));
  assertClean(error, stranger.identity, owner.identity);
  const none = await failure(decryptText(encrypted, { format: "yaml", identities: [], fileName: "s.yaml" }));
  assert.equal(none.code, "no-identities");
  assert.match(none.message, /SOPS_AGE_KEY_FILE/);
});

test("an entry that names our recipient but was encrypted to another key is a wrong key", async () => {
  const owner = await keyPair();
  const other = await keyPair();
  const encrypted = await encrypt(`password: ${PLAINTEXT}\n`, "yaml", other.recipient);
  const relabelled = encrypted.replace(other.recipient, owner.recipient);
  const error = await failure(decryptText(relabelled, { format: "yaml", identities: [owner.identity], fileName: "s.yaml" }));
  assert.equal(error.code, "wrong-key");
  assertClean(error, owner.identity);
});

test("a plain file is not encrypted, and an encrypted one cannot be encrypted again", async () => {
  const { identity, recipient } = await keyPair();
  const plain = await failure(decryptText("a: b\n", { format: "yaml", identities: [identity], fileName: "p.yaml" }));
  assert.equal(plain.code, "not-encrypted");
  const encrypted = await encrypt("a: b\n", "yaml", recipient);
  const twice = await failure(encryptContent(encrypted, { format: "yaml", recipients: [recipient], fileName: "p.yaml" }));
  assert.equal(twice.code, "invalid-input");
  const badRecipient = await failure(encryptContent("a: b\n", { format: "yaml", recipients: ["nope"], fileName: "p.yaml" }));
  assert.match(badRecipient.message, /"nope" is not an age recipient/);
});

test("parse errors in an encrypted file name the line, not its content", async () => {
  const error = await failure(decryptText(`sops:\n  mac: x\n  lastmodified: y\npassword: [${PLAINTEXT}\n`, { format: "yaml", identities: [], fileName: "bad.yaml" }));
  assert.equal(error.code, "invalid-file");
  assertClean(error);
  const dotenv = await failure(decryptText(`${PLAINTEXT}\nsops_mac=x\n`, { format: "dotenv", identities: [], fileName: "bad.env" }));
  assert.match(dotenv.message, /line 1 is not KEY=value/);
  assertClean(dotenv);
});

test("re-encrypting an edit keeps the data key and the ciphertext of unchanged values", async () => {
  const { identity, recipient } = await keyPair();
  const encrypted = await encrypt("a: one\nb: two\n", "yaml", recipient);
  const document = await openSopsDocument(encrypted, { format: "yaml", identities: [identity], fileName: "e.yaml" });
  const edited = reencryptDocument(document, "a: one\nb: three\n", "e.yaml").toString("utf8");
  const line = (text: string, key: string) => text.split("\n").find((l) => l.startsWith(`${key}:`));
  assert.equal(line(edited, "a"), line(encrypted, "a"));
  assert.notEqual(line(edited, "b"), line(encrypted, "b"));
  assert.equal(await decryptText(edited, { format: "yaml", identities: [identity], fileName: "e.yaml" }), "a: one\nb: three\n");
  assert.throws(() => reencryptDocument(document, "a: [unclosed\n", "e.yaml"), (error: Error) => error instanceof SopsError && error.code === "invalid-file");
});

/** Replaces the value of one sops metadata field (not covered by the MAC, like all of them but lastmodified). */
function withMetadata(encrypted: string, field: string, value: string): string {
  const replaced = encrypted.replace(new RegExp(`^(\\s+${field}: ).*$`, "m"), (_, prefix: string) => `${prefix}${JSON.stringify(value)}`);
  assert.notEqual(replaced, encrypted, `no ${field} in the file`);
  return replaced;
}

const timed = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    const elapsed = performance.now() - started;
    console.log(`${what}: ${elapsed.toFixed(1)} ms`);
    assertWithinTimeBound(what, elapsed);
  }
};

test("attack 7: a SOPS file whose encrypted_regex is catastrophic fails fast with the MAC error, before the regex runs", async () => {
  const { identity, recipient } = await keyPair();
  const longKey = `${"a".repeat(30)}!`;
  const encrypted = await encrypt(`${longKey}: ${PLAINTEXT}\nnote: x\n`, "yaml", recipient, { encryptedRegex: "^a" });
  await decryptText(encrypted, { format: "yaml", identities: [identity], fileName: "warm-up.yaml" });
  const hostile = withMetadata(encrypted, "encrypted_regex", "^(a+)+$");
  const badMac = hostile.replace(/mac: ENC\[AES256_GCM,data:(.)/, (_, c: string) => `mac: ENC[AES256_GCM,data:${c === "A" ? "B" : "A"}`);
  const error = await timed("a wrong MAC with encrypted_regex ^(a+)+$", () => failure(decryptText(badMac, { format: "yaml", identities: [identity], fileName: "apps/secret.yaml" })));
  assert.equal(error.code, "tampered");
  assert.match(error.message, /^apps\/secret\.yaml: the MAC is missing or does not authenticate/);
  assertClean(error, identity);
});

test("attack 7: with a valid MAC, a catastrophic encrypted_regex runs on RE2 and must agree with what was encrypted", async () => {
  const { identity, recipient } = await keyPair();
  const longKey = `${"a".repeat(10_000)}!`;
  const encrypted = await encrypt(JSON.stringify({ [longKey]: PLAINTEXT, note: "x" }), "json", recipient, { encryptedRegex: "^a" });
  await decryptText(encrypted, { format: "json", identities: [identity], fileName: "warm-up.json" });
  // Metadata is not under the MAC: whoever can push may change the rule of a valid file.
  const hostile = encrypted.replace('"encrypted_regex": "^a"', '"encrypted_regex": "^(a+)+$"');
  assert.notEqual(hostile, encrypted);
  const error = await timed("a valid MAC with encrypted_regex ^(a+)+$ over a 10,001-character key", () =>
    failure(decryptText(hostile, { format: "json", identities: [identity], fileName: "apps/secret.json" })),
  );
  assert.equal(error.code, "tampered");
  assert.match(error.message, /the value at a{10000}! is encrypted, but the file's rules \(encrypted_regex\) leave it in clear text/);
  assertClean(error, identity);
});

test("the selector regexes are checked only once the MAC has verified", async () => {
  const { identity, recipient } = await keyPair();
  const encrypted = await encrypt(`data: ${PLAINTEXT}\nkind: Secret\n`, "yaml", recipient, { encryptedRegex: "^data$" });
  const invalid = withMetadata(encrypted, "encrypted_regex", "^(data");
  const valid = await failure(decryptText(invalid, { format: "yaml", identities: [identity], fileName: "s.yaml" }));
  assert.equal(valid.code, "invalid-file");
  assert.match(valid.message, /^s\.yaml: encrypted_regex "\^\(data" is not a valid regular expression: missing closing \)/);
  const tampered = invalid.replace("kind: Secret", "kind: ConfigMap");
  const macFirst = await failure(decryptText(tampered, { format: "yaml", identities: [identity], fileName: "s.yaml" }));
  assert.match(macFirst.message, /MAC mismatch/);
  const lookahead = await failure(decryptText(withMetadata(encrypted, "encrypted_regex", "^(?=d)data$"), { format: "yaml", identities: [identity], fileName: "s.yaml" }));
  assert.match(lookahead.message, /encrypted_regex "\^\(\?=d\)data\$" is not a valid regular expression: .*lookahead and lookbehind/);
});

test("a file not encrypted for our identities fails before its values or rules are looked at", async () => {
  const owner = await keyPair();
  const stranger = await keyPair();
  const encrypted = await encrypt(`data: ${PLAINTEXT}\n`, "yaml", owner.recipient, { encryptedRegex: "^data$" });
  const hostile = withMetadata(encrypted, "encrypted_regex", "^(data").replace(/data: ENC\[AES256_GCM,data:(.)/, (_, c: string) => `data: ENC[AES256_GCM,data:${c === "A" ? "B" : "A"}`);
  const error = await failure(decryptText(hostile, { format: "yaml", identities: [stranger.identity], fileName: "s.yaml" }));
  assert.equal(error.code, "no-matching-key");
});

test("encrypted_regex, and values the rules leave in clear text, round-trip; ENC-looking clear text stays as it is", async () => {
  const { identity, recipient } = await keyPair();
  const foreign = await encrypt(`x: ${PLAINTEXT}\n`, "yaml", recipient);
  const lookalike = /x: (ENC\[[^\]]*\])/.exec(foreign)?.[1];
  assert.ok(lookalike);
  const text = `kind: Secret\nnote: ${lookalike}\ndata:\n    password: ${PLAINTEXT}\n    empty: ""\n`;
  for (const macOnlyEncrypted of [false, true]) {
    const encrypted = (await encryptContent(text, { format: "yaml", recipients: [recipient], rules: { encryptedRegex: "^data$" }, macOnlyEncrypted, fileName: "s.yaml" })).toString("utf8");
    assert.ok(encrypted.includes(`note: ${lookalike}`));
    assert.equal(await decryptText(encrypted, { format: "yaml", identities: [identity], fileName: "s.yaml" }), text);
  }
});

test("a value the rules say is encrypted but is in clear text is refused, after the MAC", async () => {
  const { identity, recipient } = await keyPair();
  const encrypted = await encrypt(`kind: Secret\ndata: ${PLAINTEXT}\n`, "yaml", recipient, { encryptedRegex: "^data$" });
  // A rule that now also selects `kind`, whose value was never encrypted.
  const widened = withMetadata(encrypted, "encrypted_regex", "^(data|kind)$");
  const error = await failure(decryptText(widened, { format: "yaml", identities: [identity], fileName: "s.yaml" }));
  assert.match(error.message, /the value at kind is not an ENC\[\.\.\.\] value, but the file's rules say it is encrypted/);
  assertClean(error, identity);
});

test("telling a SOPS file from another takes linear time, even for a file of 100,000 blank lines", () => {
  for (const filler of ["\n", " \n", "\t\n"]) {
    const text = `sops:\n    lastmodified: x\n${filler.repeat(100_000)}x`;
    const started = performance.now();
    assert.equal(isSopsDocument(text, "yaml"), false);
    const elapsed = performance.now() - started;
    console.log(`isSopsDocument over ${JSON.stringify(filler)} x 100,000: ${elapsed.toFixed(1)} ms`);
    assertWithinTimeBound(`isSopsDocument over ${JSON.stringify(filler)} x 100,000`, elapsed);
  }
  assert.equal(isSopsDocument("a: b\nsops:\n    lastmodified: x\n    mac: ENC[x]\n", "yaml"), true);
});
