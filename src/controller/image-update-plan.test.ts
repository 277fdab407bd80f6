import assert from "node:assert/strict";
import { test } from "node:test";
import type { ImagePolicy, ImageUpdateAutomation } from "../api/image-types.ts";
import type { GitRepository } from "../api/types.ts";
import { checkoutBranch, explainMarkerErrors, policyInputs, uniqueErrors } from "./image-update-plan.ts";

const policy = (name: string, ready: boolean, generation = 1): ImagePolicy => ({
  apiVersion: "fjord.dev/v1alpha1",
  kind: "ImagePolicy",
  metadata: { name, namespace: "prod", generation },
  spec: { imageRepositoryRef: { name: "app" }, policy: { semver: { range: "1.x" } } },
  status: {
    latestRef: { name: "reg/app", tag: "1.2.0" },
    conditions: [{ type: "Ready", status: ready ? "True" : "False", observedGeneration: 1, lastTransitionTime: "2026-01-01T00:00:00Z", reason: ready ? "ReconciliationSucceeded" : "NoMatchingTag", message: ready ? "ok" : "no tag matches" }],
  },
});

test("only ready policies of their current generation are written; the others explain marker errors", () => {
  const inputs = policyInputs([policy("web", true), policy("api", false), policy("old", true, 2)]);
  assert.deepEqual([...inputs.latest.keys()], ["prod:web"]);
  assert.deepEqual(inputs.observed, { web: { name: "reg/app", tag: "1.2.0" } });
  const errors = explainMarkerErrors(
    [
      { file: "a.yaml", line: 3, message: 'marker names image policy "prod:api", which does not exist' },
      { file: "a.yaml", line: 4, message: 'marker names image policy "prod:gone", which does not exist' },
    ],
    inputs.notReady,
  );
  assert.equal(errors[0]?.message, 'marker names image policy "prod:api", which is not ready: no tag matches');
  assert.equal(errors[1]?.message, 'marker names image policy "prod:gone", which does not exist');
});

test("a malformed file reported by both passes is reported once", () => {
  const errors = uniqueErrors([
    { file: "b.yaml", line: 2, message: "not valid YAML, left untouched: bad indentation" },
    { file: "b.yaml", line: 2, message: "not valid YAML: bad indentation" },
  ]);
  assert.equal(errors.length, 1);
});

test("the checkout branch comes from the automation, the source's ref, or its artifact", () => {
  const automation = (branch?: string) => ({ spec: { git: { ...(branch ? { checkout: { ref: { branch } } } : {}) } } }) as unknown as ImageUpdateAutomation;
  const source = (ref: object | undefined, revision?: string) => ({ metadata: { name: "s", namespace: "n" }, spec: { ref }, status: revision ? { artifact: { revision } } : {} }) as unknown as GitRepository;
  assert.equal(checkoutBranch(automation("release"), source({ branch: "main" })), "release");
  assert.equal(checkoutBranch(automation(), source({ branch: "main" })), "main");
  assert.equal(checkoutBranch(automation(), source(undefined, "trunk@sha1:0123abcd")), "trunk");
  assert.match((checkoutBranch(automation(), source({ tag: "v1" })) as { error: string }).error, /not a branch; set git.checkout.ref.branch/);
});
