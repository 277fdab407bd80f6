import assert from "node:assert/strict";
import { test } from "node:test";
import { Tenancy } from "./tenancy.ts";

const app = (namespace: string) => ({ kind: "Application", namespace, name: "web" });
const repo = (namespace: string) => ({ kind: "GitRepository", namespace, name: "source" });

test("by default a source of another namespace is refused, a dependency is followed, the same namespace always", () => {
  const tenancy = new Tenancy();
  assert.match(tenancy.refuseReference(app("team-a"), "spec.sourceRef", repo("team-b"), "source") ?? "", /spec\.sourceRef names GitRepository team-b\/source; move it into team-a, or start the controller with --allow-cross-namespace-sources/);
  assert.equal(tenancy.refuseReference(app("team-a"), "spec.dependsOn[0]", app("team-b"), "status"), undefined);
  assert.equal(tenancy.refuseReference(app("team-a"), "spec.sourceRef", repo("team-a"), "source"), undefined);
  assert.equal(new Tenancy({ allowCrossNamespaceSources: true }).refuseReference(app("team-a"), "spec.sourceRef", repo("team-b"), "source"), undefined);
});

test("--no-cross-namespace-refs refuses every cross-namespace reference and wins over --allow-cross-namespace-sources", () => {
  const tenancy = new Tenancy({ noCrossNamespaceRefs: true, allowCrossNamespaceSources: true });
  assert.match(tenancy.startupWarning() ?? "", /--allow-cross-namespace-sources has no effect/);
  assert.match(tenancy.refuseReference(app("team-a"), "spec.sourceRef", repo("team-b"), "source") ?? "", /--no-cross-namespace-refs.*spec\.sourceRef of Application team-a\/web names GitRepository team-b\/source; use a GitRepository of namespace team-a/);
  assert.match(tenancy.refuseReference(app("team-a"), "spec.dependsOn[1]", app("team-b"), "status") ?? "", /spec\.dependsOn\[1\]/);
  assert.equal(tenancy.refuseReference(app("team-a"), "spec.sourceRef", repo("team-a"), "source"), undefined);
  assert.equal(new Tenancy({ noCrossNamespaceRefs: true }).startupWarning(), undefined);
});

test("an Application applies as its ServiceAccount, else the default one of its own namespace, else as the controller", () => {
  assert.deepEqual(new Tenancy({ defaultServiceAccount: "fjord" }).applyIdentity("team-a", "deployer"), { user: "system:serviceaccount:team-a:deployer", origin: "spec.serviceAccountName" });
  assert.deepEqual(new Tenancy({ defaultServiceAccount: "fjord" }).applyIdentity("team-a", undefined), { user: "system:serviceaccount:team-a:fjord", origin: "--default-service-account" });
  assert.deepEqual(new Tenancy().applyIdentity("team-a", undefined), { origin: "controller" });
});

test("a refusal by RBAC gets the fix for the identity used; other errors get none", () => {
  const tenancy = new Tenancy();
  const forbidden = 'configmaps "a" is forbidden: User "system:serviceaccount:fjord-system:fjord-controller" cannot patch resource "configmaps"';
  assert.match(tenancy.forbiddenHint("team-a", { origin: "controller" }, forbidden) ?? "", /set spec\.serviceAccountName .*fjord tenant create team-a.*--default-service-account/);
  assert.match(tenancy.forbiddenHint("team-a", { origin: "--default-service-account", user: "system:serviceaccount:team-a:fjord" }, forbidden) ?? "", /default ServiceAccount team-a\/fjord may not do this/);
  assert.match(tenancy.forbiddenHint("team-a", { origin: "spec.serviceAccountName", user: "system:serviceaccount:team-a:x" }, 'users "system:serviceaccount:team-a:x" is forbidden: User "u" cannot impersonate resource "serviceaccounts"') ?? "", /fjord-impersonator.*fjord tenant create team-a/);
  assert.equal(tenancy.forbiddenHint("team-a", { origin: "controller" }, "spec.replicas: Invalid value"), undefined);
  // regression: an admission policy's denial is a 403 "forbidden" too, and no ServiceAccount hint fixes it.
  const policyDenial = `deployments.apps "web" is forbidden: ValidatingAdmissionPolicy 'no-latest' with binding 'no-latest' denied request: images must be pinned`;
  assert.equal(tenancy.forbiddenHint("team-a", { origin: "controller" }, policyDenial), undefined);
  assert.equal(tenancy.forbiddenHint("team-a", { origin: "controller" }, 'admission webhook "validate.example.com" denied the request: forbidden by policy'), undefined);
});
