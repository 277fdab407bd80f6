import assert from "node:assert/strict";
import { test } from "node:test";
import type { ChangeRecord } from "./decision.ts";
import { RecentChanges } from "./recent-changes.ts";

const change = (overrides: Partial<ChangeRecord> = {}): ChangeRecord => ({
  object: "Deployment.apps/shop/web",
  application: { namespace: "shop", name: "web" },
  user: "alice",
  groups: [],
  fieldManager: "kubectl-scale",
  operation: "UPDATE",
  fields: ["spec.replicas"],
  breakGlass: false,
  ...overrides,
});

test("a drift event finds the admitted change of its object and field manager, once", () => {
  const recent = new RecentChanges(() => 0);
  recent.remember(change({ user: "bob", fieldManager: "kubectl-edit" }));
  recent.remember(change());
  recent.remember(change({ object: "ConfigMap/shop/other", user: "carol" }));
  assert.equal(recent.take({ object: "Deployment.apps/shop/web", deleted: false, fieldManager: "kubectl-scale" })?.user, "alice");
  assert.equal(recent.take({ object: "Deployment.apps/shop/web", deleted: false, fieldManager: "kubectl-scale" }), undefined, "taken once");
  assert.equal(recent.take({ object: "Deployment.apps/shop/web", deleted: false, fieldManager: "kubectl-edit" })?.user, "bob");
  // A deletion matches only a DELETE.
  recent.remember(change({ operation: "DELETE", user: "dave", fieldManager: undefined }));
  recent.remember(change({ user: "erin", fieldManager: undefined }));
  assert.equal(recent.take({ object: "Deployment.apps/shop/web", deleted: true })?.user, "dave");
  // A request that named no field manager matches any write.
  assert.equal(recent.take({ object: "Deployment.apps/shop/web", deleted: false, fieldManager: "kubectl" })?.user, "erin");
});

test("bounded: records expire after the window, and the oldest go past the limit", () => {
  let now = 0;
  const recent = new RecentChanges(() => now, 1000, 3);
  recent.remember(change({ user: "old" }));
  now = 1500;
  assert.equal(recent.size, 0);
  assert.equal(recent.take({ object: "Deployment.apps/shop/web", deleted: false, fieldManager: "kubectl-scale" }), undefined);
  for (let i = 0; i < 10; i++) recent.remember(change({ object: `ConfigMap/shop/c${i}`, user: `u${i}` }));
  assert.equal(recent.size, 3);
  assert.equal(recent.take({ object: "ConfigMap/shop/c0", deleted: false, fieldManager: "kubectl-scale" }), undefined);
  assert.equal(recent.take({ object: "ConfigMap/shop/c9", deleted: false, fieldManager: "kubectl-scale" })?.user, "u9");
});
