import assert from "node:assert/strict";
import { test } from "node:test";
import { changedFields, decide, isFjords, isOwned, type DecisionInput, type FieldSet, type ManagedTarget } from "./decision.ts";
import type { AdmissionRequest } from "./review.ts";

const CONTROLLER = "system:serviceaccount:fjord-system:fjord-controller";
const TENANT_SA = "system:serviceaccount:shop:fjord";

/** fjord's fields of a Deployment applied from Git with replicas set, and one without. */
const WITH_REPLICAS: FieldSet = { "f:metadata": { "f:labels": { "f:fjord.dev/name": {}, "f:fjord.dev/namespace": {} } }, "f:spec": { "f:replicas": {}, "f:template": { "f:spec": { "f:containers": { 'k:{"name":"web"}': { ".": {}, "f:image": {} } } } } } };
const WITHOUT_REPLICAS: FieldSet = { "f:metadata": { "f:labels": { "f:fjord.dev/name": {} } }, "f:spec": { "f:template": { "f:spec": { "f:containers": { 'k:{"name":"web"}': { ".": {}, "f:image": {} } } } } } };

const target = (ownedFields: FieldSet | undefined = WITH_REPLICAS): ManagedTarget => ({
  object: "Deployment.apps/shop/web",
  application: { namespace: "shop", name: "web" },
  repository: "https://git.example/shop.git",
  path: "./deploy",
  applyUser: TENANT_SA,
  ...(ownedFields ? { ownedFields } : {}),
});

const deployment = (replicas: number, extra: Record<string, unknown> = {}) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "shop", resourceVersion: String(replicas), labels: { "fjord.dev/name": "web" }, ...extra },
  spec: { replicas, template: { spec: { containers: [{ name: "web", image: "web:1" }] } } },
  status: { replicas },
});

const request = (overrides: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
  uid: "u1",
  resource: { group: "apps", version: "v1", resource: "deployments" },
  subResource: "scale",
  kind: { group: "autoscaling", version: "v1", kind: "Scale" },
  namespace: "shop",
  name: "web",
  operation: "UPDATE",
  userInfo: { username: "alice", groups: ["system:authenticated"] },
  fieldManager: "kubectl-scale",
  dryRun: false,
  oldObject: { kind: "Scale", spec: { replicas: 1 } },
  object: { kind: "Scale", spec: { replicas: 3 } },
  ...overrides,
});

const input = (overrides: Partial<DecisionInput> = {}): DecisionInput => ({ request: request(), mode: "lock", breakGlassGroups: ["oncall"], controllerUser: CONTROLLER, target: target(), ...overrides });

test("observe allows and records the person, field manager and field paths, never values", () => {
  const decision = decide(input({ mode: "observe" }));
  assert.equal(decision.allowed, true);
  assert.equal(decision.why, "observed");
  assert.ok("record" in decision);
  assert.deepEqual(decision.record, { object: "Deployment.apps/shop/web", application: { namespace: "shop", name: "web" }, user: "alice", groups: ["system:authenticated"], fieldManager: "kubectl-scale", operation: "UPDATE", subResource: "scale", fields: ["spec.replicas"], breakGlass: false });
});

test("lock denies a change to fjord's fields, naming the Application, repository and path", () => {
  const decision = decide(input());
  assert.equal(decision.allowed, false);
  assert.ok(decision.why === "locked");
  assert.match(decision.message, /Application shop\/web/);
  assert.match(decision.message, /repository https:\/\/git\.example\/shop\.git, path \.\/deploy/);
  assert.match(decision.message, /changing spec\.replicas of Deployment\.apps\/shop\/web/);
  assert.match(decision.message, /"oncall"/);
});

test("lock lets break-glass group members through, recorded as such", () => {
  const decision = decide(input({ request: request({ userInfo: { username: "bob", groups: ["oncall"] } }) }));
  assert.equal(decision.allowed, true);
  assert.equal(decision.why, "break-glass");
  assert.ok("record" in decision && decision.record.breakGlass && decision.record.user === "bob");
});

test("fjord itself is never blocked or recorded: its own user, and the ServiceAccount the Application applies as", () => {
  assert.deepEqual(decide(input({ request: request({ userInfo: { username: CONTROLLER, groups: [] } }) })), { allowed: true, why: "fjord" });
  assert.deepEqual(decide(input({ request: request({ userInfo: { username: TENANT_SA, groups: [] } }) })), { allowed: true, why: "fjord" });
  // Another tenant's ServiceAccount is not fjord for this Application.
  assert.equal(decide(input({ request: request({ userInfo: { username: "system:serviceaccount:other:fjord", groups: [] } }) })).allowed, false);
});

test("claiming to be fjord through the field manager changes nothing: identity comes from authentication", () => {
  const decision = decide(input({ request: request({ fieldManager: "fjord", userInfo: { username: "mallory", groups: ["system:authenticated"] } }) }));
  assert.equal(decision.allowed, false);
  assert.ok("record" in decision && decision.record.fieldManager === "fjord" && decision.record.user === "mallory");
});

