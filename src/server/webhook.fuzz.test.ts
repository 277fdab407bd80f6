/**
 * Fuzzing the webhook receiver: the payload reader (push-payload.ts) and repository URLs
 * (src/git/repository-url.ts, and the rule for the URLs the controller may fetch,
 * src/git/remote-url.ts), then the whole route through the real fastify app (inject), with
 * correctly signed hostile bodies and hostile headers. Properties (testenv/fuzz.ts): the
 * readers throw only WebhookPayloadError; the route answers 200, 202, 400 or 404 (never 500)
 * and an invalid request exactly like an unknown path; a URL the rule accepts is never a local
 * path, an option or a remote helper.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import fc from "fast-check";
import { pino } from "pino";
import { deepNesting, hostileString, mutated } from "../../testenv/fuzz-arbitraries.ts";
import { RECEIVER_TYPES, type ReceiverObjectType } from "../api/receiver-types.ts";
import { checkReceiverPayload, receiverEvent } from "./receiver-objects.ts";
import { fuzz } from "../../testenv/fuzz.ts";
import { createControllerMetrics } from "../controller/metrics.ts";
import { remoteUrlProblem } from "../git/remote-url.ts";
import { normaliseRepositoryUrl } from "../git/repository-url.ts";
import { createControllerServer } from "./http-server.ts";
import { extractPushEvent, parseWebhookPayload, WebhookPayloadError, type PushEvent } from "./push-payload.ts";
import { signHmacSha256 } from "./webhook-signatures.ts";

const url = fc.oneof(
  mutated(fc.constantFrom("https://github.com/org/repo.git", "git@github.com:org/repo.git", "ssh://git@host:2222/org/repo", "http://[::1]:8080/r", "https://user:pass@host/r%2e%2e/x"), 3),
  fc.constantFrom("file:///srv/git/team-b.git", "/srv/git", "./repo", "ext::sh -c x", "-oProxyCommand=x@h:r", "https://-oProxyCommand=x/r", "ssh://-x/r", "https://host/r\nfetch = x", "fd::3", "C:\\repo", "x@-h:r", "a@b:c\u0000"),
  hostileString,
);

test("repository URLs: normalising never throws; the controller's rule admits only remote URLs", async (t) => {
  await fuzz(t, {
    name: "normaliseRepositoryUrl, remoteUrlProblem (src/git/repository-url.ts, remote-url.ts)",
    arbitrary: url,
    allowed: [],
    run: (text) => ({ normalised: normaliseRepositoryUrl(text), problem: remoteUrlProblem(text) }),
    check: (result, text) => {
      const { problem } = result as { problem: string | undefined };
      if (problem !== undefined) return;
      assert.match(text, /^((https?|ssh):\/\/|[A-Za-z0-9_][A-Za-z0-9._~-]*@[A-Za-z0-9][A-Za-z0-9.-]*:)/, "a remote URL");
      // The rule is RE2's (the API server's CEL reads it too): ASCII whitespace and controls, which are what git's configuration and command line treat specially.
      assert.ok(![...text].some((char) => char.charCodeAt(0) <= 0x20 || char === "\x7f"), "no whitespace or control characters");
      assert.doesNotMatch(text, /^(file:|\/|\.|-)|^[A-Za-z0-9+.-]+::|^\w+:\/\/-/i, "not a local path, an option or a remote helper");
    },
  });
});

/** Every byte of the UTF-8 text percent-encoded (encodeURIComponent throws on lone surrogates). */
const percentEncoded = (text: string) => [...Buffer.from(text, "utf8")].map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join("");

