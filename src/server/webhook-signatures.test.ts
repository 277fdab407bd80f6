import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import { classifyWebhookEvent, signHmacSha256, verifyWebhookSignature, type SignatureCheck } from "./webhook-signatures.ts";

const SECRET = "s3cret-webhook-key";
const BODY = Buffer.from('{"ref":"refs/heads/main","after":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"}');
const hmac = (algorithm: string, key: string, body: Buffer) => createHmac(algorithm, key).update(body).digest("hex");

function assertInvalid(check: SignatureCheck, reason: RegExp): void {
  assert.equal(check.valid, false);
  if (!check.valid) {
    assert.match(check.reason, reason);
    assert.ok(!check.reason.includes(SECRET), "the reason must not carry the secret");
  }
}

test("signHmacSha256 signs as GitHub does (the example in GitHub's webhook documentation)", () => {
  // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
  assert.equal(signHmacSha256("It's a Secret to Everybody", "Hello, World!"), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
  assert.deepEqual(
    verifyWebhookSignature("github", "It's a Secret to Everybody", { "x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" }, Buffer.from("Hello, World!")),
    { valid: true },
  );
});

test("GitHub: X-Hub-Signature-256 must be the body's HMAC-SHA256 under the secret", () => {
  const verify = (headers: Record<string, string>, body = BODY) => verifyWebhookSignature("github", SECRET, headers, body);
  assert.deepEqual(verify({ "x-hub-signature-256": signHmacSha256(SECRET, BODY) }), { valid: true });
  // Hex digits in upper case are the same signature.
  assert.deepEqual(verify({ "x-hub-signature-256": `sha256=${hmac("sha256", SECRET, BODY).toUpperCase()}` }), { valid: true });

  assertInvalid(verify({ "x-hub-signature-256": signHmacSha256("another-secret", BODY) }), /does not match/);
  assertInvalid(verify({ "x-hub-signature-256": signHmacSha256(SECRET, BODY) }, Buffer.from(`${BODY.toString()} `)), /does not match/);
  assertInvalid(verify({}), /missing X-Hub-Signature-256/);
  // GitHub's legacy SHA-1 header alone is not enough.
  assertInvalid(verify({ "x-hub-signature": `sha1=${hmac("sha1", SECRET, BODY)}` }), /missing X-Hub-Signature-256/);
  assertInvalid(verify({ "x-hub-signature-256": `sha1=${hmac("sha1", SECRET, BODY)}` }), /must be sha256=/);
  assertInvalid(verify({ "x-hub-signature-256": `sha512=${hmac("sha512", SECRET, BODY)}` }), /must be sha256=/);
  assertInvalid(verify({ "x-hub-signature-256": hmac("sha256", SECRET, BODY) }), /must be sha256=/);
  assertInvalid(verify({ "x-hub-signature-256": "sha256=abc" }), /not a hex SHA-256/);
  assertInvalid(verify({ "x-hub-signature-256": `sha256=${"z".repeat(64)}` }), /not a hex SHA-256/);
});

test("GitLab: X-Gitlab-Token must equal the secret", () => {
  const verify = (headers: Record<string, string>) => verifyWebhookSignature("gitlab", SECRET, headers, BODY);
  assert.deepEqual(verify({ "x-gitlab-token": SECRET }), { valid: true });
  assertInvalid(verify({ "x-gitlab-token": "wrong" }), /does not match/);
  assertInvalid(verify({ "x-gitlab-token": `${SECRET}x` }), /does not match/);
  assertInvalid(verify({ "x-gitlab-token": SECRET.slice(0, -1) }), /does not match/);
  assertInvalid(verify({ "x-gitlab-token": "" }), /does not match/);
  assertInvalid(verify({}), /missing X-Gitlab-Token/);
  // An HMAC is not a token: a GitLab receiver does not accept GitHub's or the generic scheme.
  assertInvalid(verify({ "x-hub-signature-256": signHmacSha256(SECRET, BODY), "x-signature": signHmacSha256(SECRET, BODY) }), /missing X-Gitlab-Token/);
  assertInvalid(verify({ "x-gitlab-token": signHmacSha256(SECRET, BODY) }), /does not match/);
});

test("generic (and Flux's generic-hmac): X-Signature: sha256=<hex HMAC>", () => {
  const verify = (headers: Record<string, string>) => verifyWebhookSignature("generic", SECRET, headers, BODY);
  assert.deepEqual(verify({ "x-signature": signHmacSha256(SECRET, BODY) }), { valid: true });
  assertInvalid(verify({ "x-signature": signHmacSha256("another-secret", BODY) }), /X-Signature does not match/);
  assertInvalid(verify({}), /missing X-Signature/);
  assertInvalid(verify({ "x-hub-signature-256": signHmacSha256(SECRET, BODY) }), /missing X-Signature/);
  assertInvalid(verify({ "x-signature": `sha1=${hmac("sha1", SECRET, BODY)}` }), /must be sha256=/);
  assertInvalid(verify({ "x-signature": `md5=${hmac("md5", SECRET, BODY)}` }), /must be sha256=/);
});

test("a receiver without a secret accepts nothing", () => {
  const empty = Buffer.alloc(0);
  assertInvalid(verifyWebhookSignature("github", "", { "x-hub-signature-256": signHmacSha256("", empty) }, empty), /no secret/);
  assertInvalid(verifyWebhookSignature("gitlab", "", { "x-gitlab-token": "" }, empty), /no secret/);
  assertInvalid(verifyWebhookSignature("generic", "", { "x-signature": signHmacSha256("", empty) }, empty), /no secret/);
});

test("events: GitHub push and ping, GitLab push and tag push, generic always push", () => {
  assert.deepEqual(classifyWebhookEvent("github", { "x-github-event": "push" }), { kind: "push", name: "push" });
  assert.deepEqual(classifyWebhookEvent("github", { "x-github-event": "ping" }), { kind: "ping", name: "ping" });
  assert.deepEqual(classifyWebhookEvent("github", { "x-github-event": "pull_request" }), { kind: "ignored", name: "pull_request" });
  assert.deepEqual(classifyWebhookEvent("github", {}), { kind: "ignored", name: "" });
  assert.deepEqual(classifyWebhookEvent("gitlab", { "x-gitlab-event": "Push Hook" }), { kind: "push", name: "Push Hook" });
  assert.deepEqual(classifyWebhookEvent("gitlab", { "x-gitlab-event": "Tag Push Hook" }), { kind: "push", name: "Tag Push Hook" });
  assert.deepEqual(classifyWebhookEvent("gitlab", { "x-gitlab-event": "Merge Request Hook" }), { kind: "ignored", name: "Merge Request Hook" });
  assert.deepEqual(classifyWebhookEvent("generic", {}), { kind: "push", name: "push" });
});
