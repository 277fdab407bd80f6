// @peculiar/x509 needs Reflect metadata before it loads.
import "reflect-metadata";
import assert from "node:assert/strict";
import { createPublicKey, X509Certificate } from "node:crypto";
import { test } from "node:test";
import * as x509 from "@peculiar/x509";
import { generateSealingKey, parsePrivateKey, parseSealingCertificate, publicKeyFingerprint, usableSealingCertificate } from "./certificate.ts";
import { hybridDecrypt, HybridDecryptError, hybridDecryptWithAny, hybridEncrypt } from "./hybrid.ts";
import { KeyRing, rotationDelay, sealingKeyFromSecret } from "./keyring.ts";
import { encryptionLabel, scopeOf, withScopeAnnotations } from "./scope.ts";

const first = generateSealingKey({ keySize: 2048 });
const second = generateSealingKey({ keySize: 2048, now: new Date(Date.now() + 60_000) });

test("hybrid encryption has kubeseal's layout: 2-byte length, RSA block, AES-GCM body with tag", async () => {
  const { privateKey } = await first;
  const publicKey = createPublicKey(privateKey);
  const plaintext = Buffer.from("s3cr3t-value-for-layout");
  const sealed = hybridEncrypt(publicKey, plaintext, Buffer.from("ns/name"));
  assert.equal(sealed.readUInt16BE(0), 256);
  assert.equal(sealed.length, 2 + 256 + plaintext.length + 16);
  assert.deepEqual(hybridDecrypt(privateKey, sealed, Buffer.from("ns/name")), plaintext);
  // A fresh session key per value: the same plaintext never seals to the same bytes.
  assert.notDeepEqual(hybridEncrypt(publicKey, plaintext, Buffer.from("ns/name")), sealed);
});

test("hybrid decryption fails cleanly on another label, a tampered body or truncated input", async () => {
  const { privateKey } = await first;
  const sealed = hybridEncrypt(createPublicKey(privateKey), Buffer.from("value"), Buffer.from("ns/name"));
  assert.throws(() => hybridDecrypt(privateKey, sealed, Buffer.from("ns/other")), (error: unknown) => error instanceof HybridDecryptError && error.reason === "rsa");
  const tampered = Buffer.from(sealed);
  tampered[tampered.length - 1]! ^= 1;
  assert.throws(() => hybridDecrypt(privateKey, tampered, Buffer.from("ns/name")), (error: unknown) => error instanceof HybridDecryptError && error.reason === "aes");
  assert.throws(() => hybridDecrypt(privateKey, sealed.subarray(0, 100), Buffer.from("ns/name")), (error: unknown) => error instanceof HybridDecryptError && error.reason === "too-short");
  assert.throws(() => hybridDecrypt(privateKey, Buffer.from([1]), Buffer.from("")), HybridDecryptError);
});

test("with several keys, any one that opens the value will do", async () => {
  const [a, b] = [await first, await second];
  const sealed = hybridEncrypt(createPublicKey(a.privateKey), Buffer.from("old"), Buffer.alloc(0));
  assert.deepEqual(hybridDecryptWithAny([b.privateKey, a.privateKey], sealed, Buffer.alloc(0)), { value: Buffer.from("old"), keyIndex: 1 });
  assert.throws(() => hybridDecryptWithAny([b.privateKey], sealed, Buffer.alloc(0)), HybridDecryptError);
});

test("scope comes from the annotations, cluster-wide winning, and picks the label", () => {
  assert.equal(scopeOf(undefined), "strict");
  assert.equal(scopeOf({ "sealedsecrets.bitnami.com/namespace-wide": "true" }), "namespace-wide");
  assert.equal(scopeOf({ "sealedsecrets.bitnami.com/namespace-wide": "true", "sealedsecrets.bitnami.com/cluster-wide": "true" }), "cluster-wide");
  assert.equal(scopeOf({ "sealedsecrets.bitnami.com/cluster-wide": "yes" }), "strict");
  assert.equal(encryptionLabel("shop", "db", "strict").toString(), "shop/db");
  assert.equal(encryptionLabel("shop", "db", "namespace-wide").toString(), "shop");
  assert.equal(encryptionLabel("shop", "db", "cluster-wide").length, 0);
  assert.deepEqual(withScopeAnnotations({ a: "b", "sealedsecrets.bitnami.com/cluster-wide": "true" }, "namespace-wide"), { a: "b", "sealedsecrets.bitnami.com/namespace-wide": "true" });
  assert.deepEqual(withScopeAnnotations({ "sealedsecrets.bitnami.com/namespace-wide": "true" }, "strict"), {});
});

