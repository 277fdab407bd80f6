import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDuration } from "./duration.ts";

test("parses the duration forms Flux and kubectl users write", () => {
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("45"), 45_000);
});

test("rejects what it cannot read, saying how to write it", () => {
  assert.throws(() => parseDuration("5 minutes"), /invalid duration "5 minutes": use forms like 30s/);
  assert.throws(() => parseDuration("m5"), /invalid duration/);
});
