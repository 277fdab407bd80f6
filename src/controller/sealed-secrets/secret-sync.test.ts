import assert from "node:assert/strict";
import { test } from "node:test";
import { nextStatus, ownershipOf, redactValues, sameSecret, updatedSecret } from "./secret-sync.ts";
import type { SealedSecret, Secret } from "../../secrets/sealed/types.ts";

const sealed: SealedSecret = {
  apiVersion: "bitnami.com/v1alpha1",
  kind: "SealedSecret",
  metadata: { name: "db", namespace: "shop", uid: "uid-1", generation: 2 },
  spec: { encryptedData: {} },
};
const owner = { apiVersion: "bitnami.com/v1alpha1", kind: "SealedSecret", name: "db", uid: "uid-1", controller: true };
const secret = (metadata: Secret["metadata"], data: Record<string, string> = {}): Secret => ({ apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "shop", ...metadata }, data });

test("a Secret is the SealedSecret's when it controls it or the Secret opts in", () => {
  assert.equal(ownershipOf(secret({ ownerReferences: [owner] }), sealed), "owned");
  assert.equal(ownershipOf(secret({}), sealed), "foreign");
  assert.equal(ownershipOf(secret({ ownerReferences: [{ ...owner, controller: false }] }), sealed), "foreign");
  assert.equal(ownershipOf(secret({ annotations: { "sealedsecrets.bitnami.com/managed": "true" } }), sealed), "owned");
  assert.equal(ownershipOf(secret({ ownerReferences: [{ ...owner, uid: "uid-0" }] }), sealed), "previous-owner");
  assert.equal(ownershipOf(secret({ ownerReferences: [{ ...owner, kind: "Deployment", uid: "uid-0" }] }), sealed), "foreign");
});

test("an update replaces data, labels, annotations and owner but keeps server metadata; patch mode merges", () => {
  const existing = secret({ resourceVersion: "9", uid: "s-1", labels: { old: "1" }, ownerReferences: [owner] }, { old: "b2xk", keep: "a2VlcA==" });
  const desired = secret({ labels: { app: "shop" }, ownerReferences: [owner] }, { password: "cGFzcw==" });
  const updated = updatedSecret(existing, desired);
  assert.deepEqual(updated.metadata, { name: "db", namespace: "shop", resourceVersion: "9", uid: "s-1", labels: { app: "shop" }, ownerReferences: [owner] });
  assert.deepEqual(updated.data, { password: "cGFzcw==" });
  assert.ok(!sameSecret(existing, updated));
  assert.ok(sameSecret(updated, updatedSecret(updated, desired)));
  const patched = updatedSecret(secret({ annotations: { "sealedsecrets.bitnami.com/patch": "true" } }, { keep: "a2VlcA==" }), desired);
  assert.deepEqual(patched.data, { keep: "a2VlcA==", password: "cGFzcw==" });
  assert.equal(patched.metadata.ownerReferences, undefined);
});

test("values are redacted from messages written by others, plain or base64", () => {
  const desired = secret({}, { password: Buffer.from("hunter2-xyz").toString("base64") });
  assert.equal(redactValues('Secret "db" is invalid: hunter2-xyz / aHVudGVyMi14eXo=', desired), 'Secret "db" is invalid: [redacted] / [redacted]');
});

test("the Synced condition moves its transition time only when the status flips", () => {
  const t0 = new Date("2025-01-01T00:00:00Z");
  const first = nextStatus(sealed, { synced: false, reason: "ErrUnsealFailed", message: "no key" }, t0);
  assert.deepEqual(first, { observedGeneration: 2, conditions: [{ type: "Synced", status: "False", reason: "ErrUnsealFailed", message: "no key", lastUpdateTime: "2025-01-01T00:00:00Z", lastTransitionTime: "2025-01-01T00:00:00Z" }] });
  const withStatus = { ...sealed, status: first };
  assert.equal(nextStatus(withStatus, { synced: false, reason: "ErrUnsealFailed", message: "no key" }), undefined);
  const t1 = new Date("2025-01-02T00:00:00Z");
  const second = nextStatus({ ...withStatus, metadata: { ...sealed.metadata, generation: 3 } }, { synced: true, reason: "Unsealed", message: "" }, t1);
  assert.deepEqual(second, { observedGeneration: 3, conditions: [{ type: "Synced", status: "True", reason: "Unsealed", lastUpdateTime: "2025-01-02T00:00:00Z", lastTransitionTime: "2025-01-02T00:00:00Z" }] });
});
