/**
 * Receiver objects through the real fastify app: every type's verification, the events filter,
 * registry payloads, and the rate limits; every invalid delivery answered as an unknown path.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { Writable } from "node:stream";
import { test, type TestContext } from "node:test";
import { pino } from "pino";
import { receiverWebhookPath, type ReceiverObjectType, type ReceiverRoute } from "../api/receiver-types.ts";
import { createControllerMetrics } from "../controller/metrics.ts";
import { createControllerServer } from "./http-server.ts";
import { signHmacSha256 } from "./webhook-signatures.ts";
import type { WebhookLimits } from "./webhook-route.ts";

const TOKEN = "receiver-token-5c0e9b7a";
const BODY = JSON.stringify({ ref: "refs/heads/main", repository: { repo_name: "team/app" }, push_data: { tag: "1.2.3" } });

function serve(t: TestContext, types: ReceiverObjectType[], options: { events?: string[]; limits?: WebhookLimits } = {}) {
  const triggered: string[] = [];
  const logs: string[] = [];
  const routes: ReceiverRoute[] = types.map((type) => {
    const path = receiverWebhookPath(TOKEN, type, "team-a");
    return { segment: path.slice("/hook/".length), type, token: TOKEN, events: options.events ?? [], id: `team-a/${type}`, trigger: () => triggered.push(type) };
  });
  const app = createControllerServer({
    receivers: [],
    onPush: () => Promise.resolve(0),
    receiverRoutes: () => routes,
    metrics: createControllerMetrics(),
    readiness: () => true,
    logger: pino({ level: "info" }, new Writable({ write: (chunk: Buffer, _encoding, done) => (logs.push(chunk.toString()), done()) })),
    ...(options.limits ? { webhookLimits: options.limits } : {}),
  });
  t.after(() => app.close());
  const post = (type: ReceiverObjectType, headers: Record<string, string>, body = BODY) => app.inject({ method: "POST", url: receiverWebhookPath(TOKEN, type, "team-a"), headers: { "content-type": "application/json", ...headers }, payload: body });
  return { app, post, triggered, logs };
}

const hex = (body: string, key = TOKEN) => createHmac("sha256", key).update(body).digest("hex");

/** For each type: headers that verify, and headers a forger without the token could send. */
const CASES: Array<{ type: ReceiverObjectType; good: Record<string, string>; forged: Array<Record<string, string>> }> = [
  { type: "github", good: { "x-github-event": "push", "x-hub-signature-256": signHmacSha256(TOKEN, BODY) }, forged: [{ "x-github-event": "push" }, { "x-github-event": "push", "x-hub-signature-256": signHmacSha256("guess", BODY) }] },
  { type: "gitlab", good: { "x-gitlab-event": "Push Hook", "x-gitlab-token": TOKEN }, forged: [{ "x-gitlab-event": "Push Hook" }, { "x-gitlab-token": `${TOKEN}x` }] },
  { type: "gitea", good: { "x-gitea-event": "push", "x-gitea-signature": hex(BODY) }, forged: [{ "x-gitea-event": "push", "x-gitea-signature": hex(BODY, "guess") }, { "x-hub-signature-256": signHmacSha256("guess", BODY) }] },
  { type: "bitbucket", good: { "x-event-key": "repo:refs_changed", "x-hub-signature": signHmacSha256(TOKEN, BODY) }, forged: [{ "x-event-key": "repo:refs_changed" }, { "x-hub-signature": `sha1=${createHmac("sha1", TOKEN).update(BODY).digest("hex")}` }] },
  { type: "generic-hmac", good: { "x-signature": signHmacSha256(TOKEN, BODY) }, forged: [{}, { "x-signature": signHmacSha256(TOKEN, `${BODY} `) }] },
  { type: "harbor", good: { authorization: TOKEN }, forged: [{}, { authorization: `Bearer ${TOKEN}` }] },
];

test("each signed type triggers with its own proof and is refused, as an unknown path, without it", async (t) => {
  const { post, triggered, app, logs } = serve(t, CASES.map((entry) => entry.type));
  const unknown = await app.inject({ method: "POST", url: `/hook/${"0".repeat(64)}`, payload: BODY });
  assert.equal(unknown.statusCode, 404);
  for (const { type, good, forged } of CASES) {
    for (const headers of forged) {
      const refused = await post(type, headers);
      assert.equal(refused.statusCode, 404, `${type} forged ${JSON.stringify(headers)}`);
      assert.equal(refused.body, unknown.body);
    }
    // Another type's proof is not this type's.
    const other = CASES.find((entry) => entry.type !== type && !(type === "gitea" && entry.type === "github"));
    if (other) assert.equal((await post(type, other.good)).statusCode, 404, `${type} with ${other.type}'s headers`);
    assert.deepEqual(triggered, [], `${type}: nothing triggered by a refused delivery`);
    const accepted = await post(type, good);
    assert.equal(accepted.statusCode, 202, type);
    assert.deepEqual(accepted.json(), { triggered: 1 });
    triggered.length = 0;
  }
  const output = logs.join("");
  assert.ok(!output.includes(TOKEN), "the token is never logged");
  assert.ok(!output.includes(receiverWebhookPath(TOKEN, "github", "team-a").slice(6)), "nor the path, a credential for unsigned types");
  assert.match(output, /"receiver":"team-a\/github".*"reason":"X-Hub-Signature-256 does not match the body"/);
});

