import assert from "node:assert/strict";
import { createPublicKey, type KeyObject } from "node:crypto";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { test, type TestContext } from "node:test";
import { generateSealingKey } from "../../secrets/sealed/certificate.ts";
import { DEFAULT_SEALING_WORK_LIMITS, SealingRequestError, SealingWorker, type SealingWorkLimits } from "./request-runner.ts";
import { MAX_SEALED_VALUES } from "../../secrets/sealed/requests.ts";
import { sealSecret } from "../../secrets/sealed/seal.ts";
import type { SealedSecret, Secret } from "../../secrets/sealed/types.ts";

// The two oldest are full-size: a value sealed with one of them costs a dozen RSA attempts, two of them RSA-4096.
const keys = Promise.all(Array.from({ length: 12 }, (_, i) => generateSealingKey({ keySize: i < 10 ? 2048 : 4096 })));

function startWorker(t: TestContext, limits: Partial<SealingWorkLimits> = {}): SealingWorker {
  const worker = new SealingWorker({ ...DEFAULT_SEALING_WORK_LIMITS, ...limits });
  t.after(() => worker.close());
  return worker;
}

function sealedWith(publicKeys: KeyObject[], count: number): SealedSecret {
  // Each value sealed with the next key in turn: unsealing it tries the keys one by one.
  const sealed = publicKeys.map((key) => sealSecret({ apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "shop" }, stringData: { v: "value" } }, key));
  const encryptedData = Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, sealed[i % sealed.length]?.spec.encryptedData.v ?? ""]));
  return { ...sealed[0]!, spec: { encryptedData } };
}

const refusal = (statusCode: number) => (error: unknown) => error instanceof SealingRequestError && error.statusCode === statusCode && error.retryAfterSeconds !== undefined && error.retryAfterSeconds >= 1;

test(`${MAX_SEALED_VALUES} decryptions run on the worker thread: the event loop stays free`, async (t) => {
  const [key] = await keys;
  const worker = startWorker(t);
  const manifest = JSON.stringify(sealedWith([createPublicKey(key!.privateKey)], MAX_SEALED_VALUES));
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const started = performance.now();
  const outcome = await worker.run({ op: "verify", manifest, privateKeys: [key!.privateKey] });
  delay.disable();
  t.diagnostic(`${Math.round(performance.now() - started)} ms for the job, the event loop delayed ${(delay.max / 1e6).toFixed(1)} ms at most`);
  assert.deepEqual(outcome, { kind: "unsealed", result: true });
  assert.ok(delay.max / 1e6 < 100, `the event loop was delayed ${(delay.max / 1e6).toFixed(1)} ms`);
});

test("a job past its deadline is abandoned with 503, and the next one gets a fresh worker", async (t) => {
  const ring = await keys;
  const worker = startWorker(t, { deadlineMs: 2_000 });
  const privateKeys = ring.map((key) => key.privateKey);
  const small = JSON.stringify(sealedWith([createPublicKey(ring[0]!.privateKey)], 1));
  assert.deepEqual(await worker.run({ op: "verify", manifest: small, privateKeys }), { kind: "unsealed", result: true });
  // Values that take turns between the two oldest of twelve keys: about 5,500 RSA decryptions, 1,000 of them RSA-4096.
  const costly = JSON.stringify(sealedWith(ring.slice(-2).map((key) => createPublicKey(key.privateKey)), MAX_SEALED_VALUES));
  const started = performance.now();
  await assert.rejects(worker.run({ op: "verify", manifest: costly, privateKeys }), (error: unknown) => refusal(503)(error) && /took longer than 2 s and was abandoned/.test((error as Error).message));
  assert.ok(performance.now() - started < 5_000);
  assert.deepEqual(await worker.run({ op: "verify", manifest: small, privateKeys }), { kind: "unsealed", result: true });
});

test("when the budget of worker time is spent, requests get 429 with Retry-After until it refills", async (t) => {
  const [key] = await keys;
  let now = 0;
  const worker = new SealingWorker({ ...DEFAULT_SEALING_WORK_LIMITS, burstMs: 50, refillMsPerSecond: 10, minimumChargeMs: 10_000 }, () => now);
  t.after(() => worker.close());
  const manifest = JSON.stringify(sealedWith([createPublicKey(key!.privateKey)], 1));
  assert.equal((await worker.run({ op: "verify", manifest, privateKeys: [key!.privateKey] })).kind, "unsealed");
  // 50 ms of budget, at least 10 s charged: 9,950 ms in debt, 995 s at 10 ms a second.
  await assert.rejects(worker.run({ op: "verify", manifest, privateKeys: [key!.privateKey] }), (error: unknown) => refusal(429)(error) && (error as SealingRequestError).retryAfterSeconds === 995);
  // The controller's own unsealing is never refused for the routes' budget.
  assert.equal((await worker.run({ op: "unseal", sealedSecret: JSON.parse(manifest) as SealedSecret, privateKeys: [key!.privateKey] }, { budgeted: false })).kind, "unsealed");
  now += 995_100;
  assert.equal((await worker.run({ op: "verify", manifest, privateKeys: [key!.privateKey] })).kind, "unsealed");
});

test("the reconciler's unseal runs there too, and gives the Secret or why not", async (t) => {
  const [key, other] = await keys;
  const worker = startWorker(t);
  const sealedSecret = sealSecret({ apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "shop" }, stringData: { password: "p" } }, createPublicKey(key!.privateKey));
  const outcome = await worker.run({ op: "unseal", sealedSecret, privateKeys: [other!.privateKey, key!.privateKey] }, { budgeted: false });
  assert.deepEqual(outcome.kind === "unsealed" ? (outcome.result as Secret).data : undefined, { password: Buffer.from("p").toString("base64") });
  const refused = await worker.run({ op: "unseal", sealedSecret, privateKeys: [other!.privateKey] }, { budgeted: false });
  assert.match(refused.kind === "sealed-elsewhere" ? refused.message : "", /no private key can decrypt encryptedData "password" \(tried 1 key\)/);
});

test("a body that needs more memory than the worker may have kills the worker, not the controller", async (t) => {
  const [key] = await keys;
  const worker = startWorker(t, { maxHeapMb: 16 });
  // Within the bounded reader's limits (under 250,000 tokens, 2 MiB), but not within 16 MiB of heap.
  const huge = `a: [${Array.from({ length: 110_000 }, (_, i) => i).join(",")}]\n`;
  await assert.rejects(worker.run({ op: "verify", manifest: huge, privateKeys: [key!.privateKey] }), /the sealing worker stopped while checking the SealedSecret \(ERR_WORKER_OUT_OF_MEMORY\)/);
  const manifest = JSON.stringify(sealedWith([createPublicKey(key!.privateKey)], 1));
  assert.deepEqual(await worker.run({ op: "verify", manifest, privateKeys: [key!.privateKey] }), { kind: "unsealed", result: true });
});

test("closing refuses queued jobs with 503", async (t) => {
  const [key] = await keys;
  const worker = startWorker(t);
  const manifest = JSON.stringify(sealedWith([createPublicKey(key!.privateKey)], 50));
  const jobs = Promise.allSettled([1, 2, 3].map(() => worker.run({ op: "verify", manifest, privateKeys: [key!.privateKey] })));
  await worker.close();
  for (const job of await jobs) assert.ok(job.status === "rejected" && refusal(503)(job.reason), JSON.stringify(job));
  await assert.rejects(worker.run({ op: "verify", manifest, privateKeys: [key!.privateKey] }), refusal(503));
});
