import assert from "node:assert/strict";
import { test } from "node:test";
import { checkName, isDnsLabel, isNamespaceName, isObjectName, isRbacName } from "./names.ts";
import { referencedSecretPath, SecretReferenceError } from "../controller/referenced-secret.ts";

test("names follow Kubernetes' rules", () => {
  assert.ok(isNamespaceName("team-a"));
  assert.ok(!isNamespaceName("team.a"));
  assert.ok(!isNamespaceName("a".repeat(64)));
  assert.ok(isObjectName("git-credentials.v2"));
  assert.ok(!isObjectName("Git"));
  assert.ok(isRbacName("system:aggregate-to-edit"));
  assert.ok(!isRbacName("../cluster-admin"));
  assert.throws(() => checkName("fjord/admin", "--service-account", "object"), /--service-account: "fjord\/admin" is not a Kubernetes object name/);
});

test("attack: a secretRef cannot climb out of its namespace in the request path", () => {
  assert.equal(referencedSecretPath("team-a", "git"), "/api/v1/namespaces/team-a/secrets/git");
  for (const name of ["../../team-b/secrets/git", "..", "git/../../team-b", "..%2Fteam-b", "git?watch=true", ""]) {
    assert.throws(() => referencedSecretPath("team-a", name), SecretReferenceError, name);
  }
  assert.throws(() => referencedSecretPath("team-b/secrets", "git"), SecretReferenceError);
});

test("a DNS label (a --cluster-name): lower-case letters, digits and inner dashes, at most 63", () => {
  assert.ok(isDnsLabel("prod-eu-1"));
  assert.ok(isDnsLabel("a".repeat(63)));
  for (const bad of ["", "a".repeat(64), "Prod", "-prod", "prod-", "prod.eu", "prod/eu", "--flag"]) assert.equal(isDnsLabel(bad), false, bad);
});
