import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { mapLimit } from "./map-limit.ts";

test("keeps order and never exceeds the limit", async () => {
  let inFlight = 0;
  let peak = 0;
  const results = await mapLimit([5, 1, 4, 2, 3], 2, async (value) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await sleep(value * 3);
    inFlight--;
    return value * 10;
  });
  assert.deepEqual(results, [50, 10, 40, 20, 30]);
  assert.equal(peak, 2);
});

test("attempts every item before throwing the first error", async () => {
  const seen: number[] = [];
  await assert.rejects(
    mapLimit([1, 2, 3, 4], 2, async (value) => {
      seen.push(value);
      await sleep(1);
      if (value === 2) throw new Error("two failed");
      return value;
    }),
    /two failed/,
  );
  assert.deepEqual(seen.sort(), [1, 2, 3, 4]);
});
