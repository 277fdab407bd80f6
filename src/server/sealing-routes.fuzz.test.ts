/**
 * Fuzzing the sealing routes kubeseal calls (POST /v1/verify, /v1/rotate) through the real
 * fastify app (inject), wired as `fjord controller` wires them: to the sealing worker thread
 * (src/controller/sealed-secrets/request-runner.ts) and a real RSA sealing key. Properties
 * (testenv/fuzz.ts): every request is answered 200, 400, 409, 413 or 429/503 with
 * Retry-After, never 500; no answer holds a sealed value's plaintext; each is answered in
 * bounded time.
 */
import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import { Writable } from "node:stream";
import { test } from "node:test";
import fc from "fast-check";
import { pino } from "pino";
import { stringify } from "yaml";
import { corruptBase64, hostileYaml, mutated } from "../../testenv/fuzz-arbitraries.ts";
import { fuzz } from "../../testenv/fuzz.ts";
import { createControllerMetrics } from "../controller/metrics.ts";
import { DEFAULT_SEALING_WORK_LIMITS, SealingRequestError, SealingWorker } from "../controller/sealed-secrets/request-runner.ts";
import { generateSealingKey } from "../secrets/sealed/certificate.ts";
import { sealSecret } from "../secrets/sealed/seal.ts";
import type { SealedSecret } from "../secrets/sealed/types.ts";
import { createControllerServer } from "./http-server.ts";

const PLAINTEXT = "hunter2-sesame";

test("POST /v1/verify and /v1/rotate: only the documented answers, never 500, never a secret", async (t) => {
  const key = await generateSealingKey({ keySize: 2048 });
  const publicKey = createPublicKey(key.privateKey);
  const sealed = sealSecret({ apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "shop" }, stringData: { password: PLAINTEXT } }, publicKey);
  // A budget large enough that the fuzz run is not refused for it (429 is fuzzed by request-runner.test.ts).
  const worker = new SealingWorker({ ...DEFAULT_SEALING_WORK_LIMITS, burstMs: 1e9 });
  t.after(() => worker.close());
  // As src/controller/sealed-secrets/runner.ts answers: `refused` outcomes are the client's fault.
  const run = async (job: Parameters<SealingWorker["run"]>[0]) => {
    const outcome = await worker.run(job);
    if (outcome.kind === "refused") throw new SealingRequestError(outcome.message, outcome.statusCode, "invalid");
    return outcome;
  };
  const app = createControllerServer({
    receivers: [],
    onPush: () => Promise.resolve(0),
    metrics: createControllerMetrics(),
    readiness: () => true,
    logger: pino({ level: "silent" }, new Writable({ write: (_chunk, _encoding, done) => done() })),
    sealingCertificate: () => key.certificatePem,
    verifySealedSecret: async (manifest) => (await run({ op: "verify", manifest, privateKeys: [key.privateKey] })).kind === "unsealed",
    reEncryptSealedSecret: async (manifest) => {
      const outcome = await run({ op: "rotate", manifest, privateKeys: [key.privateKey], publicKey });
      if (outcome.kind === "sealed-elsewhere") throw new SealingRequestError(outcome.message, 409, "does-not-unseal");
      return outcome.result;
    },
  });
  t.after(() => app.close());

  const value = sealed.spec.encryptedData.password!;
  const tamperedObject = fc.record({ password: fc.oneof(fc.constant(value), corruptBase64(value)), name: fc.constantFrom("db", "other", ""), count: fc.constantFrom(1, 2, 600) }).map(
    ({ password, name, count }): SealedSecret => ({
      ...sealed,
      metadata: { ...sealed.metadata, name },
      spec: { encryptedData: Object.fromEntries(Array.from({ length: count }, (_, i) => [i === 0 ? "password" : `k${i}`, password])) },
    }),
  );
  const body = fc.oneof(
    { weight: 3, arbitrary: fc.tuple(tamperedObject, fc.boolean()).map(([object, json]) => (json ? JSON.stringify(object) : stringify(object))) },
    { weight: 1, arbitrary: mutated(fc.constant(stringify(sealed)), 3) },
    { weight: 1, arbitrary: hostileYaml([JSON.stringify(sealed)]) },
  );
  await fuzz(t, {
    name: "sealing routes (src/server/sealing-routes.ts via fastify inject, sealing worker)",
    arbitrary: fc.tuple(body, fc.constantFrom("/v1/verify", "/v1/rotate"), fc.constantFrom("application/json", "application/yaml", "text/plain", "", "application/x-www-form-urlencoded")),
    allowed: [],
    runsScale: 0.3,
    // The work happens on the worker thread, whose CPU time counts too: up to 600 RSA decryptions.
    maxMs: 15_000,
    run: async ([payload, url, type]) => {
      const response = await app.inject({ method: "POST", url, payload, headers: type ? { "content-type": type } : {} });
      return { status: response.statusCode, body: response.body, retryAfter: response.headers["retry-after"] };
    },
    check: (result) => {
      const { status, body: answer, retryAfter } = result as { status: number; body: string; retryAfter: unknown };
      assert.ok([200, 400, 409, 413, 429, 503].includes(status), `status ${status}: ${answer.slice(0, 300)}`);
      if (status === 429 || status === 503) assert.ok(retryAfter !== undefined, "a refusal for load says when to retry");
      assert.ok(!answer.includes(PLAINTEXT), "the answer holds a sealed value's plaintext");
    },
  });
});
