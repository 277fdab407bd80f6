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
