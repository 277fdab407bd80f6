import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { test } from "node:test";
import { generateSealingKey } from "./certificate.ts";
import { formatManifest, parseManifest } from "./manifest.ts";
import { sealedSecretFromManifest, secretFromManifest } from "./objects.ts";
import { sealSecret } from "./seal.ts";
import type { SealedSecret } from "./types.ts";
import { canUnseal, reEncryptSealedSecret, unsealSealedSecret, UnsealError } from "./unseal.ts";
import { assertWithinTimeBound } from "../../../testenv/time-bound.ts";

const keyA = generateSealingKey({ keySize: 2048 });
const keyB = generateSealingKey({ keySize: 2048 });
const PASSWORD = "hunter2-plaintext-7c1d";

const SECRET_YAML = `
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
  labels: { app: shop }
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"stringData":{"password":"${PASSWORD}"}}'
    team: payments
  uid: 0b7c4e0a-1111-2222-3333-444455556666
  resourceVersion: "42"
type: kubernetes.io/basic-auth
data:
  username: YWRtaW4=
stringData:
  password: ${PASSWORD}
`;

function secret() {
  return secretFromManifest(parseManifest(SECRET_YAML, "secret.yaml"), "secret.yaml");
}

test("sealing keeps metadata, type and scope in kubeseal's shape and leaves no plaintext behind", async () => {
  const { privateKey } = await keyA;
  const sealed = sealSecret(secret(), createPublicKey(privateKey));
  assert.equal(sealed.apiVersion, "bitnami.com/v1alpha1");
  assert.equal(sealed.kind, "SealedSecret");
  assert.deepEqual(sealed.metadata, { name: "db", namespace: "shop" });
  assert.deepEqual(sealed.spec.template, { metadata: { name: "db", namespace: "shop", labels: { app: "shop" }, annotations: { team: "payments" } }, type: "kubernetes.io/basic-auth" });
  assert.deepEqual(Object.keys(sealed.spec.encryptedData), ["password", "username"]);
  const text = formatManifest(sealed, "yaml") + formatManifest(sealed, "json");
  assert.ok(!text.includes(PASSWORD) && !text.includes("YWRtaW4="), "no value, plain or base64, in the output");
  assert.ok(!text.includes("last-applied"), "kubectl's last-applied copy would publish the Secret");
});

test("a sealed Secret unseals to the same values, with the owner reference of a live SealedSecret", async () => {
  const { privateKey } = await keyA;
  const sealed = sealSecret(secret(), createPublicKey(privateKey));
  const live: SealedSecret = { ...sealed, metadata: { ...sealed.metadata, uid: "c0ffee00-0000-0000-0000-000000000001" } };
  const unsealed = unsealSealedSecret(live, [privateKey]);
  assert.deepEqual(unsealed.data, { password: Buffer.from(PASSWORD).toString("base64"), username: "YWRtaW4=" });
  assert.equal(unsealed.type, "kubernetes.io/basic-auth");
  assert.deepEqual(unsealed.metadata.labels, { app: "shop" });
  assert.deepEqual(unsealed.metadata.ownerReferences, [{ apiVersion: "bitnami.com/v1alpha1", kind: "SealedSecret", name: "db", uid: "c0ffee00-0000-0000-0000-000000000001", controller: true }]);
  assert.equal(unsealSealedSecret(sealed, [privateKey]).metadata.ownerReferences, undefined);
});

test("strict scope refuses another name or namespace with a message that says why and how to fix it", async () => {
  const { privateKey } = await keyA;
  const sealed = sealSecret(secret(), createPublicKey(privateKey));
  for (const metadata of [{ name: "db-copy", namespace: "shop" }, { name: "db", namespace: "other" }]) {
    const moved: SealedSecret = { ...sealed, metadata };
    assert.throws(
      () => unsealSealedSecret(moved, [privateKey]),
      (error: unknown) => {
        assert.ok(error instanceof UnsealError);
        assert.match(error.message, /no private key can decrypt encryptedData "password", "username" \(tried 1 key\)/);
        assert.match(error.message, new RegExp(`strict \\(only as "${metadata.name}" in namespace "${metadata.namespace}"\\)`));
        assert.match(error.message, /Seal the Secret again/);
        assert.ok(!error.message.includes(PASSWORD));
        return true;
      },
    );
    assert.equal(canUnseal(moved, [privateKey]), false);
  }
});

