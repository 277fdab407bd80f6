import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { test } from "node:test";
import { generateSealingKey } from "./certificate.ts";
import { MAX_SEALED_VALUE_LENGTH, MAX_SEALED_VALUES, runSealingJob } from "./requests.ts";
import { sealSecret } from "./seal.ts";
import type { SealedSecret } from "./types.ts";
import { canUnseal } from "./unseal.ts";
import { assertWithinTimeBound } from "../../../testenv/time-bound.ts";

const keyA = generateSealingKey({ keySize: 2048 });
const keyB = generateSealingKey({ keySize: 2048 });

async function sealed(values: Record<string, string>): Promise<SealedSecret> {
  return sealSecret({ apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "shop" }, stringData: values }, createPublicKey((await keyA).privateKey));
}

test("verify: unsealed, sealed elsewhere, or a refused body", async () => {
  const [a, b] = [await keyA, await keyB];
  const manifest = JSON.stringify(await sealed({ password: "p" }));
  assert.deepEqual(runSealingJob({ op: "verify", manifest, privateKeys: [b.privateKey, a.privateKey] }), { kind: "unsealed", result: true });
  assert.deepEqual(runSealingJob({ op: "verify", manifest, privateKeys: [b.privateKey] }), { kind: "sealed-elsewhere", message: "the SealedSecret does not unseal with this controller's keys" });
  const broken = runSealingJob({ op: "verify", manifest: "kind: [", privateKeys: [a.privateKey] });
  assert.equal(broken.kind, "refused");
  assert.match(broken.kind === "refused" ? `${broken.statusCode} ${broken.message}` : "", /^400 the request body is not valid YAML or JSON/);
  const secret = runSealingJob({ op: "verify", manifest: "apiVersion: v1\nkind: Secret\n", privateKeys: [a.privateKey] });
  assert.match(secret.kind === "refused" ? `${secret.statusCode} ${secret.message}` : "", /^400 the request body: expected apiVersion bitnami.com\/v1alpha1, kind SealedSecret/);
});

test("rotate: the SealedSecret sealed again with the newest key, or why not", async () => {
  const [a, b] = [await keyA, await keyB];
  const manifest = JSON.stringify(await sealed({ password: "p" }));
  const rotated = runSealingJob({ op: "rotate", manifest, privateKeys: [b.privateKey, a.privateKey], publicKey: createPublicKey(b.privateKey) });
  assert.equal(rotated.kind, "unsealed");
  assert.ok(rotated.kind === "unsealed" && rotated.result !== true && canUnseal(rotated.result as SealedSecret, [b.privateKey]));
  const refused = runSealingJob({ op: "rotate", manifest, privateKeys: [b.privateKey], publicKey: createPublicKey(b.privateKey) });
  assert.equal(refused.kind, "sealed-elsewhere");
  assert.match(refused.kind === "sealed-elsewhere" ? refused.message : "", /no private key can decrypt encryptedData "password"/);
});

test(`more than ${MAX_SEALED_VALUES} values, or a value longer than a Secret can hold, is refused before any decryption`, async () => {
  const { privateKey } = await keyA;
  const base = await sealed({ password: "p" });
  const one = base.spec.encryptedData.password ?? "";
  const many: SealedSecret = { ...base, spec: { encryptedData: Object.fromEntries(Array.from({ length: MAX_SEALED_VALUES + 1 }, (_, i) => [`k${i}`, one])) } };
  const started = performance.now();
  assert.deepEqual(runSealingJob({ op: "verify", manifest: JSON.stringify(many), privateKeys: [privateKey] }), {
    kind: "refused",
    statusCode: 413,
    message: `the request body holds ${MAX_SEALED_VALUES + 1} encrypted values; the controller checks at most ${MAX_SEALED_VALUES} in one request: split the Secret`,
  });
  // 501 RSA-2048 decryptions would take well over this.
  assertWithinTimeBound("refusing 501 values", performance.now() - started, 500);
  const exactly: SealedSecret = { ...many, spec: { encryptedData: Object.fromEntries(Object.entries(many.spec.encryptedData).slice(0, MAX_SEALED_VALUES)) } };
  assert.deepEqual(runSealingJob({ op: "verify", manifest: JSON.stringify(exactly), privateKeys: [privateKey] }), { kind: "unsealed", result: true }, "at the limit it is checked");

  const long: SealedSecret = { ...base, spec: { encryptedData: { password: "A".repeat(MAX_SEALED_VALUE_LENGTH + 4) } } };
  const refused = runSealingJob({ op: "rotate", manifest: JSON.stringify(long), privateKeys: [privateKey], publicKey: createPublicKey(privateKey) });
  assert.deepEqual(refused, { kind: "refused", statusCode: 413, message: `the request body holds an encrypted value longer than any sealed Secret value can be (${MAX_SEALED_VALUE_LENGTH} characters)` });
});

test("fuzz-found: template data naming a key with an escape JSON cannot read is refused, not a SyntaxError", async () => {
  // Counterexample of requests.fuzz.test.ts: `{{ index . "\u12" }}` threw from JSON.parse, which
  // the sealing routes answered 500 and the reconciler could not report.
  const { privateKey } = await keyA;
  for (const template of ['{{ index . "\\u12" }}', '{{ index . "\\x41" }}']) {
    const sealedSecret: SealedSecret = { apiVersion: "bitnami.com/v1alpha1", kind: "SealedSecret", metadata: { name: "db", namespace: "shop" }, spec: { encryptedData: {}, template: { data: { password: template } } } };
    const manifest = JSON.stringify(sealedSecret);
    assert.equal(runSealingJob({ op: "verify", manifest, privateKeys: [privateKey] }).kind, "sealed-elsewhere");
    const outcome = runSealingJob({ op: "unseal", sealedSecret, privateKeys: [privateKey] });
    assert.equal(outcome.kind, "sealed-elsewhere");
    assert.match(outcome.kind === "sealed-elsewhere" ? outcome.message : "", /spec\.template\.data\.password names a key in a quoted string with an escape fjord does not read/);
  }
});
