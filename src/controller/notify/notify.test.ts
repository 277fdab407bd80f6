import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import type { Alert } from "../../api/notification-types.ts";
import { reportOf, type ReconcileReport } from "../runtime/report.ts";
import { eventsOfReport, type NotificationEvent } from "./events.ts";
import { alertMatches, compileAlert, matchesName } from "./match.ts";
import { fluxEvent, hmacSignature, providerRequest, redactAddress } from "./payload.ts";
import { FailureRateLimiter } from "./rate-limit.ts";

const object = { kind: "Application", namespace: "team-a", name: "web-app" };
const failed = (fields: Partial<ReconcileReport> = {}): ReconcileReport =>
  reportOf({ object, result: "failed", reason: "ApplyFailed", message: "deployments.apps \"web\" is invalid", ready: false, previousReady: true, ...fields });

function alert(spec: Partial<Alert["spec"]> = {}): Alert {
  return { apiVersion: "fjord.dev/v1alpha1", kind: "Alert", metadata: { name: "a", namespace: "team-a" }, spec: { providerRef: { name: "p" }, eventSources: [{ kind: "Application", name: "*" }], ...spec } };
}

const event = (fields: Partial<NotificationEvent> = {}): NotificationEvent => ({ object, severity: "error", reason: "ApplyFailed", message: "boom", timestamp: "2026-01-01T00:00:00.000Z", ...fields });

test("events: a new revision, a failure, a recovery and drift each make one event; an unchanged success none", () => {
  const success = reportOf({ object, result: "success", reason: "ReconciliationSucceeded", message: "ok", ready: true, previousReady: true, revision: "main@sha1:b", previousRevision: "main@sha1:a" });
  assert.deepEqual(eventsOfReport(success).map((e) => [e.severity, e.reason]), [["info", "ReconciliationSucceeded"]]);
  assert.deepEqual(eventsOfReport({ ...success, previousRevision: "main@sha1:b" }), []);
  const recovered = eventsOfReport({ ...success, previousRevision: "main@sha1:b", previousReady: false, previousReason: "ApplyFailed" });
  assert.equal(recovered.length, 1);
  assert.equal(recovered[0]?.reason, "Recovered");
  assert.deepEqual(eventsOfReport({ ...success, previousReady: false }).map((e) => e.message), ["Applied revision main@sha1:b"], "a first Ready (no previous reason) is a new revision, not a recovery");
  assert.deepEqual(eventsOfReport({ ...success, previousReady: false, previousReason: "Progressing" }).map((e) => e.message), ["Applied revision main@sha1:b"], "nor is Ready after Progressing");
  const drift = eventsOfReport({ ...success, previousRevision: "main@sha1:b", driftReverts: [{ object: "ConfigMap/x", changedBy: "kubectl", at: "t" }] });
  assert.deepEqual(drift.map((e) => e.reason), ["DriftReverted"]);
  const failure = eventsOfReport(failed());
  assert.deepEqual(failure.map((e) => [e.severity, e.reason, e.failure]), [["error", "ApplyFailed", { object: "Application/team-a/web-app", reason: "ApplyFailed" }]]);
  assert.equal(eventsOfReport(failed({ reason: "DependencyNotReady" }))[0]?.severity, "info");
  assert.deepEqual(eventsOfReport(reportOf({ object, result: "idle", reason: "Suspended", message: "", ready: true, previousReady: true })), []);
  const warned = reportOf({ object, result: "success", reason: "ReconciliationSucceeded", message: "", ready: true, previousReady: true, warnings: ["unread.txt"] });
  assert.deepEqual(eventsOfReport(warned).map((e) => e.reason), ["RenderWarning"]);
  assert.deepEqual(eventsOfReport({ ...warned, previousWarnings: ["unread.txt"] }), [], "the same warnings again are no news");
});

