/**
 * Fuzzing the admission webhook's input: AdmissionReview text as anyone reaching the port could
 * send it, through the bounded JSON reader, the strict review reader and the lock decision for a
 * managed object. Properties (testenv/fuzz.ts): only JsonInputError or ReviewError; a decision
 * always answers allowed or a denial naming the Application; no value of the object (a Secret's)
 * ever reaches a record or a message.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { deepNesting, hostileString, mutated } from "../../testenv/fuzz-arbitraries.ts";
import { fuzz } from "../../testenv/fuzz.ts";
import { JsonInputError, parseBoundedJson } from "../input/json.ts";
import { decide } from "./decision.ts";
import { MAX_REVIEW_BYTES, parseAdmissionReview, ReviewError } from "./review.ts";

const SECRET = "s3cr3t-fuzzed-admission-value";
const encoded = Buffer.from(SECRET).toString("base64");

const valid = (operation: string, username: string) =>
  JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "u",
      kind: { group: "", version: "v1", kind: "Secret" },
      resource: { group: "", version: "v1", resource: "secrets" },
      namespace: "shop",
      name: "db",
      operation,
      userInfo: { username, groups: ["system:authenticated"] },
      options: { fieldManager: "kubectl-edit" },
      oldObject: { apiVersion: "v1", kind: "Secret", metadata: { name: "db", labels: { team: "a" } }, data: { password: "b2xk" } },
      object: { apiVersion: "v1", kind: "Secret", metadata: { name: "db", labels: { team: SECRET } }, data: { password: encoded }, stringData: { token: SECRET } },
    },
  });

const reviewText = fc.oneof(
  mutated(fc.tuple(fc.constantFrom("CREATE", "UPDATE", "DELETE"), fc.constantFrom("alice", "system:serviceaccount:kube-system:hpa", "fjord")).map(([operation, user]) => valid(operation, user)), 4),
  fc.json(),
  deepNesting,
  hostileString,
);

test("AdmissionReview: only JsonInputError or ReviewError; decisions never quote the object", async (t) => {
  await fuzz(t, {
    name: "parseAdmissionReview + decide (src/admission/review.ts, decision.ts)",
    arbitrary: reviewText,
    allowed: [JsonInputError, ReviewError],
    run: (text) => {
      const request = parseAdmissionReview(parseBoundedJson(text, "the AdmissionReview", MAX_REVIEW_BYTES));
      const target = { object: "Secret/shop/db", application: { namespace: "shop", name: "web" }, repository: "https://git.example/shop.git", path: "./app", ownedFields: { "f:stringData": { "f:password": {} } } };
      return decide({ request, mode: "lock", breakGlassGroups: ["oncall"], controllerUser: "fjord", target });
    },
    check: (decision) => {
      const text = JSON.stringify(decision);
      assert.ok(!text.includes(SECRET) && !text.includes(encoded), "an object's value reached the decision");
      const answer = decision as { allowed: boolean; message?: string };
      if (!answer.allowed) assert.match(answer.message ?? "", /Application shop\/web .*repository https:\/\/git\.example\/shop\.git, path \.\/app/);
    },
    checkError: (error) => assert.ok(!error.message.includes(SECRET) && !error.message.includes(encoded)),
  });
});
