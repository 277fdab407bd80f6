import assert from "node:assert/strict";
import { test } from "node:test";
import { renewalReason, RENEW_BEFORE_MS } from "./serving-certificate.ts";
import { webhookConfiguration } from "./webhook-configuration.ts";
import { createCertificateAuthority, issueCertificate } from "../pki/x509.ts";

test("observe fails open, lock fails closed; both exempt fjord and Kubernetes' controllers before calling", () => {
  const user = "system:serviceaccount:fjord-system:fjord-controller";
  const observe = webhookConfiguration({ name: "fjord-admission", mode: "observe", clientConfig: { service: { namespace: "fjord-system", name: "fjord-controller", port: 443 } }, controllerUser: user });
  const lock = webhookConfiguration({ name: "fjord-admission", mode: "lock", clientConfig: { url: "https://127.0.0.1:9443/validate" }, controllerUser: user });
  type Webhook = { name: string; failurePolicy: string; rules: { resources: string[]; operations: string[] }[]; objectSelector?: unknown; clientConfig: Record<string, unknown>; matchConditions: { expression: string }[] };
  const webhooks = (object: unknown) => (object as { webhooks: Webhook[] }).webhooks;
  assert.deepEqual(webhooks(observe).map((webhook) => webhook.failurePolicy), ["Ignore", "Ignore"]);
  assert.deepEqual(webhooks(lock).map((webhook) => webhook.failurePolicy), ["Fail", "Fail"]);
  const [objects, scale] = webhooks(lock);
  assert.deepEqual(objects?.rules[0]?.resources, ["*"], "main resources only: never status");
  assert.deepEqual(objects?.objectSelector, { matchExpressions: [{ key: "fjord.dev/name", operator: "Exists" }] });
  assert.deepEqual(scale?.rules[0]?.resources, ["*/scale"]);
  assert.equal(scale?.objectSelector, undefined, "a Scale carries no labels");
  assert.deepEqual(objects?.clientConfig, { url: "https://127.0.0.1:9443/validate" });
  assert.deepEqual(webhooks(observe)[0]?.clientConfig, { service: { namespace: "fjord-system", name: "fjord-controller", port: 443, path: "/validate" } });
  const conditions = objects?.matchConditions.map((condition) => condition.expression).join("\n") ?? "";
  assert.match(conditions, /request\.userInfo\.username != "system:serviceaccount:fjord-system:fjord-controller"/);
  assert.match(conditions, /system:serviceaccount:kube-system:/);
  assert.match(conditions, /system:nodes/);
});

test("the serving certificate is issued again when missing, near expiry or for other names", async () => {
  const ca = await createCertificateAuthority("test CA", 120);
  const leaf = await issueCertificate(ca, { commonName: "fjord", dnsNames: ["fjord-controller.fjord-system.svc"], ipAddresses: ["127.0.0.1"], usage: "server", validDays: 90 });
  const stored = { caBundle: ca.certificatePem, certificate: leaf.certificatePem, privateKey: leaf.privateKeyPem };
  const names = { dnsNames: ["fjord-controller.fjord-system.svc"], ipAddresses: ["127.0.0.1"] };
  const now = new Date();
  assert.equal(renewalReason(stored, names, now), "");
  assert.equal(renewalReason(undefined, names, now), "none stored");
  assert.match(renewalReason(stored, names, new Date(leaf.certificate.notAfter.getTime() - RENEW_BEFORE_MS + 1000)), /expires at/);
  assert.equal(renewalReason(stored, { ...names, dnsNames: ["other.svc"] }, now), "its names changed");
  assert.equal(renewalReason({ ...stored, certificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" }, names, now), "the stored certificate does not parse");
});
