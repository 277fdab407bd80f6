import assert from "node:assert/strict";
import { test } from "node:test";
import { SyncTracker } from "./sync-tracker.ts";

const event = (object: string, at = "2026-12-01T00:00:00Z") => ({ object, changedBy: "kubectl-edit", at });

test("drift gathered between syncs goes to the next sync, once", () => {
  const syncs = new SyncTracker();
  syncs.addPending("app", event("ConfigMap/a"));
  syncs.addPending("app", event("Service/b"));
  const first = syncs.start("app", new AbortController().signal);
  assert.deepEqual(first.drift?.map((drift) => drift.object), ["ConfigMap/a", "Service/b"]);
  first.end();
  const second = syncs.start("app", new AbortController().signal);
  assert.equal(second.drift, undefined);
  second.end();
});

test("a sync is 'syncing' until it ends; superseding or stopping the controller aborts it", () => {
  const syncs = new SyncTracker();
  assert.equal(syncs.latestStart("app"), "");
  const controller = new AbortController();
  const sync = syncs.start("app", controller.signal);
  assert.ok(syncs.isSyncing("app"));
  assert.match(syncs.latestStart("app"), /^\d{4}-\d\d-\d\dT/);
  syncs.supersede("app", new Error("superseded by revision main@sha1:b"));
  assert.equal(sync.signal.aborted, true);
  assert.match(String(sync.signal.reason), /superseded/);
  sync.end();
  assert.equal(syncs.isSyncing("app"), false);

  const next = syncs.start("app", controller.signal);
  controller.abort(new Error("shutting down"));
  assert.equal(next.signal.aborted, true);
  next.end();
});

test("with selfHeal off each change is reported once, again after a sync cleared it, and forgotten with the Application", () => {
  const syncs = new SyncTracker();
  assert.equal(syncs.firstReport("app", event("ConfigMap/a")), true);
  assert.equal(syncs.firstReport("app", event("ConfigMap/a")), false, "a later status update repeats the same change");
  assert.equal(syncs.firstReport("app", event("ConfigMap/a", "2026-12-01T00:01:00Z")), true, "a new change to the same object");
  syncs.clearReports("app");
  assert.equal(syncs.firstReport("app", event("ConfigMap/a")), true);
  syncs.addPending("app", event("Service/b"));
  syncs.forget("app");
  assert.equal(syncs.firstReport("app", event("ConfigMap/a")), true);
  const sync = syncs.start("app", new AbortController().signal);
  assert.equal(sync.drift, undefined, "pending drift of a deleted Application is dropped");
  sync.end();
});

test("the cached Application is used only once it holds the controller's own last write", () => {
  const syncs = new SyncTracker();
  const at = (resourceVersion: string) => ({ apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "app", resourceVersion } });
  assert.equal(syncs.isCurrent("app", at("100")), true, "nothing written yet: the watch's copy is as new as any");
  syncs.recordWrite("app", "105");
  assert.equal(syncs.isCurrent("app", at("100")), false, "the status write has not reached the watch yet");
  assert.equal(syncs.isCurrent("app", at("105")), true);
  assert.equal(syncs.isCurrent("app", at("230")), true);
  syncs.forget("app");
  assert.equal(syncs.isCurrent("app", at("1")), true);
});
