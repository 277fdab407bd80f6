import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../model/object.ts";
import { objectDiff } from "./object-diff.ts";

const deployment = (replicas: number, resourceVersion: string): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "shop", resourceVersion, managedFields: [{ manager: "fjord" }] },
  spec: { replicas },
  status: { readyReplicas: 1 },
});

test("shows only the fields that changed, not bookkeeping", () => {
  const diff = objectDiff("Deployment/shop/web", deployment(1, "10"), deployment(3, "11"));
  assert.match(diff, /^-  replicas: 1$/m);
  assert.match(diff, /^\+  replicas: 3$/m);
  assert.doesNotMatch(diff, /resourceVersion|managedFields|readyReplicas/);
  assert.equal(objectDiff("Deployment/shop/web", deployment(2, "10"), deployment(2, "12")), "");
});

test("Secret values never appear, but a changed value is visible as changed", () => {
  const secret = (password: string, user: string): KubeObject => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "db", namespace: "shop" },
    data: { password: Buffer.from(password).toString("base64"), user: Buffer.from(user).toString("base64") },
  });
  const diff = objectDiff("Secret/shop/db", secret("hunter2", "admin"), secret("correct-horse", "admin"));
  assert.ok(!diff.includes(Buffer.from("hunter2").toString("base64")));
  assert.ok(!diff.includes(Buffer.from("correct-horse").toString("base64")));
  assert.ok(!diff.includes(Buffer.from("admin").toString("base64")));
  assert.match(diff, /^-  password: "\*\*\* \(before\)"$/m);
  assert.match(diff, /^\+  password: "\*\*\* \(after\)"$/m);
  assert.doesNotMatch(diff, /^[-+]  user:/m, "an unchanged value is not a difference");
});

test("a new object diffs against nothing", () => {
  const diff = objectDiff("Deployment/shop/web", undefined, deployment(1, "1"));
  assert.match(diff, /--- \/dev\/null/);
  assert.match(diff, /^\+kind: Deployment$/m);
});

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

function appliedSecret(password: string, annotation?: string): KubeObject {
  const data = { password: Buffer.from(password).toString("base64") };
  const lastApplied = annotation ?? JSON.stringify({ apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "shop" }, data, stringData: { token: password } });
  return { apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "shop", annotations: { [LAST_APPLIED]: lastApplied, team: "a" } }, data };
}

function assertNoLeak(diff: string, ...plaintexts: string[]): void {
  for (const plaintext of plaintexts) {
    for (const form of [plaintext, Buffer.from(plaintext).toString("base64")]) assert.ok(!diff.includes(form), `the diff shows ${form}:\n${diff}`);
  }
}

test("attack 11: Secret values in the last-applied-configuration annotation are masked on both sides", () => {
  const desired: KubeObject = { ...appliedSecret("new-Pa55word"), metadata: { name: "db", namespace: "shop", annotations: { team: "b" } } };
  const diff = objectDiff("Secret/shop/db", appliedSecret("old-Pa55word"), desired);
  assertNoLeak(diff, "old-Pa55word", "new-Pa55word");
  assert.match(diff, /last-applied-configuration/, "the annotation is still shown, masked");
  assert.match(diff, /"password":"\*\*\*"/);
  // The annotation is unchanged but printed as context; a changed one shows as changed, masked.
  const changed = objectDiff("Secret/shop/db", appliedSecret("old-Pa55word"), appliedSecret("new-Pa55word"));
  assertNoLeak(changed, "old-Pa55word", "new-Pa55word");
  assert.match(changed, /"password":"\*\*\* \(after\)"/);
});

test("an annotation that is not readable JSON is masked whole", () => {
  const diff = objectDiff("Secret/shop/db", appliedSecret("old-Pa55word", "{not json old-Pa55word"), appliedSecret("new-Pa55word", "garbage new-Pa55word"));
  assertNoLeak(diff, "old-Pa55word", "new-Pa55word");
  assert.match(diff, new RegExp(`${LAST_APPLIED.replace(/\./g, "\\.")}: "?\\*\\*\\* \\(after\\)`));
});

test("a SealedSecret's encryptedData is masked, in the spec and in the annotation", () => {
  const sealed = (cipher: string): KubeObject => ({
    apiVersion: "bitnami.com/v1alpha1",
    kind: "SealedSecret",
    metadata: { name: "db", namespace: "shop", annotations: { [LAST_APPLIED]: JSON.stringify({ spec: { encryptedData: { password: cipher } } }) } },
    spec: { encryptedData: { password: cipher }, template: { metadata: { labels: { app: "db" } } } },
  });
  const diff = objectDiff("SealedSecret/shop/db", sealed("AgBy3i4OJSWK+PiTySYZZA=="), sealed("AgCZ8HXb0nPnw8cEGH2kpQ=="));
  assert.ok(!diff.includes("AgBy3i4OJSWK") && !diff.includes("AgCZ8HXb0nPn"), diff);
  assert.match(diff, /password: "\*\*\* \(after\)"/);
});

test("other objects' last-applied annotations are left as they are", () => {
  const config = (mode: string): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", annotations: { [LAST_APPLIED]: JSON.stringify({ data: { mode } }) } }, data: { mode } });
  assert.match(objectDiff("ConfigMap/c", config("fast"), config("slow")), /\\"mode\\":\\"slow\\"|"mode":"slow"/);
});
