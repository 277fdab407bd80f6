import assert from "node:assert/strict";
import { test } from "node:test";
import { INTERVAL_JITTER, requeueDelay, seededRandom } from "./requeue-policy.ts";

test("a success comes back after its interval plus at most 5 %, spread over the whole range", () => {
  const random = seededRandom(42);
  const delays = Array.from({ length: 1000 }, () => requeueDelay({ result: "success", intervalMs: 60_000, failures: 0 }, random) as number);
  for (const delay of delays) {
    assert.ok(delay >= 60_000, `${delay} is earlier than the interval`);
    assert.ok(delay <= 60_000 * (1 + INTERVAL_JITTER), `${delay} is more than 5 % late`);
  }
  // 1,000 Applications with one interval must not fire together: the delays spread out.
  assert.ok(new Set(delays).size > 500, "the jitter spreads the delays");
  assert.ok(Math.max(...delays) - Math.min(...delays) > 2_500, "the spread uses most of the 5 %");
});

test("the same seed gives the same schedule", () => {
  const a = seededRandom(7);
  const b = seededRandom(7);
  for (let i = 0; i < 10; i++) assert.equal(requeueDelay({ result: "success", intervalMs: 600_000, failures: 0 }, a), requeueDelay({ result: "success", intervalMs: 600_000, failures: 0 }, b));
});

test("failures back off exponentially up to the retry interval", () => {
  const middle = () => 0.5; // no jitter
  const delays = [0, 1, 2, 3, 4, 5, 6].map((failures) => requeueDelay({ result: "failed", intervalMs: 600_000, retryMaxMs: 30_000, failures }, middle));
  assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
});

test("without a retry interval failures are capped by the interval, and never by less than the first step", () => {
  const middle = () => 0.5;
  assert.equal(requeueDelay({ result: "failed", intervalMs: 5_000, failures: 10 }, middle), 5_000);
  assert.equal(requeueDelay({ result: "failed", intervalMs: 100, failures: 0 }, middle), 1_000);
  assert.equal(requeueDelay({ result: "failed", failures: 30 }, middle), 300_000);
});

test("an explicit retry interval is honoured even above the 5-minute ceiling; an interval alone is not", () => {
  const middle = () => 0.5;
  assert.equal(requeueDelay({ result: "failed", intervalMs: 3_600_000, retryMaxMs: 3_600_000, failures: 40 }, middle), 3_600_000);
  assert.equal(requeueDelay({ result: "failed", intervalMs: 3_600_000, failures: 40 }, middle), 300_000);
});

test("stalled and idle objects are not requeued", () => {
  assert.equal(requeueDelay({ result: "stalled", intervalMs: 60_000, failures: 3 }, Math.random), undefined);
  assert.equal(requeueDelay({ result: "idle", intervalMs: 60_000, failures: 0 }, Math.random), undefined);
  assert.equal(requeueDelay({ result: "success", failures: 0 }, Math.random), undefined);
});
