import assert from "node:assert/strict";
import { test } from "node:test";
import { EXIT_CODES, SyncError } from "./errors.ts";

test("a wrapped error keeps its message and stays reachable as the cause", () => {
  const original = new TypeError("git: could not resolve host");
  const wrapped = SyncError.wrap("source", original);
  assert.equal(wrapped.failure, "source");
  assert.equal(wrapped.message, original.message);
  assert.equal(wrapped.cause, original, "the cause chain is kept, not just the message");
});

test("a SyncError is not wrapped again: its own failure stays", () => {
  const decryption = new SyncError("decryption", "decryption Secret ns/keys not found");
  assert.equal(SyncError.wrap("render", decryption), decryption);
});

test("prune and decryption failures exit like apply and render failures", () => {
  assert.equal(EXIT_CODES.prune, EXIT_CODES.apply);
  assert.equal(EXIT_CODES.decryption, EXIT_CODES.render);
});