test("unsigned types (generic, dockerhub, quay, cdevents) trigger on the path alone; registry payloads must be what the registry sends", async (t) => {
  const { post, triggered } = serve(t, ["generic", "dockerhub", "quay", "cdevents"]);
  assert.equal((await post("generic", {}, "anything")).statusCode, 202);
  assert.equal((await post("dockerhub", {})).statusCode, 202);
  assert.equal((await post("quay", {}, JSON.stringify({ docker_url: "quay.io/team/app", updated_tags: ["1.2.3"] }))).statusCode, 202);
  const cdevent = JSON.stringify({ context: { type: "dev.cdevents.artifact.published.0.1.1", id: "1", source: "ci", timestamp: "2026-01-01T00:00:00Z", version: "0.4.1" }, subject: { id: "pkg:oci/app" } });
  assert.equal((await post("cdevents", { "ce-type": "dev.cdevents.artifact.published.0.1.1" }, cdevent)).statusCode, 202);
  assert.deepEqual(triggered, ["generic", "dockerhub", "quay", "cdevents"]);
  triggered.length = 0;
  for (const [type, body] of [["dockerhub", "not json"], ["quay", "[1,2]"], ["cdevents", JSON.stringify({ context: { type: "com.example.push" } })], ["dockerhub", `${"[".repeat(500)}${"]".repeat(500)}`]] as const) {
    const refused = await post(type, {}, body);
    assert.equal(refused.statusCode, 400, `${type}: ${body.slice(0, 40)}`);
    assert.doesNotMatch(refused.body, /not json|com\.example/, "the answer never quotes the payload");
  }
  assert.deepEqual(triggered, []);
});

test("spec.events filters by the type's event header, ignoring case; a GitHub ping never triggers", async (t) => {
  const { post, triggered } = serve(t, ["github", "gitlab", "cdevents"], { events: ["push", "Tag Push Hook"] });
  const sign = { "x-hub-signature-256": signHmacSha256(TOKEN, BODY) };
  assert.deepEqual((await post("github", { ...sign, "x-github-event": "ping" })).json(), { ok: true });
  assert.deepEqual((await post("github", { ...sign, "x-github-event": "pull_request" })).json(), { ignored: "pull_request" });
  assert.equal((await post("github", { ...sign, "x-github-event": "PUSH" })).statusCode, 202);
  assert.equal((await post("gitlab", { "x-gitlab-token": TOKEN, "x-gitlab-event": "tag push hook" })).statusCode, 202);
  assert.equal((await post("gitlab", { "x-gitlab-token": TOKEN, "x-gitlab-event": "Merge Request Hook" })).statusCode, 200);
  assert.deepEqual(triggered, ["github", "gitlab"]);
});

test("rate limits apply before the body is read, to every path alike: 429 past the burst, 503 past the requests in flight", async (t) => {
  const { post, app, triggered } = serve(t, ["generic"], { limits: { inFlight: 1, burst: 3, perSecond: 0.01 } });
  for (let i = 0; i < 3; i++) assert.equal((await post("generic", {})).statusCode, 202);
  // The bucket admits while anything is left, and the time since the last request refilled a sliver.
  assert.equal((await post("generic", {})).statusCode, 202);
  const limited = await post("generic", {});
  assert.equal(limited.statusCode, 429);
  assert.ok(Number(limited.headers["retry-after"]) >= 1);
  const unknown = await app.inject({ method: "POST", url: `/hook/${"0".repeat(64)}`, payload: BODY });
  assert.equal(unknown.statusCode, 429, "an unknown path is limited the same way: the answer says nothing of which paths exist");
  assert.equal(triggered.length, 4);
});

test("a caller trickling a body holds the only slot in flight: the next request is 503 before its body is read", async (t) => {
  const { app, triggered } = serve(t, ["generic"], { limits: { inFlight: 1, burst: 100, perSecond: 100 } });
  const address = await app.listen({ host: "127.0.0.1", port: 0 });
  const url = `${address}${receiverWebhookPath(TOKEN, "generic", "team-a")}`;
  const { request } = await import("node:http");
  const slow = request(url, { method: "POST", headers: { "content-type": "application/json", "content-length": "100" } });
  slow.on("error", () => undefined);
  slow.write("{");
  await new Promise((resolve) => setTimeout(resolve, 100));
  const busy = await fetch(url, { method: "POST", body: BODY, headers: { "content-type": "application/json" } });
  assert.equal(busy.status, 503);
  assert.equal(busy.headers.get("retry-after"), "1");
  slow.destroy();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal((await fetch(url, { method: "POST", body: BODY, headers: { "content-type": "application/json" } })).status, 202, "the slot is free again once the slow caller is gone");
  assert.equal(triggered.length, 1);
});
