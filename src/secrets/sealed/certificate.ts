/**
 * Sealing key pairs as upstream's controller makes them (pkg/crypto/keys.go): an RSA key and a
 * self-signed certificate (CA, key usage encipherOnly) valid for ten years. kubeseal only reads
 * the RSA public key from the certificate and checks its notAfter, so the certificate is mainly
 * a carrier; its notBefore is the key's age (upstream orders keys by it).
 */
// @peculiar/x509 resolves its providers through tsyringe, which needs Reflect metadata first.
import "reflect-metadata";
import { createHash, createPrivateKey, generateKeyPair, randomBytes, webcrypto, X509Certificate, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import * as x509 from "@peculiar/x509";

export const DEFAULT_KEY_SIZE = 4096;
export const DEFAULT_CERTIFICATE_VALIDITY_MS = 10 * 365 * 24 * 3600_000;
export const CERTIFICATE_COMMON_NAME = "fjord-sealed-secrets";

const generateRsa = promisify(generateKeyPair);
const SIGNING = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;

export interface GeneratedSealingKey {
  privateKey: KeyObject;
  /** PKCS#1 ("RSA PRIVATE KEY"), the form upstream writes to tls.key. */
  privateKeyPem: string;
  certificatePem: string;
  notBefore: Date;
}

export interface SealingCertificate {
  publicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
}

/** Generates off the main thread: a 4096-bit key takes seconds. */
export async function generateSealingKey(options: { keySize?: number; validForMs?: number; now?: Date } = {}): Promise<GeneratedSealingKey> {
  const { privateKey, publicKey } = await generateRsa("rsa", { modulusLength: options.keySize ?? DEFAULT_KEY_SIZE, publicExponent: 0x10001 });
  const keys = {
    privateKey: await webcrypto.subtle.importKey("pkcs8", privateKey.export({ type: "pkcs8", format: "der" }), SIGNING, false, ["sign"]),
    publicKey: await webcrypto.subtle.importKey("spki", publicKey.export({ type: "spki", format: "der" }), SIGNING, true, ["verify"]),
  };
  // X.509 times have whole seconds; keeping the same value here keeps key ordering exact.
  const notBefore = new Date(Math.floor((options.now ?? new Date()).getTime() / 1000) * 1000);
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f; // a positive INTEGER
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString("hex"),
    name: `CN=${CERTIFICATE_COMMON_NAME}`,
    notBefore,
    notAfter: new Date(notBefore.getTime() + (options.validForMs ?? DEFAULT_CERTIFICATE_VALIDITY_MS)),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.encipherOnly, true)],
  });
  return {
    privateKey,
    privateKeyPem: privateKey.export({ type: "pkcs1", format: "pem" }) as string,
    certificatePem: `${certificate.toString("pem")}\n`,
    notBefore,
  };
}

/** The first certificate of a PEM bundle, which must hold an RSA key (kubeseal's ParseKey). */
export function parseSealingCertificate(pem: string, source: string): SealingCertificate {
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!first) throw new Error(`${source} holds no PEM certificate`);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(first);
  } catch {
    throw new Error(`${source} holds a certificate that cannot be read`);
  }
  if (certificate.publicKey.asymmetricKeyType !== "rsa") throw new Error(`${source}: the certificate's key is ${certificate.publicKey.asymmetricKeyType ?? "unknown"}, not RSA`);
  return { publicKey: certificate.publicKey, notBefore: new Date(certificate.validFrom), notAfter: new Date(certificate.validTo) };
}

/** Refuses an expired certificate, as kubeseal does: values sealed for it may no longer be unsealable. */
export function usableSealingCertificate(pem: string, source: string, now: Date = new Date()): SealingCertificate {
  const certificate = parseSealingCertificate(pem, source);
  if (now > certificate.notAfter) throw new Error(`${source}: the certificate expired on ${certificate.notAfter.toISOString().slice(0, 10)}; fetch the controller's current one`);
  return certificate;
}

/** PKCS#1 or PKCS#8 PEM; the message never echoes the input. */
export function parsePrivateKey(pem: string | Buffer, source: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error(`${source} is not a PEM private key`);
  }
  if (key.asymmetricKeyType !== "rsa") throw new Error(`${source} is not an RSA private key`);
  return key;
}

/** The public key's SSH SHA256 fingerprint, which upstream uses to name keys; safe to log. */
export function publicKeyFingerprint(key: KeyObject): string {
  const jwk = key.export({ format: "jwk" });
  const mpint = (base64url: string | undefined) => {
    let bytes = Buffer.from(base64url ?? "", "base64url");
    if (bytes.length > 0 && bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return sshString(bytes);
  };
  const blob = Buffer.concat([sshString(Buffer.from("ssh-rsa")), mpint(jwk.e), mpint(jwk.n)]);
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

function sshString(bytes: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}
