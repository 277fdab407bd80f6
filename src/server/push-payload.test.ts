import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { extractPushEvent, parseWebhookPayload, WebhookPayloadError } from "./push-payload.ts";

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, "fixtures", name));

test("a GitHub push gives the repository's URLs, the ref and the new commit", () => {
  const payload = parseWebhookPayload("application/json", fixture("github-push.json"));
  assert.deepEqual(extractPushEvent("github", payload), {
    repositoryUrls: ["github.com/Fjord-Examples/fleet-infra"],
    ref: "refs/heads/main",
    commit: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
  });
});

test("GitHub's form-encoded deliveries carry the JSON in a payload field", () => {
  const body = Buffer.from(new URLSearchParams({ payload: fixture("github-push.json").toString() }).toString());
  const payload = parseWebhookPayload("application/x-www-form-urlencoded; charset=utf-8", body);
  assert.equal(extractPushEvent("github", payload).commit, "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c");
  assert.throws(() => parseWebhookPayload("application/x-www-form-urlencoded", Buffer.from("other=1")), /no payload field/);
});

test("a GitLab push gives the project's URLs and checkout_sha", () => {
  const payload = parseWebhookPayload("application/json", fixture("gitlab-push.json"));
  assert.deepEqual(extractPushEvent("gitlab", payload), {
    repositoryUrls: ["gitlab.example.com/platform/clusters/fleet", "gitlab.example.com:2222/platform/clusters/fleet"],
    ref: "refs/heads/main",
    commit: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
  });
});

test("a deleted ref has no commit", () => {
  const deleted = { ref: "refs/heads/old", after: "0".repeat(40), repository: { clone_url: "https://github.com/org/repo.git" } };
  assert.equal(extractPushEvent("github", deleted).commit, undefined);
  const gitlabDeleted = { ref: "refs/heads/old", after: "0".repeat(40), checkout_sha: null, project: { web_url: "https://gitlab.com/g/p" } };
  assert.equal(extractPushEvent("gitlab", gitlabDeleted).commit, undefined);
});

test("generic senders may use GitHub's, GitLab's or a minimal shape", () => {
  assert.deepEqual(extractPushEvent("generic", { repository: { url: "git@git.example:team/app.git" }, ref: "refs/tags/v1.2.0", commit: "abc123" }), {
    repositoryUrls: ["git.example/team/app"],
    ref: "refs/tags/v1.2.0",
    commit: "abc123",
  });
  assert.deepEqual(extractPushEvent("generic", JSON.parse(fixture("github-push.json").toString())).repositoryUrls, ["github.com/Fjord-Examples/fleet-infra"]);
  assert.equal(extractPushEvent("generic", { repository: { url: "https://git.example/app" } }).ref, undefined);
});

test("payloads that are not JSON objects or name no repository are refused", () => {
  const refused = (error: unknown) => error instanceof WebhookPayloadError;
  assert.throws(() => parseWebhookPayload("application/json", Buffer.from("{not json")), refused);
  assert.throws(() => extractPushEvent("github", []), refused);
  assert.throws(() => extractPushEvent("github", "text"), refused);
  assert.throws(() => extractPushEvent("github", { ref: "refs/heads/main" }), /names no repository/);
  // Fields of the wrong type are not URLs.
  assert.throws(() => extractPushEvent("github", { repository: { clone_url: 42 } }), /names no repository/);
  // Another provider's shape is not read: a GitHub receiver ignores GitLab's fields.
  assert.throws(() => extractPushEvent("github", { project: { web_url: "https://gitlab.com/g/p" } }), /names no repository/);
});

test("a payload nested deeper than fjord's limit is refused without being walked", () => {
  const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
  assert.throws(() => parseWebhookPayload("application/json", Buffer.from(deep)), (error: unknown) => error instanceof WebhookPayloadError && /nested deeper than 200 levels/.test(error.message));
});
