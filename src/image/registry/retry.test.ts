import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffDelay, isRetryableStatus, parseRetryAfter } from "./retry.ts";

test("backoff doubles per attempt, stays within [step/2, step], and is capped", () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 1000 };
  assert.equal(backoffDelay(0, policy, () => 0), 50);
  assert.equal(backoffDelay(0, policy, () => 1), 100);
  assert.equal(backoffDelay(2, policy, () => 0), 200);
  assert.equal(backoffDelay(2, policy, () => 1), 400);
  assert.equal(backoffDelay(10, policy, () => 1), 1000);
  for (let i = 0; i < 50; i++) {
    const delay = backoffDelay(3, policy);
    assert.ok(delay >= 400 && delay <= 800, String(delay));
  }
});

test("Retry-After as seconds or an HTTP date", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("3", now), 3000);
  assert.equal(parseRetryAfter(" 0 ", now), 0);
  assert.equal(parseRetryAfter("Wed, 01 Jan 2025 00:00:10 GMT", now), 10_000);
  assert.equal(parseRetryAfter("Tue, 31 Dec 2024 00:00:00 GMT", now), 0);
  assert.equal(parseRetryAfter("soon", now), undefined);
  assert.equal(parseRetryAfter("-1", now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
});

test("only transient server statuses are retried", () => {
  assert.deepEqual([500, 502, 503, 504].map(isRetryableStatus), [true, true, true, true]);
  assert.deepEqual([400, 401, 404, 429, 501].map(isRetryableStatus), [false, false, false, false, false]);
});
