import assert from "node:assert/strict";
import { test } from "node:test";
import { OPERATION_ANNOTATION, operationAnnotation, parseOperation } from "./operation.ts";

const at = "2026-12-07T01:00:00.000Z";

test("a requested operation round-trips through its annotation", () => {
  const value = operationAnnotation({ action: "suspend", actor: "alice@example.com", at })[OPERATION_ANNOTATION] ?? "";
  assert.deepEqual(parseOperation(value), { action: "suspend", actor: "alice@example.com", at });
});

test("an annotation with a forged line, an unknown action, a huge actor or no time is refused", () => {
  const refused = (value: unknown) => "refused" in parseOperation(JSON.stringify(value));
  assert.ok(refused({ action: "suspend", actor: "alice\n2026-12-07,prod,web,mallory,sync", at }));
  assert.ok(refused({ action: "suspend", actor: "alice\u2028bob", at }));
  assert.ok(refused({ action: "suspend", actor: "\u001b[31mred", at }));
  assert.ok(refused({ action: "rollback", actor: "alice", at }));
  assert.ok(refused({ action: "sync", actor: "alice", at }));
  assert.ok(refused({ action: "reconcile", actor: "a".repeat(257), at }));
  assert.ok(refused({ action: "reconcile", actor: "", at }));
  assert.ok(refused({ action: "reconcile", actor: "alice", at: "yesterday-ish" }));
  assert.ok(refused({ action: "reconcile", actor: "alice" }));
  assert.ok("refused" in parseOperation("{not json"));
  assert.ok("refused" in parseOperation(`{"action":"reconcile","actor":"alice","at":"${at}","pad":"${"x".repeat(2000)}"}`));
  assert.throws(() => operationAnnotation({ action: "reconcile", actor: "eve\r\n", at }));
});

test("a rollback names its target revision strictly; other operations name none", () => {
  const target = `main@sha1:${"a".repeat(40)}`;
  const value = operationAnnotation({ action: "rollback", actor: "alice", at, target })[OPERATION_ANNOTATION] ?? "";
  assert.deepEqual(parseOperation(value), { action: "rollback", actor: "alice", at, target });
  const refused = (value: unknown) => "refused" in parseOperation(JSON.stringify(value));
  assert.ok(refused({ action: "rollback", actor: "alice", at, target: "main@sha1:abc" }), "a short SHA");
  assert.ok(refused({ action: "rollback", actor: "alice", at, target: `main@sha1:${"a".repeat(40)}\nforged` }));
  assert.ok(refused({ action: "rollback", actor: "alice", at, target: `--upload-pack=x@sha1:${"a".repeat(40)}` }), "a ref that reads as an option");
  assert.ok(refused({ action: "rollback", actor: "alice", at, target: `main@sha1:${"A".repeat(40)}` }));
  assert.ok(refused({ action: "rollback", actor: "alice", at, target: 7 }));
  assert.ok(refused({ action: "reconcile", actor: "alice", at, target }), "a target on another operation");
  assert.throws(() => operationAnnotation({ action: "rollback", actor: "alice", at }));
});