test("Kubernetes' controllers and nodes pass: kube-system ServiceAccounts (deployment controller, HPA), kube-controller-manager, nodes", () => {
  for (const [username, groups] of [
    ["system:serviceaccount:kube-system:deployment-controller", []],
    ["system:serviceaccount:kube-system:horizontal-pod-autoscaler", []],
    ["system:kube-controller-manager", []],
    ["system:kube-scheduler", []],
    ["system:node:worker-1", ["system:nodes"]],
  ] as const) {
    assert.deepEqual(decide(input({ request: request({ userInfo: { username, groups: [...groups] } }) })), { allowed: true, why: "system" }, username);
  }
  // A ServiceAccount named like kube-system in another namespace is not one.
  assert.equal(decide(input({ request: request({ userInfo: { username: "system:serviceaccount:kube-systemx:hpa", groups: [] } }) })).allowed, false);
});

test("an object no Application manages is allowed and not recorded, whatever labels it carries", () => {
  assert.deepEqual(decide(input({ target: undefined })), { allowed: true, why: "unmanaged" });
});

test("lock allows a change limited to fields the Application does not set (an HPA-style replicas change when Git leaves replicas out)", () => {
  const decision = decide(input({ target: target(WITHOUT_REPLICAS) }));
  assert.equal(decision.allowed, true);
  assert.equal(decision.why, "not-fjord-fields");
  // A label fjord does not set, added by hand on the object itself: also not fjord's.
  const labelled = decide(input({ request: request({ subResource: "", oldObject: deployment(1), object: deployment(1, { labels: { "fjord.dev/name": "web", team: "x" } }) }) }));
  assert.equal(labelled.why, "not-fjord-fields");
  // The image fjord sets: denied.
  const image = deployment(1);
  image.spec.template.spec.containers[0] = { name: "web", image: "web:2" };
  const changed = decide(input({ request: request({ subResource: "", oldObject: deployment(1), object: image }) }));
  assert.equal(changed.allowed, false);
  assert.ok("record" in changed && changed.record.fields.includes("spec.template.spec.containers"));
  // fjord's fields unknown (object too large to cache whole): every field counts as fjord's.
  assert.equal(decide(input({ target: target(undefined) })).allowed, false);
});

test("lock denies deleting and re-creating managed objects", () => {
  assert.equal(decide(input({ request: request({ operation: "DELETE", subResource: "", object: undefined }) })).allowed, false);
  const created = decide(input({ request: request({ operation: "CREATE", subResource: "", oldObject: undefined, object: deployment(1) }) }));
  assert.ok(!created.allowed && /creating Deployment/.test(created.message));
});

test("changed fields: server-maintained metadata and status are not changes; lists count as one value", () => {
  const before = deployment(1);
  const after = { ...deployment(1, { resourceVersion: "99", generation: 4, managedFields: [{ manager: "x" }] }), status: { replicas: 7 } };
  assert.deepEqual(changedFields(request({ subResource: "", oldObject: before, object: after })), []);
  assert.deepEqual(changedFields(request({ subResource: "", oldObject: before, object: deployment(2) })), [["spec", "replicas"]]);
  assert.deepEqual(changedFields(request({ operation: "DELETE" })), []);
});

test("ownership: leaves own what is below them, keys of maps are owned one by one", () => {
  assert.equal(isOwned(WITH_REPLICAS, ["spec", "replicas"]), true);
  assert.equal(isOwned(WITH_REPLICAS, ["spec", "template", "spec", "containers"]), true);
  assert.equal(isOwned(WITH_REPLICAS, ["metadata", "labels", "team"]), false);
  assert.equal(isOwned(WITH_REPLICAS, ["spec", "paused"]), false);
  assert.equal(isOwned({ "f:data": {} }, ["data", "key"]), true);
});

test("a Secret applied with stringData: a change of its data is fjord's", () => {
  const secret = (password: string) => ({ apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "shop" }, data: { password, other: "eA==" } });
  const owned: FieldSet = { "f:stringData": { ".": {}, "f:password": {} } };
  const change = (key: "password" | "other") => {
    const after = secret("b2xk");
    after.data[key] = "bmV3";
    return request({ resource: { group: "", version: "v1", resource: "secrets" }, subResource: "", kind: { group: "", version: "v1", kind: "Secret" }, oldObject: secret("b2xk"), object: after });
  };
  assert.equal(isFjords(owned, ["data", "password"]), true);
  const denied = decide(input({ request: change("password"), target: { ...target(owned), object: "Secret/shop/db" } }));
  assert.ok(!denied.allowed && denied.message.includes("changing data.password of Secret/shop/db") && !denied.message.includes("bmV3"));
  assert.equal(decide(input({ request: change("other"), target: { ...target(owned), object: "Secret/shop/db" } })).why, "not-fjord-fields");
});
