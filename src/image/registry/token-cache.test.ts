import assert from "node:assert/strict";
import { test } from "node:test";
import { TokenCache, tokenExpiry } from "./token-cache.ts";

test("tokens are reused per scope until they expire", () => {
  let now = 1_000_000;
  const cache = new TokenCache(() => now);
  const pull = TokenCache.key({ realm: "https://auth/token", service: "reg", scope: "repository:a:pull", account: "u" });
  const other = TokenCache.key({ realm: "https://auth/token", service: "reg", scope: "repository:b:pull", account: "u" });
  cache.set(pull, { token: "t1", expiresAt: now + 60_000 });
  assert.equal(cache.get(pull), "t1");
  assert.equal(cache.get(other), undefined);
  now += 60_000;
  assert.equal(cache.get(pull), undefined);
});

test("expiry follows expires_in and issued_at, renewing a little early", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  assert.equal(tokenExpiry({ expires_in: 300 }, now), now + 295_000);
  assert.equal(tokenExpiry({}, now), now + 55_000);
  assert.equal(tokenExpiry({ expires_in: 10 }, now), now + 9_000);
  assert.equal(tokenExpiry({ expires_in: 300, issued_at: "2024-12-31T23:59:00Z" }, now), now - 60_000 + 295_000);
  // An issued_at in the future (clock skew) does not extend the token's life.
  assert.equal(tokenExpiry({ expires_in: 300, issued_at: "2025-01-01T01:00:00Z" }, now), now + 295_000);
});
