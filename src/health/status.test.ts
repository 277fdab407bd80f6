import assert from "node:assert/strict";
import { test } from "node:test";
import { severity, worst, type HealthStatus } from "./status.ts";

test("worst() ranks Current < InProgress < Terminating < Unknown < NotFound < Failed", () => {
  const ascending: HealthStatus[] = ["Current", "InProgress", "Terminating", "Unknown", "NotFound", "Failed"];
  for (const [index, better] of ascending.entries()) {
    for (const worse of ascending.slice(index + 1)) {
      assert.equal(worst(better, worse), worse, `${worse} is worse than ${better}`);
      assert.equal(worst(worse, better), worse, `order of arguments does not matter (${worse}, ${better})`);
      assert.ok(severity(worse) > severity(better));
    }
  }
});

test("worst() of one status is that status, and of none is Current", () => {
  assert.equal(worst(), "Current");
  assert.equal(worst("Terminating"), "Terminating");
  assert.equal(worst("InProgress", "Current", "InProgress"), "InProgress");
});

test("one Failed object makes a whole set Failed", () => {
  assert.equal(worst("Current", "Current", "Failed", "InProgress", "NotFound"), "Failed");
});

test("sorting by severity lists the worst first", () => {
  const statuses: HealthStatus[] = ["InProgress", "Failed", "Current", "NotFound"];
  assert.deepEqual(
    statuses.sort((a, b) => severity(b) - severity(a)),
    ["Failed", "NotFound", "InProgress", "Current"],
  );
});
