import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { test, type TestContext } from "node:test";
import { pino } from "pino";
import { createControllerServer } from "./http-server.ts";
import { createControllerMetrics } from "../controller/metrics.ts";
import { MAX_SEALING_REQUESTS_IN_FLIGHT, SEALED_SECRET_BODY_LIMIT, type SealingRouteOptions } from "./sealing-routes.ts";

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

test("a sealing body over 2 MiB is 413 before the handler sees it; up to 2 MiB is read", async (t) => {
  const sizes: number[] = [];
  const server = await startServer(t, {
    verifySealedSecret: (manifest) => {
      sizes.push(manifest.length);
      return Promise.resolve(true);
    },
  });
  const post = (body: string) => fetch(`${server.url}/v1/verify`, { method: "POST", body, headers: { "content-type": "application/json" } });
  assert.equal((await post("x".repeat(SEALED_SECRET_BODY_LIMIT + 1))).status, 413);
  assert.equal((await post("x".repeat(SEALED_SECRET_BODY_LIMIT))).status, 200);
  assert.deepEqual(sizes, [SEALED_SECRET_BODY_LIMIT]);
});

test(`at most ${MAX_SEALING_REQUESTS_IN_FLIGHT} sealing requests in flight; more get 503 with Retry-After, and probes still answer`, async (t) => {
  const waiting: Array<() => void> = [];
  // Whatever happens, the held requests are answered before the server closes.
  t.after(() => {
    for (const release of waiting.splice(0)) release();
  });
  const server = await startServer(t, { verifySealedSecret: () => new Promise<boolean>((resolve) => waiting.push(() => resolve(true))) });
  const post = () => fetch(`${server.url}/v1/verify`, { method: "POST", body: SEALED_YAML });
  const held = Array.from({ length: MAX_SEALING_REQUESTS_IN_FLIGHT }, post);
  while (waiting.length < MAX_SEALING_REQUESTS_IN_FLIGHT) await new Promise((resolve) => setTimeout(resolve, 5));
  // Bounded, so that a server without the cap fails here rather than hanging.
  const refused = await fetch(`${server.url}/v1/verify`, { method: "POST", body: SEALED_YAML, signal: AbortSignal.timeout(10_000) });
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get("retry-after"), "1");
  assert.deepEqual(await refused.json(), { error: `the controller is busy with ${MAX_SEALING_REQUESTS_IN_FLIGHT} sealing requests; retry in 1 s` });
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  for (const release of waiting.splice(0)) release();
  for (const response of await Promise.all(held)) assert.equal(response.status, 200);
  // Answered requests, and requests whose client went away, free their place. The server learns
  // of a dropped connection a moment after the client drops it, so places are taken one by one
  // until all are (a 503 meanwhile is retried), for at most 10 s.
  const abort = new AbortController();
  const gone = fetch(`${server.url}/v1/verify`, { method: "POST", body: SEALED_YAML, signal: abort.signal }).catch(() => undefined);
  while (waiting.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
  abort.abort();
  await gone;
  const again: Array<Promise<Response>> = [];
  for (const deadline = Date.now() + 10_000; again.length < MAX_SEALING_REQUESTS_IN_FLIGHT && Date.now() < deadline; ) {
    const before = waiting.length;
    const response = post();
    const accepted = await new Promise<boolean>((resolve) => {
      const poll = setInterval(() => waiting.length > before && resolve(true), 5);
      void response.then((answer) => resolve(answer.status !== 503)).finally(() => clearInterval(poll));
      void response.catch(() => resolve(false));
    });
    if (accepted) again.push(response);
    else await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(again.length, MAX_SEALING_REQUESTS_IN_FLIGHT, "every place is free again");
  for (const release of waiting.splice(0)) release();
  for (const response of await Promise.all(again)) assert.equal(response.status, 200);
});

test("a refusal with a status and Retry-After reaches the client as such, message included", async (t) => {
  const server = await startServer(t, {
    verifySealedSecret: () => Promise.reject(Object.assign(new Error("too many sealing requests; retry in 7 s"), { statusCode: 429, retryAfterSeconds: 7 })),
    reEncryptSealedSecret: () => Promise.reject(Object.assign(new Error("checking the SealedSecret took longer than 10 s and was abandoned"), { statusCode: 503, retryAfterSeconds: 10 })),
  });
  const limited = await fetch(`${server.url}/v1/verify`, { method: "POST", body: SEALED_YAML });
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("retry-after"), "7");
  assert.deepEqual(await limited.json(), { error: "too many sealing requests; retry in 7 s" });
  const abandoned = await fetch(`${server.url}/v1/rotate`, { method: "POST", body: SEALED_YAML });
  assert.equal(abandoned.status, 503);
  assert.equal(abandoned.headers.get("retry-after"), "10");
  assert.deepEqual(await abandoned.json(), { error: "checking the SealedSecret took longer than 10 s and was abandoned" });
});

test("other routes never read a body: a large one to them is answered as without it", async (t) => {
  const server = await startServer(t, { sealingCertificate: () => CERT });
  const body = "x".repeat(8 * 1024 * 1024);
  assert.equal((await fetch(`${server.url}/v1/cert.pem`, { method: "POST", body })).status, 404);
  assert.equal((await fetch(`${server.url}/nowhere`, { method: "POST", body })).status, 404);
  assert.equal((await fetch(`${server.url}/healthz`, { method: "PUT", body })).status, 404);
});
