import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { test, type TestContext } from "node:test";
import { pino } from "pino";
import { createControllerServer } from "./http-server.ts";
import { createControllerMetrics } from "./metrics.ts";
import type { SealingRouteOptions } from "./sealing-routes.ts";

const CERT = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
const SEALED_YAML = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: db, namespace: shop}\nspec:\n  encryptedData: {password: AgBfake}\n";

async function startServer(t: TestContext, sealing: SealingRouteOptions): Promise<{ url: string; logs: () => string }> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const app = createControllerServer({
    receivers: [],
    onPush: () => Promise.resolve(0),
    metrics: createControllerMetrics(),
    readiness: () => true,
    logger: pino({ level: "debug" }, sink),
    ...sealing,
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  t.after(() => app.close());
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, logs: () => lines.join("") };
}

test("GET /v1/cert.pem serves the sealing certificate as kubeseal expects it", async (t) => {
  const state: { certificate?: string } = {};
  const server = await startServer(t, { sealingCertificate: () => state.certificate });
  const before = await fetch(`${server.url}/v1/cert.pem`);
  assert.equal(before.status, 503);
  state.certificate = CERT;
  const response = await fetch(`${server.url}/v1/cert.pem`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/x-pem-file");
  assert.equal(await response.text(), CERT);
});

test("without the sealing options the routes do not exist", async (t) => {
  const server = await startServer(t, {});
  assert.equal((await fetch(`${server.url}/v1/cert.pem`)).status, 404);
  assert.equal((await fetch(`${server.url}/v1/verify`, { method: "POST", body: SEALED_YAML })).status, 404);
});

test("POST /v1/verify and /v1/rotate take the SealedSecret as text whatever its content type", async (t) => {
  const bodies: string[] = [];
  const server = await startServer(t, {
    verifySealedSecret: (manifest) => {
      bodies.push(manifest);
      return Promise.resolve(manifest.includes("AgBfake"));
    },
    reEncryptSealedSecret: (manifest) => {
      bodies.push(manifest);
      if (!manifest.includes("AgBfake")) return Promise.reject(Object.assign(new Error('no private key can decrypt encryptedData "password"'), { statusCode: 409 }));
      return Promise.resolve({ kind: "SealedSecret", spec: { encryptedData: { password: "AgBnew" } } });
    },
  });
  const post = (path: string, body: string, contentType: string) => fetch(`${server.url}${path}`, { method: "POST", body, headers: { "content-type": contentType } });
  assert.equal((await post("/v1/verify", SEALED_YAML, "application/json")).status, 200);
  const refused = await post("/v1/verify", SEALED_YAML.replace("AgBfake", "AgBother"), "application/yaml");
  assert.equal(refused.status, 409);
  const rotated = await post("/v1/rotate", SEALED_YAML, "application/json");
  assert.equal(rotated.status, 200);
  assert.match(rotated.headers.get("content-type") ?? "", /^application\/json/);
  assert.deepEqual(await rotated.json(), { kind: "SealedSecret", spec: { encryptedData: { password: "AgBnew" } } });
  const failed = await post("/v1/rotate", "{}", "application/json");
  assert.equal(failed.status, 409);
  assert.deepEqual(await failed.json(), { error: 'no private key can decrypt encryptedData "password"' });
  assert.equal(bodies[0], SEALED_YAML, "the body arrives byte for byte, not parsed");
  assert.ok(!server.logs().includes("AgBfake"), "request bodies are not logged");
});
