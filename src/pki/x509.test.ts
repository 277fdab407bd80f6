import assert from "node:assert/strict";
import { X509Certificate, createPrivateKey, createPublicKey } from "node:crypto";
import { test } from "node:test";
import { createCertificateAuthority, issueCertificate } from "./x509.ts";

test("a server certificate chains to its CA and carries the requested names", async () => {
  const ca = await createCertificateAuthority("fjord-test-ca");
  const server = await issueCertificate(ca, {
    commonName: "kube-apiserver",
    usage: "server",
    dnsNames: ["localhost", "kubernetes.default.svc"],
    ipAddresses: ["127.0.0.1"],
  });
  const caCert = new X509Certificate(ca.certificatePem);
  const cert = new X509Certificate(server.certificatePem);
  assert.equal(caCert.ca, true);
  assert.equal(cert.ca, false);
  assert.ok(cert.verify(caCert.publicKey), "server certificate must be signed by the CA");
  assert.ok(cert.checkIssued(caCert));
  assert.equal(cert.checkHost("kubernetes.default.svc"), "kubernetes.default.svc");
  assert.equal(cert.checkIP("127.0.0.1"), "127.0.0.1");
  assert.equal(cert.checkHost("example.com"), undefined);
  assert.ok(cert.checkPrivateKey(createPrivateKey(server.privateKeyPem)));
});

test("a client certificate names its user and groups the way Kubernetes reads them", async () => {
  const ca = await createCertificateAuthority("fjord-test-ca");
  const admin = await issueCertificate(ca, { commonName: "fjord-admin", organizations: ["system:masters"], usage: "client" });
  const cert = new X509Certificate(admin.certificatePem);
  assert.match(cert.subject, /CN=fjord-admin/);
  assert.match(cert.subject, /O=system:masters/);
  assert.deepEqual(cert.keyUsage, ["1.3.6.1.5.5.7.3.2"]);
  assert.equal(createPublicKey(admin.publicKeyPem).asymmetricKeyType, "ec");
});
