import assert from "node:assert/strict";
import { test } from "node:test";
import { formatAge, formatTable, oneLine } from "./table.ts";

test("formatTable aligns columns and leaves the last one unpadded", () => {
  assert.equal(formatTable(["NAME", "READY", "MESSAGE"], [["a", "True", "ok"], ["longer-name", "False", "x"]]), "NAME          READY   MESSAGE\na             True    ok\nlonger-name   False   x");
});

test("formatAge follows kubectl's units", () => {
  const now = Date.parse("2025-01-10T12:00:00Z");
  const ago = (seconds: number) => new Date(now - seconds * 1000).toISOString();
  assert.equal(formatAge(ago(5), now), "5s");
  assert.equal(formatAge(ago(119), now), "119s");
  assert.equal(formatAge(ago(600), now), "10m");
  assert.equal(formatAge(ago(3 * 3600 + 1200), now), "3h20m");
  assert.equal(formatAge(ago(30 * 3600), now), "30h");
  assert.equal(formatAge(ago(5 * 86400), now), "5d");
  assert.equal(formatAge(undefined, now), "<unknown>");
});

test("oneLine flattens and shortens messages", () => {
  assert.equal(oneLine("a\n  b"), "a b");
  assert.equal(oneLine("x".repeat(10), 5), "xxxx…");
});