test("namespace-wide allows another name in the namespace; cluster-wide allows anywhere", async () => {
  const { privateKey } = await keyA;
  const publicKey = createPublicKey(privateKey);
  const namespaceWide = sealSecret(secret(), publicKey, { scope: "namespace-wide" });
  assert.deepEqual(namespaceWide.metadata.annotations, { "sealedsecrets.bitnami.com/namespace-wide": "true" });
  assert.equal(namespaceWide.spec.template?.metadata?.annotations?.["sealedsecrets.bitnami.com/namespace-wide"], "true");
  assert.ok(canUnseal({ ...namespaceWide, metadata: { ...namespaceWide.metadata, name: "renamed" } }, [privateKey]));
  assert.ok(!canUnseal({ ...namespaceWide, metadata: { ...namespaceWide.metadata, namespace: "other" } }, [privateKey]));
  const clusterWide = sealSecret(secret(), publicKey, { scope: "cluster-wide" });
  assert.ok(canUnseal({ ...clusterWide, metadata: { ...clusterWide.metadata, name: "x", namespace: "y" } }, [privateKey]));
  // The SealedSecret's own annotation decides: removing it makes the value undecryptable.
  assert.ok(!canUnseal({ ...clusterWide, metadata: { name: "db", namespace: "shop" } }, [privateKey]));
});

test("sealing refuses what kubeseal refuses: no name, no namespace outside cluster-wide, no data", async () => {
  const publicKey = createPublicKey((await keyA).privateKey);
  const base = { apiVersion: "v1" as const, kind: "Secret" as const, stringData: { a: "b" } };
  assert.throws(() => sealSecret({ ...base, metadata: { namespace: "x" } }, publicKey), /no metadata.name/);
  assert.throws(() => sealSecret({ ...base, metadata: { name: "x" } }, publicKey), /no metadata.namespace/);
  assert.equal(sealSecret({ ...base, metadata: { name: "x" } }, publicKey, { defaultNamespace: "dflt" }).metadata.namespace, "dflt");
  assert.equal(sealSecret({ ...base, metadata: { name: "x" } }, publicKey, { scope: "cluster-wide" }).metadata.namespace, undefined);
  assert.throws(() => sealSecret({ ...base, stringData: {}, metadata: { name: "x", namespace: "y" } }, publicKey), /no data or stringData/);
  assert.deepEqual(sealSecret({ ...base, stringData: {}, metadata: { name: "x", namespace: "y" } }, publicKey, { allowEmptyData: true }).spec.encryptedData, {});
});

test("template data renders literal values and references to decrypted keys, and refuses the rest", async () => {
  const { privateKey } = await keyA;
  const sealed = sealSecret(secret(), createPublicKey(privateKey));
  const withTemplate = (data: Record<string, string | null>): SealedSecret => ({ ...sealed, spec: { ...sealed.spec, template: { ...sealed.spec.template, data } } });
  const unsealed = unsealSealedSecret(withTemplate({ url: 'postgres://{{ .username }}:{{ index . "password" }}@db/shop', mode: "rw", username: null }), [privateKey]);
  assert.equal(Buffer.from(unsealed.data?.url ?? "", "base64").toString(), `postgres://admin:${PASSWORD}@db/shop`);
  assert.equal(Buffer.from(unsealed.data?.mode ?? "", "base64").toString(), "rw");
  assert.equal(unsealed.data?.username, undefined);
  assert.throws(() => unsealSealedSecret(withTemplate({ x: "{{ .password | b64enc }}" }), [privateKey]), /spec.template.data.x uses a template form fjord does not render/);
  assert.throws(() => unsealSealedSecret(withTemplate({ x: "{{ .missing }}" }), [privateKey]), /refers to "missing"/);
});

test("a template that repeats a value past a Secret's size limit is refused before it is built", async () => {
  const { privateKey } = await keyA;
  const big = sealSecret({ apiVersion: "v1", kind: "Secret", metadata: { name: "big", namespace: "shop" }, stringData: { blob: "x".repeat(64 * 1024) } }, createPublicKey(privateKey));
  // 64 KiB, 100,000 times over: 6.4 GB if it were rendered.
  const bomb: SealedSecret = { ...big, spec: { ...big.spec, template: { data: { boom: "{{ .blob }}".repeat(100_000) } } } };
  const started = performance.now();
  assert.throws(() => unsealSealedSecret(bomb, [privateKey]), /spec.template.data.boom renders to more than 1048576 bytes, beyond what a Secret may hold/);
  assertWithinTimeBound("refusing a template bomb", performance.now() - started, 5_000);
  // Several template values that each fit but together do not are refused too.
  const spread: SealedSecret = { ...big, spec: { ...big.spec, template: { data: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, "{{ .blob }}"])) } } };
  assert.throws(() => unsealSealedSecret(spread, [privateKey]), /renders to more than/);
  assert.equal(canUnseal(bomb, [privateKey]), false);
});

test("yes/no questions stop at the first value no key opens; unsealing names every such value", async () => {
  const [a, b] = [await keyA, await keyB];
  const sealed = sealSecret(secret(), createPublicKey(a.privateKey));
  assert.throws(() => unsealSealedSecret(sealed, [b.privateKey]), /no private key can decrypt encryptedData "password", "username"/);
  assert.throws(() => reEncryptSealedSecret(sealed, [b.privateKey], createPublicKey(b.privateKey)), /no private key can decrypt encryptedData "password" \(tried 1 key\)/);
  assert.equal(canUnseal(sealed, [b.privateKey]), false);
  assert.equal(canUnseal(sealed, [b.privateKey, a.privateKey]), true);
});

