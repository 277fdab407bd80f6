// @peculiar/x509 resolves its algorithm providers through tsyringe, which needs the
// Reflect metadata API before the library is first loaded.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;


const EC_KEY: webcrypto.EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const EC_SIGNING: webcrypto.EcdsaParams = { name: "ECDSA", hash: "SHA-256" };

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface IssuedCertificate extends KeyPairPem {
  certificatePem: string;
  /** Kept for signing further certificates when this one is a CA. */
  keys: CryptoKeyPair;
  certificate: x509.X509Certificate;
}

export interface CertificateRequest {
  commonName: string;
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: "ca" | "server" | "client" | "server-and-client";
  validDays?: number;
}

function toPem(der: ArrayBuffer, label: string): string {
  return x509.PemConverter.encode(der, label) + "\n";
}

/** An ECDSA P-256 key pair: small, fast to generate, and accepted by every Kubernetes component. */
export async function generateEcKeyPair(): Promise<CryptoKeyPair & KeyPairPem> {
  const keys = await webcrypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"]);
  return {
    ...keys,
    privateKeyPem: toPem(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY"),
    publicKeyPem: toPem(await webcrypto.subtle.exportKey("spki", keys.publicKey), "PUBLIC KEY"),
  };
}

function subjectName(request: CertificateRequest): string {
  const escape = (value: string) => value.replace(/([,+"\\<>;=])/g, "\\$1");
  return [`CN=${escape(request.commonName)}`, ...(request.organizations ?? []).map((org) => `O=${escape(org)}`)].join(", ");
}

function extensionsFor(request: CertificateRequest, publicKey: CryptoKey): Promise<x509.Extension[]> {
  const usages = {
    ca: x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
    server: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
    client: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
    "server-and-client": x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
  }[request.usage];
  const extendedUsages = {
    ca: [],
    server: [x509.ExtendedKeyUsage.serverAuth],
    client: [x509.ExtendedKeyUsage.clientAuth],
    "server-and-client": [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
  }[request.usage];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(request.usage === "ca", undefined, true),
    new x509.KeyUsagesExtension(usages, true),
  ];
  if (extendedUsages.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(extendedUsages, false));
  const altNames = [
    ...(request.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(request.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames, false));
  return x509.SubjectKeyIdentifierExtension.create(publicKey).then((ski) => [...extensions, ski]);
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  // Back-date a little so a clock that is a few seconds behind still accepts the certificate.
  const notBefore = new Date(Date.now() - 5 * 60_000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * 86_400_000) };
}

function finish(certificate: x509.X509Certificate, keys: CryptoKeyPair & KeyPairPem): IssuedCertificate {
  return {
    certificate,
    keys,
    certificatePem: certificate.toString("pem") + "\n",
    privateKeyPem: keys.privateKeyPem,
    publicKeyPem: keys.publicKeyPem,
  };
}

export async function createCertificateAuthority(commonName: string, validDays = 365): Promise<IssuedCertificate> {
  const keys = await generateEcKeyPair();
  const request: CertificateRequest = { commonName, usage: "ca" };
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: subjectName(request),
    keys,
    signingAlgorithm: EC_SIGNING,
    extensions: await extensionsFor(request, keys.publicKey),
    ...validity(validDays),
  });
  return finish(certificate, keys);
}

export async function issueCertificate(ca: IssuedCertificate, request: CertificateRequest): Promise<IssuedCertificate> {
  const keys = await generateEcKeyPair();
  const certificate = await x509.X509CertificateGenerator.create({
    subject: subjectName(request),
    issuer: ca.certificate.subject,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: EC_SIGNING,
    extensions: [
      ...(await extensionsFor(request, keys.publicKey)),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
    ],
    ...validity(request.validDays ?? 365),
  });
  return finish(certificate, keys);
}
