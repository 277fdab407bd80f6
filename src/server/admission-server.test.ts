import assert from "node:assert/strict";
import { request as httpsRequest } from "node:https";
import { test } from "node:test";
import { createCertificateAuthority, issueCertificate } from "../pki/x509.ts";
import { createLogger } from "../util/logger.ts";
import type { AdmissionRequest } from "../admission/review.ts";
import { createAdmissionServer, type AdmissionAnswer } from "./admission-server.ts";

async function serve(review: (request: AdmissionRequest) => AdmissionAnswer, mode: "observe" | "lock") {
  const ca = await createCertificateAuthority("test CA");
  const leaf = await issueCertificate(ca, { commonName: "127.0.0.1", ipAddresses: ["127.0.0.1"], usage: "server" });
  const logger = createLogger("test");
  logger.level = "silent";
  const server = createAdmissionServer({ logger, mode, certificate: { certificate: leaf.certificatePem, privateKey: leaf.privateKeyPem }, review });
  const address = await server.listen({ host: "127.0.0.1", port: 0 });
  const port = Number(new URL(address).port);
  const post = (body: string, path = "/validate") =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      // Trusting only the CA: the server presents the certificate it was given.
      const request = httpsRequest({ host: "127.0.0.1", port, path, method: "POST", ca: ca.certificatePem, headers: { "content-type": "application/json" } }, (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
      });
      request.on("error", reject);
      request.end(body);
    });
  return { server, post, ca };
}

const review = (username: string) =>
  JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: { uid: "u-1", kind: { group: "", version: "v1", kind: "ConfigMap" }, resource: { group: "", version: "v1", resource: "configmaps" }, namespace: "shop", name: "settings", operation: "UPDATE", userInfo: { username, groups: [] } },
  });

test("the admission server answers over TLS with the decision, and 400 (never 500) for what it cannot read", async () => {
  const seen: string[] = [];
  const { server, post } = await serve((request) => {
    seen.push(request.userInfo.username);
    return request.userInfo.username === "alice" ? { allowed: false, message: "denied: change it in Git" } : { allowed: true };
  }, "lock");
  try {
    assert.deepEqual(JSON.parse((await post(review("alice"))).body), { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: "u-1", allowed: false, status: { code: 403, reason: "Forbidden", message: "denied: change it in Git" } } });
    assert.deepEqual((JSON.parse((await post(review("bob"))).body) as { response: unknown }).response, { uid: "u-1", allowed: true });
    for (const body of ["", "{", "[]", "null", JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: {} }), `${"{\"a\":".repeat(300)}1${"}".repeat(300)}`]) {
      assert.equal((await post(body)).status, 400, body.slice(0, 40));
    }
    assert.equal((await post(review("alice"), "/other")).status, 404);
    assert.deepEqual(seen, ["alice", "bob"], "only well-formed reviews reach the decision");
  } finally {
    await server.close();
  }
});

test("a decision that fails: observe allows, lock denies, neither answers 500", async () => {
  for (const mode of ["observe", "lock"] as const) {
    const { server, post } = await serve(() => {
      throw new Error("boom");
    }, mode);
    try {
      const answer = await post(review("alice"));
      assert.equal(answer.status, 200);
      assert.equal((JSON.parse(answer.body) as { response: { allowed: boolean } }).response.allowed, mode === "observe");
    } finally {
      await server.close();
    }
  }
});

test("a renewed certificate is served to new connections", async () => {
  const { server, post } = await serve(() => ({ allowed: true }), "observe");
  try {
    const next = await createCertificateAuthority("next CA");
    const leaf = await issueCertificate(next, { commonName: "127.0.0.1", ipAddresses: ["127.0.0.1"], usage: "server" });
    server.setCertificate({ certificate: leaf.certificatePem, privateKey: leaf.privateKeyPem });
    // The old CA no longer verifies the server.
    await assert.rejects(post(review("bob")), /certificate|self.signed|verify/i);
  } finally {
    await server.close();
  }
});