test("re-encrypting moves every value to the newest key and keeps the rest of the object", async () => {
  const [a, b] = [await keyA, await keyB];
  const sealed = sealSecret(secret(), createPublicKey(a.privateKey), { scope: "namespace-wide" });
  const stored: SealedSecret = { ...sealed, metadata: { ...sealed.metadata, labels: { team: "x" }, uid: "u", resourceVersion: "7", generation: 3 }, status: { observedGeneration: 3 } };
  const rotated = reEncryptSealedSecret(stored, [b.privateKey, a.privateKey], createPublicKey(b.privateKey));
  assert.deepEqual(rotated.metadata, { name: "db", namespace: "shop", labels: { team: "x" }, annotations: { "sealedsecrets.bitnami.com/namespace-wide": "true" } });
  assert.deepEqual(rotated.spec.template, sealed.spec.template);
  assert.equal(rotated.status, undefined);
  assert.ok(canUnseal(rotated, [b.privateKey]));
  assert.ok(!canUnseal(rotated, [a.privateKey]));
  assert.deepEqual(unsealSealedSecret(rotated, [b.privateKey]).data, unsealSealedSecret(sealed, [a.privateKey]).data);
});

test("malformed manifests and values are refused by field, without quoting them", () => {
  assert.throws(() => parseManifest(`a: 1\n---\nb: 2\n`, "two.yaml"), /two.yaml holds 2 documents/);
  assert.throws(() => parseManifest(`password: "${PASSWORD}\n`, "bad.yaml"), (error: unknown) => error instanceof Error && /bad.yaml is not valid YAML or JSON/.test(error.message) && !error.message.includes(PASSWORD));
  assert.throws(() => secretFromManifest({ kind: "Secret", metadata: { name: "x" }, data: { k: PASSWORD } }, "s"), (error: unknown) => error instanceof Error && /data.k is not valid base64/.test(error.message) && !error.message.includes(PASSWORD));
  assert.throws(() => secretFromManifest({ kind: "Secret", metadata: { name: "x" }, stringData: { on: true } }, "s"), /stringData.on must be a string/);
  assert.throws(() => sealedSecretFromManifest({ apiVersion: "bitnami.com/v1alpha1", kind: "SealedSecret", metadata: { name: "x" }, spec: { data: "AAAA" } }, "ss"), /deprecated single-blob format/);
  assert.throws(() => secretFromManifest({ apiVersion: "v1", kind: "ConfigMap" }, "cm.yaml"), /expected apiVersion v1, kind Secret/);
});

test("duplicate keys are refused in one pass: a map of 60,000 keys parses in seconds, not minutes", () => {
  assert.throws(() => parseManifest("a: 1\nb:\n  c: 1\n  c: 2\n", "dup.yaml"), /dup.yaml is not valid YAML or JSON \(DUPLICATE_KEY at line 4, column 3\)/);
  assert.throws(() => parseManifest('{"a": 1, "a": 2}', "dup.json"), /DUPLICATE_KEY at line 1, column 10/);
  // Merge keys may repeat; 1 and "1" are different keys, as before.
  assert.deepEqual(parseManifest("x: &x {b: 1}\nc:\n  <<: *x\n  <<: *x\n", "merge.yaml"), { x: { b: 1 }, c: { b: 1 } });
  // 60,000 keys stay under the bounded reader's 250,000 tokens per document (src/input/limits.ts).
  const many = `a:\n${Array.from({ length: 60_000 }, (_, i) => `  k${i}: v\n`).join("")}`;
  const started = performance.now();
  assert.equal(Object.keys((parseManifest(many, "many.yaml") as { a: object }).a).length, 60_000);
  // yaml's own check compares every key with every earlier one: minutes for this.
  assertWithinTimeBound("parsing 60,000 keys", performance.now() - started, 10_000);
});

test("JSON input and YAML 1.1 scalars read as kubectl reads them", () => {
  const fromJson = secretFromManifest(parseManifest(JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "j", namespace: "n" }, stringData: { a: "yes" } }), "s.json"), "s.json");
  assert.equal(fromJson.stringData?.a, "yes");
  assert.throws(() => secretFromManifest(parseManifest("kind: Secret\nmetadata: {name: j}\nstringData:\n  enabled: yes\n", "s.yaml"), "s.yaml"), /stringData.enabled must be a string/);
  const yaml = formatManifest({ a: "yes", b: "012", c: "x".repeat(300) }, "yaml");
  assert.equal(yaml, `a: "yes"\nb: "012"\nc: ${"x".repeat(300)}\n`);
});