const payloadJson: fc.Arbitrary<string> = fc.oneof(
  fc.record({ repository: fc.record({ clone_url: url, ssh_url: url, url }, { requiredKeys: [] }), ref: hostileString, after: fc.oneof(fc.constant("0".repeat(40)), hostileString), project: fc.record({ git_http_url: url }) }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
  mutated(fc.constant('{"ref":"refs/heads/main","after":"abc","repository":{"clone_url":"https://github.com/org/repo.git"}}'), 3),
  fc.json(),
  hostileString,
);
const contentType = fc.constantFrom("application/json", "application/x-www-form-urlencoded", "APPLICATION/X-WWW-FORM-URLENCODED; charset=utf-8", "text/plain", "", "multipart/form-data; boundary=x");
const body = fc.tuple(payloadJson, contentType).map(([json, type]) => ({ type, raw: type.toLowerCase().startsWith("application/x-www-form-urlencoded") ? `payload=${percentEncoded(json)}` : json }));

test("parseWebhookPayload + extractPushEvent: only WebhookPayloadError", async (t) => {
  await fuzz(t, {
    name: "parseWebhookPayload/extractPushEvent (src/server/push-payload.ts)",
    arbitrary: fc.tuple(body, fc.constantFrom<"github" | "gitlab" | "generic">("github", "gitlab", "generic")),
    allowed: [WebhookPayloadError],
    run: ([{ type, raw }, receiver]) => extractPushEvent(receiver, parseWebhookPayload(type, Buffer.from(raw))),
    check: (event) => {
      const push = event as PushEvent;
      assert.ok(push.repositoryUrls.length > 0 && push.repositoryUrls.every((item) => typeof item === "string" && item.length > 0));
    },
  });
});

test("Receiver objects: registry payloads and the events filter throw only WebhookPayloadError", async (t) => {
  const registryPayload = fc.oneof(
    payloadJson,
    mutated(fc.constantFrom('{"push_data":{"tag":"1.2.3"},"repository":{"repo_name":"team/app"}}', '{"docker_url":"quay.io/team/app","updated_tags":["1"]}', '{"context":{"type":"dev.cdevents.artifact.published.0.1.1"},"subject":{}}'), 3),
    deepNesting,
  );
  await fuzz(t, {
    name: "checkReceiverPayload, receiverEvent (src/server/receiver-objects.ts)",
    arbitrary: fc.tuple(registryPayload, fc.constantFrom<ReceiverObjectType>(...RECEIVER_TYPES), fc.array(hostileString, { maxLength: 3 }), hostileString),
    allowed: [WebhookPayloadError],
    run: ([raw, type, events, header]) => {
      checkReceiverPayload(type, Buffer.from(raw));
      return receiverEvent({ type, events }, { "x-github-event": header, "x-gitlab-event": header, "x-gitea-event": header, "x-event-key": header, "ce-type": header });
    },
    check: (event) => assert.ok(["push", "ping", "ignored"].includes((event as { kind: string }).kind)),
  });
});

test("POST /hook/<token>: signed hostile deliveries get 200, 202 or 400; anything invalid gets the 404 of an unknown path", async (t) => {
  const secret = "webhook-secret";
  const pushes: PushEvent[] = [];
  const app = createControllerServer({
    receivers: [
      { token: "gh", type: "github", secret },
      { token: "gl", type: "gitlab", secret },
      { token: "any", type: "generic", secret },
    ],
    onPush: (event) => {
      pushes.push(event);
      return Promise.resolve(1);
    },
    metrics: createControllerMetrics(),
    readiness: () => true,
    logger: pino({ level: "silent" }, new Writable({ write: (_chunk, _encoding, done) => done() })),
    // `npm run fuzz` sends thousands of deliveries in a few seconds; the rate limits have tests of their own.
    webhookLimits: { inFlight: 64, burst: Number.MAX_SAFE_INTEGER, perSecond: Number.MAX_SAFE_INTEGER },
  });
  t.after(() => app.close());
  const unknown = await app.inject({ method: "POST", url: "/no-such-path", payload: "{}" });

  const request = fc.record({
    token: fc.oneof(fc.constantFrom("gh", "gl", "any", "", "GH", "gh/", "gh%00", "../gh", "%2e%2e"), hostileString.map(percentEncoded)),
    method: fc.constantFrom("POST", "POST", "POST", "GET", "PUT"),
    body,
    signed: fc.boolean(),
    event: fc.constantFrom("push", "ping", "Push Hook", "Tag Push Hook", "issues", ""),
    extraHeader: fc.tuple(fc.constantFrom("x-hub-signature-256", "x-gitlab-token", "x-signature", "content-length", "transfer-encoding", "x-github-event"), hostileString),
  });
  await fuzz(t, {
    name: "webhook route (src/server/webhook-route.ts via fastify inject)",
    arbitrary: request,
    allowed: [],
    runsScale: 0.5,
    run: async ({ token, method, body: { type, raw }, signed, event, extraHeader }) => {
      const headers: Record<string, string> = { "content-type": type, "x-github-event": event, "x-gitlab-event": event };
      const [name, value] = extraHeader;
      // Header values must be latin-1 without line ends, as on the wire.
      if (!/[^\x20-\x7e]/.test(value)) headers[name] = value;
      if (signed) {
        headers["x-hub-signature-256"] = signHmacSha256(secret, raw);
        headers["x-signature"] = signHmacSha256(secret, raw);
        headers["x-gitlab-token"] = secret;
      }
      const response = await app.inject({ method: method as "POST", url: `/hook/${token}`, headers, payload: raw });
      return { status: response.statusCode, body: response.body, signed };
    },
    check: (result) => {
      const { status, body: answer } = result as { status: number; body: string };
      assert.ok([200, 202, 400, 404, 413, 415].includes(status), `status ${status}: ${answer.slice(0, 200)}`);
      if (status === 404) assert.equal(answer, unknown.body, "an invalid delivery looks like an unknown path");
      assert.ok(!answer.includes(secret), "the answer holds the receiver's secret");
    },
  });
});
