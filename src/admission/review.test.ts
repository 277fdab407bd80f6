import assert from "node:assert/strict";
import { test } from "node:test";
import { admissionResponse, parseAdmissionReview, ReviewError } from "./review.ts";

const review = (request: Record<string, unknown> = {}) => ({
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request: {
    uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
    kind: { group: "autoscaling", version: "v1", kind: "Scale" },
    resource: { group: "apps", version: "v1", resource: "deployments" },
    subResource: "scale",
    namespace: "shop",
    name: "web",
    operation: "UPDATE",
    userInfo: { username: "alice", groups: ["system:authenticated"], extra: { anything: ["x"] } },
    options: { kind: "PatchOptions", apiVersion: "meta.k8s.io/v1", fieldManager: "kubectl-scale" },
    object: { spec: { replicas: 3 } },
    oldObject: { spec: { replicas: 1 } },
    dryRun: false,
    ...request,
  },
});

test("a well-formed review: the fields fjord decides on", () => {
  const parsed = parseAdmissionReview(review());
  assert.equal(parsed.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
  assert.deepEqual(parsed.resource, { group: "apps", version: "v1", resource: "deployments" });
  assert.equal(parsed.subResource, "scale");
  assert.deepEqual(parsed.userInfo, { username: "alice", groups: ["system:authenticated"] });
  assert.equal(parsed.fieldManager, "kubectl-scale");
  assert.equal(parsed.dryRun, false);
  // The core group is "" and a CREATE with generateName has no name.
  const core = parseAdmissionReview(review({ resource: { group: "", version: "v1", resource: "configmaps" }, name: undefined, subResource: undefined, options: null }));
  assert.equal(core.resource.group, "");
  assert.equal(core.name, "");
  assert.equal(core.fieldManager, undefined);
});

test("hostile reviews are refused with a ReviewError naming the field, never quoting it", () => {
  const secret = "s3cr3t-in-review";
  const cases: unknown[] = [
    null,
    [],
    "AdmissionReview",
    { ...review(), apiVersion: "admission.k8s.io/v1beta1" },
    { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" },
    review({ uid: 42 }),
    review({ uid: "" }),
    review({ uid: "x".repeat(129) }),
    review({ operation: "PATCH" }),
    review({ userInfo: { username: `mallory\n{"level":50,"msg":"forged ${secret}"}` } }),
    review({ userInfo: { username: "alice", groups: "oncall" } }),
    review({ userInfo: { username: "alice", groups: Array.from({ length: 65 }, () => "g") } }),
    review({ userInfo: { username: "alice", groups: [{ name: secret }] } }),
    review({ name: "n".repeat(254) }),
    review({ namespace: ["shop"] }),
    review({ object: [secret] }),
    review({ oldObject: secret }),
    review({ options: { fieldManager: { toString: secret } } }),
    review({ dryRun: "true" }),
    review({ resource: { group: "apps", resource: "deployments" } }),
  ];
  for (const body of cases) {
    assert.throws(() => parseAdmissionReview(body), (error: unknown) => error instanceof ReviewError && !error.message.includes(secret), JSON.stringify(body)?.slice(0, 80));
  }
});

test("the answer: allowed, or denied with a 403 message kubectl prints", () => {
  assert.deepEqual(admissionResponse("u", true), { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: "u", allowed: true } });
  assert.deepEqual(admissionResponse("u", false, "no"), { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: "u", allowed: false, status: { code: 403, reason: "Forbidden", message: "no" } } });
});
