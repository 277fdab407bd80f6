import assert from "node:assert/strict";
import { test } from "node:test";
import { TokenBucket } from "./token-bucket.ts";

test("a full bucket admits until spent, then says when to come back", () => {
  let now = 0;
  const bucket = new TokenBucket(1_000, 250, () => now);
  assert.equal(bucket.retryAfterSeconds(), undefined);
  bucket.take(600);
  assert.equal(bucket.retryAfterSeconds(), undefined);
  bucket.take(600);
  // 200 in debt at 250 a second: back in under a second, rounded up to one.
  assert.equal(bucket.retryAfterSeconds(), 1);
  now += 700;
  assert.equal(bucket.retryAfterSeconds(), 1);
  now += 200;
  assert.equal(bucket.retryAfterSeconds(), undefined);
});

test("a costly request's debt delays the next one in proportion", () => {
  let now = 0;
  const bucket = new TokenBucket(1_000, 250, () => now);
  bucket.take(3_500);
  assert.equal(bucket.retryAfterSeconds(), 10);
  now += 9_900;
  assert.equal(bucket.retryAfterSeconds(), 1);
  now += 200;
  assert.equal(bucket.retryAfterSeconds(), undefined);
});

test("it refills no further than its capacity", () => {
  let now = 0;
  const bucket = new TokenBucket(1_000, 250, () => now);
  now += 3_600_000;
  bucket.take(1_000);
  assert.equal(bucket.retryAfterSeconds(), 1);
});