test("rate limit: one failure per key and interval, with the count of repeats", () => {
  let now = 0;
  const limiter = new FailureRateLimiter(() => now);
  assert.deepEqual(limiter.admit("app/a", "ApplyFailed", 1000), { send: true, suppressed: 0 });
  now = 10;
  assert.deepEqual(limiter.admit("app/a", "ApplyFailed", 1000), { send: false, suppressed: 1 });
  assert.deepEqual(limiter.admit("app/a", "ApplyFailed", 1000), { send: false, suppressed: 2 });
  assert.equal(limiter.admit("app/a", "RenderFailed", 1000).send, true, "another reason is not limited");
  assert.equal(limiter.admit("app/b", "ApplyFailed", 1000).send, true, "another object is not limited");
  now = 1010;
  assert.deepEqual(limiter.admit("app/a", "ApplyFailed", 1000), { send: true, suppressed: 2 });
  assert.deepEqual(limiter.admit("app/a", "ApplyFailed", 1000), { send: false, suppressed: 1 });
  limiter.forget("app/a");
  assert.deepEqual(limiter.admit("app/a", "ApplyFailed", 1000), { send: true, suppressed: 0 }, "after a recovery the failure is news again");
});

test("matching: namespace, kind, name glob, labels, severity, inclusion and exclusion", () => {
  assert.equal(matchesName("*", "x"), true);
  assert.equal(matchesName("web-*", "web-app"), true);
  assert.equal(matchesName("web-*", "api"), false);
  assert.equal(matchesName("*-app", "web-app"), true);
  assert.equal(matchesName("a*b*c", "abc"), true);
  assert.equal(matchesName("a*b*c", "ac"), false);
  assert.equal(matchesName("ab*ba", "aba"), false, "prefix and suffix may not overlap");
  assert.equal(matchesName("web", "web-app"), false);
  const match = (spec: Partial<Alert["spec"]>, e = event(), labels?: Record<string, string>) => alertMatches(compileAlert(alert(spec)), e, labels);
  assert.equal(match({}), true);
  assert.equal(match({}, event({ object: { ...object, namespace: "team-b" } })), false, "another namespace's events never reach an Alert");
  assert.equal(match({ eventSources: [{ kind: "Application", name: "*", namespace: "team-b" }] }, event({ object: { ...object, namespace: "team-b" } })), false);
  assert.equal(match({ eventSources: [{ kind: "GitRepository", name: "*" }] }), false);
  assert.equal(match({ eventSources: [{ kind: "Application", name: "web-*", matchLabels: { tier: "front" } }] }, event(), { tier: "front" }), true);
  assert.equal(match({ eventSources: [{ kind: "Application", name: "web-*", matchLabels: { tier: "front" } }] }, event(), { tier: "back" }), false);
  assert.equal(match({ eventSeverity: "error" }, event({ severity: "info" })), false);
  assert.equal(match({ eventSeverity: "info" }, event({ severity: "error" })), true);
  assert.equal(match({ inclusionList: ["^bo"] }), true);
  assert.equal(match({ inclusionList: ["^x"] }), false);
  assert.equal(match({ exclusionList: ["oo"] }), false);
  assert.equal(match({ suspend: true }), false);
  assert.throws(() => compileAlert(alert({ exclusionList: ["(?=x)"] })), /spec\.exclusionList\[0\].*lookahead/);
});

