import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import type { PendingNotification } from "./delivery.ts";
import { fitSnapshot } from "./queue-store.ts";

const pending = (count: number, bodyBytes: number): PendingNotification[] =>
  Array.from({ length: count }, (_, index) => ({ provider: `ns/p${index % 3}`, item: { request: { url: "https://hooks.example/x", headers: {}, body: randomBytes(bodyBytes).toString("hex") }, timeoutMs: 1_000 } }));

test("a snapshot that fits is kept whole", () => {
  const all = pending(20, 100);
  const { kept, dropped } = fitSnapshot(all, 700 * 1024);
  assert.equal(kept.length, 20);
  assert.equal(dropped.length, 0);
});

test("a snapshot too large for the Secret loses its oldest entries until it fits", () => {
  // Random bodies do not compress: 100 of 2 KiB each (4 KiB as hex) cannot fit in 64 KiB.
  const all = pending(100, 2_048);
  const { kept, dropped, encoded } = fitSnapshot(all, 64 * 1024);
  assert.ok(encoded.length <= 64 * 1024);
  assert.ok(kept.length > 0 && dropped.length > 0);
  assert.deepEqual(dropped, all.slice(0, dropped.length), "the oldest go first");
  assert.deepEqual(kept, all.slice(dropped.length), "the newest stay, in order");
});