test("a generated key pair looks like upstream's: PKCS#1 key, self-signed RSA CA certificate for ten years", async () => {
  const key = await first;
  assert.match(key.privateKeyPem, /^-----BEGIN RSA PRIVATE KEY-----/);
  const certificate = new X509Certificate(key.certificatePem);
  // CA with keyUsage encipherOnly, exactly as upstream (OpenSSL's own "is a CA" check says no, for want of keyCertSign).
  const extensions = new x509.X509Certificate(key.certificatePem);
  assert.equal(extensions.getExtension(x509.BasicConstraintsExtension)?.ca, true);
  assert.equal(extensions.getExtension(x509.KeyUsagesExtension)?.usages, x509.KeyUsageFlags.encipherOnly);
  assert.ok(certificate.verify(certificate.publicKey));
  assert.ok(certificate.checkPrivateKey(key.privateKey));
  const parsed = parseSealingCertificate(key.certificatePem, "cert");
  assert.equal(parsed.notBefore.getTime(), key.notBefore.getTime());
  assert.ok(parsed.notAfter.getTime() - parsed.notBefore.getTime() > 9.9 * 365 * 86_400_000);
  assert.equal(parsePrivateKey(key.privateKeyPem, "key").asymmetricKeyType, "rsa");
  assert.match(publicKeyFingerprint(parsed.publicKey), /^SHA256:[A-Za-z0-9+/]{43}$/);
});

test("certificates and keys that cannot be used are refused without echoing the input", async () => {
  assert.throws(() => parseSealingCertificate("not a certificate", "cert.pem"), /cert.pem holds no PEM certificate/);
  assert.throws(() => parsePrivateKey("-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0\n-----END RSA PRIVATE KEY-----\n", "key.pem"), (error: unknown) => error instanceof Error && !error.message.includes("c2VjcmV0"));
  const expired = await generateSealingKey({ keySize: 1024, now: new Date(Date.now() - 3 * 86_400_000), validForMs: 86_400_000 });
  assert.throws(() => usableSealingCertificate(expired.certificatePem, "old.pem"), /old.pem: the certificate expired on/);
});

test("key Secrets are read in upstream's layout, and a certificate of another key is refused", async () => {
  const [a, b] = [await first, await second];
  const secret = (key: string, cert: string) => ({
    apiVersion: "v1" as const,
    kind: "Secret" as const,
    metadata: { name: "sealed-secrets-keyabcde", namespace: "fjord-system" },
    type: "kubernetes.io/tls",
    data: { "tls.key": Buffer.from(key).toString("base64"), "tls.crt": Buffer.from(cert).toString("base64") },
  });
  const key = sealingKeyFromSecret(secret(a.privateKeyPem, a.certificatePem));
  assert.equal(key.name, "sealed-secrets-keyabcde");
  assert.equal(key.notBefore.getTime(), a.notBefore.getTime());
  assert.throws(() => sealingKeyFromSecret(secret(a.privateKeyPem, b.certificatePem)), /tls.crt does not belong to tls.key/);
});

test("the key ring seals with the newest key and unseals with all, newest first", async () => {
  const [a, b] = [await first, await second];
  const toKey = (generated: typeof a, name: string) => ({
    name,
    privateKey: generated.privateKey,
    publicKey: createPublicKey(generated.privateKey),
    certificatePem: generated.certificatePem,
    notBefore: generated.notBefore,
    fingerprint: publicKeyFingerprint(createPublicKey(generated.privateKey)),
  });
  const ring = new KeyRing();
  assert.equal(ring.add(toKey(b, "newer")), true);
  assert.equal(ring.add(toKey(a, "older")), true);
  assert.equal(ring.add(toKey(a, "older-copy")), false);
  assert.equal(ring.newest()?.name, "newer");
  assert.deepEqual(ring.names(), ["newer", "older"]);
  assert.equal(ring.privateKeys()[0], b.privateKey);
});

test("a new key is due one period after the newest key's notBefore", () => {
  const now = new Date("2025-03-31T00:00:00Z");
  const day = 86_400_000;
  assert.equal(rotationDelay(undefined, 30 * day, now), 0);
  assert.equal(rotationDelay(new Date("2025-03-21T00:00:00Z"), 30 * day, now), 20 * day);
  assert.equal(rotationDelay(new Date("2025-01-01T00:00:00Z"), 30 * day, now), 0);
});