test("generic payload is Flux's event; generic-hmac signs the exact body", () => {
  const outgoing = { ...event({ revision: "main@sha1:abc" }), summary: "prod" };
  const generic = providerRequest({ type: "generic", address: "http://127.0.0.1/hook" }, outgoing);
  const body = JSON.parse(generic.body) as Record<string, unknown>;
  assert.deepEqual(body, fluxEvent(outgoing));
  assert.deepEqual(Object.keys(body).sort(), ["involvedObject", "message", "metadata", "reason", "reportingController", "severity", "timestamp"]);
  assert.deepEqual(body["metadata"], { revision: "main@sha1:abc", summary: "prod" });
  const signed = providerRequest({ type: "generic-hmac", address: "http://127.0.0.1/hook", token: "s3cret" }, outgoing);
  assert.equal(signed.headers["x-signature"], `sha256=${createHmac("sha256", "s3cret").update(signed.body).digest("hex")}`);
  // RFC 4231-style known answer, so the test does not compute the HMAC the way the code does.
  assert.equal(hmacSignature("The quick brown fox jumps over the lazy dog", "key"), "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
  assert.throws(() => providerRequest({ type: "generic-hmac", address: "http://x" }, outgoing), /token/);
  assert.ok(!signed.body.includes("s3cret"), "the key never travels in the body");
});

test("chat formats: slack, discord, msteams, googlechat, telegram", () => {
  const e = { ...event({ revision: "r1" }), repeated: 3 };
  const slack = JSON.parse(providerRequest({ type: "slack", address: "http://h/services/T/B/X", channel: "#ops", username: "fjord" }, e).body) as { channel: string; username: string; attachments: Array<{ color: string; author_name: string; text: string; fields: Array<{ title: string }> }> };
  assert.equal(slack.channel, "#ops");
  assert.equal(slack.username, "fjord");
  assert.equal(slack.attachments[0]?.color, "danger");
  assert.equal(slack.attachments[0]?.author_name, "Application/web-app.team-a");
  assert.equal(slack.attachments[0]?.text, "boom");
  assert.deepEqual(slack.attachments[0]?.fields.map((f) => f.title), ["revision", "repeated"]);
  const withToken = providerRequest({ type: "slack", address: "https://slack.com/api/chat.postMessage", token: "xoxb-1" }, e);
  assert.equal(withToken.headers["authorization"], "Bearer xoxb-1");
  const discord = JSON.parse(providerRequest({ type: "discord", address: "http://h" }, e).body) as { embeds: Array<{ description: string }> };
  assert.equal(discord.embeds[0]?.description, "boom");
  const teams = JSON.parse(providerRequest({ type: "msteams", address: "http://h" }, e).body) as { type: string; attachments: Array<{ contentType: string; content: { type: string } }> };
  assert.equal(teams.type, "message");
  assert.equal(teams.attachments[0]?.contentType, "application/vnd.microsoft.card.adaptive");
  assert.equal(teams.attachments[0]?.content.type, "AdaptiveCard");
  const chat = JSON.parse(providerRequest({ type: "googlechat", address: "http://h" }, e).body) as { text: string };
  assert.match(chat.text, /boom/);
  const telegram = providerRequest({ type: "telegram", address: "https://api.telegram.org/", token: "123:abc", channel: "-100" }, e);
  assert.equal(telegram.url, "https://api.telegram.org/bot123:abc/sendMessage");
  const telegramBody = JSON.parse(telegram.body) as { chat_id: string; text: string; parse_mode: string };
  assert.equal(telegramBody.chat_id, "-100");
  assert.equal(telegramBody.parse_mode, "MarkdownV2");
  assert.match(telegramBody.text, /web\\-app\\\.team\\-a/);
  assert.ok(!telegram.body.includes("123:abc"));
});

test("addresses are shown without path or query", () => {
  assert.equal(redactAddress("https://hooks.slack.com/services/T000/B000/XXXX?x=1"), "https://hooks.slack.com/***");
  assert.equal(redactAddress("https://user:pw@h:8443/x"), "https://h:8443/***");
  assert.equal(redactAddress("not a url"), "(an invalid URL)");
});

test("events: an image update's pushed commit is one info event naming old -> new; its failure carries the condition's reason", () => {
  const automation = { kind: "ImageUpdateAutomation", namespace: "team-a", name: "bump" };
  const pushed = reportOf({
    object: automation,
    result: "success",
    reason: "ReconciliationSucceeded",
    message: "reconciled",
    ready: true,
    previousReady: true,
    notices: [{ reason: "CommitPushed", message: "pushed commit 0123456789ab to branch main with 1 change(s): deploy.yaml:7: app:1.0.0 -> app:1.1.0", revision: "0123456789abcdef" }],
  });
  assert.deepEqual(eventsOfReport(pushed).map((e) => [e.severity, e.reason, e.revision, e.message.endsWith("app:1.0.0 -> app:1.1.0")]), [["info", "CommitPushed", "0123456789abcdef", true]]);
  assert.deepEqual(eventsOfReport({ ...pushed, notices: [] }), [], "a run that pushed nothing says nothing");
  const failedPush = eventsOfReport(reportOf({ object: automation, result: "failed", reason: "PushRejected", message: "branch main is protected", ready: false, previousReady: true }));
  assert.deepEqual(failedPush.map((e) => [e.severity, e.reason, e.message]), [["error", "PushRejected", "branch main is protected"]]);
});
