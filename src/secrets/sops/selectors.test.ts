import assert from "node:assert/strict";
import { test } from "node:test";
import { activeRule, compileRules } from "./selectors.ts";

test("the default leaves keys ending in _unencrypted (and everything below them) in clear text", () => {
  const rules = compileRules(activeRule({}));
  assert.equal(rules.shouldBeEncrypted(["password"], [], false), true);
  assert.equal(rules.shouldBeEncrypted(["note_unencrypted"], [], false), false);
  assert.equal(rules.shouldBeEncrypted(["a_unencrypted", "b"], [], false), false);
});

test("encrypted_regex selects any key on the path, unanchored like Go's regexp.Match", () => {
  const rules = compileRules({ encryptedRegex: "^(data|stringData)$" });
  assert.equal(rules.shouldBeEncrypted(["data", "password"], [], false), true);
  assert.equal(rules.shouldBeEncrypted(["metadata", "name"], [], false), false);
  assert.equal(rules.shouldBeEncrypted([], [], true), false, "top-level comments stay in clear text");
  assert.equal(compileRules({ encryptedRegex: "pass" }).shouldBeEncrypted(["db", "my-password"], [], false), true);
});

test("unencrypted_regex, encrypted_suffix and unencrypted_suffix", () => {
  assert.equal(compileRules({ unencryptedRegex: "^public" }).shouldBeEncrypted(["public_key"], [], false), false);
  assert.equal(compileRules({ unencryptedRegex: "^public" }).shouldBeEncrypted(["private"], [], false), true);
  assert.equal(compileRules({ encryptedSuffix: "_secret" }).shouldBeEncrypted(["db_secret", "x"], [], false), true);
  assert.equal(compileRules({ encryptedSuffix: "_secret" }).shouldBeEncrypted(["db"], [], false), false);
  assert.equal(compileRules({ unencryptedSuffix: "_plain" }).shouldBeEncrypted(["a_plain"], [], false), false);
});

test("comment rules look at the comments above a value, and leave the marker comment itself in clear text", () => {
  const encrypted = compileRules({ encryptedCommentRegex: "sops:enc" });
  assert.equal(encrypted.shouldBeEncrypted(["password"], [[" sops:enc"]], false), true);
  assert.equal(encrypted.shouldBeEncrypted(["password"], [[]], false), false);
  assert.equal(encrypted.shouldBeEncrypted([], [[" sops:enc"]], true), false);
  assert.equal(encrypted.byComments, true);
  const unencrypted = compileRules({ unencryptedCommentRegex: "plain" });
  assert.equal(unencrypted.shouldBeEncrypted(["a"], [[" plain"]], false), false);
  assert.equal(unencrypted.shouldBeEncrypted(["a"], [[]], false), true);
});

test("Go regexp syntax: inline flags and named groups", () => {
  assert.equal(compileRules({ encryptedRegex: "(?i)^PASS" }).shouldBeEncrypted(["password"], [], false), true);
  assert.equal(compileRules({ encryptedRegex: "^(?P<k>data)$" }).shouldBeEncrypted(["data"], [], false), true);
});

test("only one rule per file", () => {
  assert.throws(() => activeRule({ encryptedRegex: "a", unencryptedSuffix: "_x" }), /only one of/);
  assert.deepEqual(activeRule({}), { unencryptedSuffix: "_unencrypted" });
  assert.throws(() => compileRules({ encryptedRegex: "(" }), /encrypted_regex "\(" is not a valid regular expression/);
});
