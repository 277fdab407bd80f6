import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Writable } from "node:stream";
import { test, type TestContext } from "node:test";
import { pino } from "pino";
import { createControllerServer } from "./http-server.ts";
import { createControllerMetrics, type ControllerMetrics } from "../controller/metrics.ts";
import type { PushEvent } from "./push-payload.ts";
import type { Receiver } from "./webhook-route.ts";
import { receiverWebhookPath, type ReceiverRoute } from "../api/receiver-types.ts";
import { signHmacSha256 } from "./webhook-signatures.ts";

const GITHUB_TOKEN = "gh-7f3a9c2e41d8b605";
const GITLAB_TOKEN = "gl-1b5d8e0c3a7f9246";
const GENERIC_TOKEN = "gen-94c1e7a05b3d2f68";
const SECRET = "webhook-secret-d41d8cd98f00b204";
const RECEIVERS: Receiver[] = [
  { token: GITHUB_TOKEN, type: "github", secret: SECRET },
  { token: GITLAB_TOKEN, type: "gitlab", secret: SECRET },
  { token: GENERIC_TOKEN, type: "generic", secret: SECRET },
];
/** Receiver objects (fjord.dev Receiver) served beside the file receivers: their path is a digest, not the token. */
const ROUTE_TOKEN = "receiver-object-token-2b7e";
const ROUTES: ReceiverRoute[] = (["github", "generic-hmac"] as const).map((type) => ({
  segment: receiverWebhookPath(ROUTE_TOKEN, type, "team-a").slice("/hook/".length),
  type,
  token: ROUTE_TOKEN,
  events: [],
  id: `team-a/${type}`,
  trigger: () => 1,
}));
const GITHUB_PUSH = readFileSync(path.join(import.meta.dirname, "fixtures", "github-push.json"));
const GITLAB_PUSH = readFileSync(path.join(import.meta.dirname, "fixtures", "gitlab-push.json"));

interface Harness {
  url: string;
  pushes: PushEvent[];
  metrics: ControllerMetrics;
  logs: () => string;
  setReady: (ready: boolean) => void;
  /** Milliseconds from the handler's start to the response, per request, by the request's `x-test-kind` header. */
  handlerMs: Map<string, number[]>;
}

async function startServer(t: TestContext, onPush?: (event: PushEvent) => Promise<number>): Promise<Harness> {
  const pushes: PushEvent[] = [];
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  let ready = false;
  const metrics = createControllerMetrics();
  const app = createControllerServer({
    receivers: RECEIVERS,
    receiverRoutes: () => ROUTES,
    // The timing test sends hundreds of deliveries; the rate limits have their own test (receiver-objects.test.ts).
    webhookLimits: { inFlight: 64, burst: Number.MAX_SAFE_INTEGER, perSecond: Number.MAX_SAFE_INTEGER },
    onPush: async (event) => {
      pushes.push(event);
      return onPush ? onPush(event) : 1;
    },
    metrics,
    readiness: () => ready,
    logger: pino({ level: "debug" }, sink),
  });
  const handlerMs = new Map<string, number[]>();
  const handlerStarts = new WeakMap<object, number>();
  app.addHook("preHandler", (request, _reply, done) => {
    handlerStarts.set(request, performance.now());
    done();
  });
  app.addHook("onResponse", (request, _reply, done) => {
    const kind = request.headers["x-test-kind"];
    const started = handlerStarts.get(request);
    if (typeof kind === "string" && started !== undefined) handlerMs.set(kind, [...(handlerMs.get(kind) ?? []), performance.now() - started]);
    done();
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  t.after(() => app.close());
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, pushes, metrics, logs: () => logLines.join(""), setReady: (value) => (ready = value), handlerMs };
}

function post(url: string, body: Buffer | string, headers: Record<string, string>): Promise<Response> {
  return fetch(url, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
}

/** What every invalid webhook request gets: what any unknown path gets. */
async function assertRefused(response: Response): Promise<void> {
  assert.equal(response.status, 404);
  assert.deepEqual(await response.json(), { error: "not found" });
}

test("a correctly signed GitHub push triggers onPush with the normalised URLs, ref and commit", async (t) => {
  const server = await startServer(t);
  const response = await post(`${server.url}/hook/${GITHUB_TOKEN}`, GITHUB_PUSH, {
    "x-github-event": "push",
    "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    "x-hub-signature-256": signHmacSha256(SECRET, GITHUB_PUSH),
  });
  assert.equal(response.status, 202);
  assert.deepEqual(await response.json(), { triggered: 1 });
  assert.deepEqual(server.pushes, [
    { repositoryUrls: ["github.com/Fjord-Examples/fleet-infra"], ref: "refs/heads/main", commit: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c" },
  ]);
});

test("the signature is checked on the raw bytes: a re-serialised body does not verify", async (t) => {
  const server = await startServer(t);
  const compact = JSON.stringify(JSON.parse(GITHUB_PUSH.toString()));
  const response = await post(`${server.url}/hook/${GITHUB_TOKEN}`, compact, { "x-github-event": "push", "x-hub-signature-256": signHmacSha256(SECRET, GITHUB_PUSH) });
  await assertRefused(response);
  assert.deepEqual(server.pushes, []);
});

test("GitHub's form-encoded deliveries are verified and read too", async (t) => {
  const server = await startServer(t);
  const body = new URLSearchParams({ payload: GITHUB_PUSH.toString() }).toString();
  const response = await post(`${server.url}/hook/${GITHUB_TOKEN}`, body, {
    "content-type": "application/x-www-form-urlencoded",
    "x-github-event": "push",
    "x-hub-signature-256": signHmacSha256(SECRET, body),
  });
  assert.equal(response.status, 202);
  assert.equal(server.pushes[0]?.commit, "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c");
});

test("a wrong or missing GitHub signature is refused like an unknown path, triggers nothing, and the log says why", async (t) => {
  const server = await startServer(t);
  const hook = `${server.url}/hook/${GITHUB_TOKEN}`;
  await assertRefused(await post(hook, GITHUB_PUSH, { "x-github-event": "push", "x-hub-signature-256": signHmacSha256("not-the-secret", GITHUB_PUSH) }));
  await assertRefused(await post(hook, GITHUB_PUSH, { "x-github-event": "push" }));
  await assertRefused(await post(hook, GITHUB_PUSH, { "x-github-event": "push", "x-hub-signature-256": "sha1=abc" }));
  // A ping must be signed as well.
  await assertRefused(await post(hook, "{}", { "x-github-event": "ping" }));
  assert.deepEqual(server.pushes, []);
  const reasons = server
    .logs()
    .split("\n")
    .filter((line) => line.includes('"msg":"webhook rejected"'))
    .map((line) => (JSON.parse(line) as { receiver?: string; reason: string }).reason);
  assert.deepEqual(reasons, [
    "X-Hub-Signature-256 does not match the body",
    "missing X-Hub-Signature-256 header",
    "X-Hub-Signature-256 must be sha256=<hex HMAC of the body>",
    "missing X-Hub-Signature-256 header",
  ]);
});

test("a signed GitHub ping is 200 and other events are ignored; neither triggers", async (t) => {
  const server = await startServer(t);
  const hook = `${server.url}/hook/${GITHUB_TOKEN}`;
  const body = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
  const ping = await post(hook, body, { "x-github-event": "ping", "x-hub-signature-256": signHmacSha256(SECRET, body) });
  assert.equal(ping.status, 200);
  const issue = await post(hook, body, { "x-github-event": "issues", "x-hub-signature-256": signHmacSha256(SECRET, body) });
  assert.equal(issue.status, 200);
  assert.deepEqual(await issue.json(), { ignored: "issues" });
  assert.deepEqual(server.pushes, []);
});

test("GitLab: the right token triggers, a wrong one is refused", async (t) => {
  const server = await startServer(t, () => Promise.resolve(2));
  const hook = `${server.url}/hook/${GITLAB_TOKEN}`;
  await assertRefused(await post(hook, GITLAB_PUSH, { "x-gitlab-event": "Push Hook", "x-gitlab-token": "guess" }));
  assert.deepEqual(server.pushes, []);

  const right = await post(hook, GITLAB_PUSH, { "x-gitlab-event": "Push Hook", "x-gitlab-token": SECRET });
  assert.equal(right.status, 202);
  assert.deepEqual(await right.json(), { triggered: 2 });
  assert.deepEqual(server.pushes, [
    {
      repositoryUrls: ["gitlab.example.com/platform/clusters/fleet", "gitlab.example.com:2222/platform/clusters/fleet"],
      ref: "refs/heads/main",
      commit: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
    },
  ]);
});

test("generic: an X-Signature HMAC triggers, a wrong one is refused", async (t) => {
  const server = await startServer(t);
  const hook = `${server.url}/hook/${GENERIC_TOKEN}`;
  const body = JSON.stringify({ repository: { url: "git@git.example:team/app.git" }, ref: "refs/heads/main", commit: "abc123" });
  await assertRefused(await post(hook, body, { "x-signature": signHmacSha256("not-the-secret", body) }));
  const right = await post(hook, body, { "x-signature": signHmacSha256(SECRET, body) });
  assert.equal(right.status, 202);
  assert.deepEqual(server.pushes, [{ repositoryUrls: ["git.example/team/app"], ref: "refs/heads/main", commit: "abc123" }]);
});

test("a signed payload that is not JSON or names no repository is 400", async (t) => {
  const server = await startServer(t);
  const hook = `${server.url}/hook/${GENERIC_TOKEN}`;
  for (const [body, error] of [["{oops", "payload is not valid JSON"], ['{"ref":"refs/heads/main"}', "payload names no repository URL"]] as const) {
    const response = await post(hook, body, { "x-signature": signHmacSha256(SECRET, body) });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), { error });
  }
  assert.deepEqual(server.pushes, []);
});

test("an unknown token is 404, like any unknown path", async (t) => {
  const server = await startServer(t);
  const response = await post(`${server.url}/hook/not-a-receiver`, GITHUB_PUSH, { "x-github-event": "push", "x-hub-signature-256": signHmacSha256(SECRET, GITHUB_PUSH) });
  assert.equal(response.status, 404);
  assert.deepEqual(await response.json(), { error: "not found" });
  const elsewhere = await fetch(`${server.url}/nowhere`);
  assert.equal(elsewhere.status, 404);
  assert.deepEqual(await elsewhere.json(), { error: "not found" });
  assert.deepEqual(server.pushes, []);
});

/** Status, headers (but the date) and body: everything a caller sees of an answer but its timing. */
async function answerOf(response: Response): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const headers = Object.fromEntries([...response.headers].filter(([name]) => name !== "date"));
  return { status: response.status, headers, body: await response.text() };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

test("attack 13: the webhook answers an unknown token exactly as a known token (or Receiver path) with a bad signature", async (t) => {
  const server = await startServer(t);
  // A large body, so that skipping the HMAC for an unknown token would show in the timing.
  const body = Buffer.from(JSON.stringify({ padding: "x".repeat(900 * 1024) }));
  const badSignature = signHmacSha256("not-the-secret", body);
  const kinds: Record<string, (kind?: string) => Promise<Response>> = {
    "unknown token": (kind = "") => post(`${server.url}/hook/gh-0000000000000000`, body, { "x-test-kind": kind, "x-github-event": "push", "x-hub-signature-256": badSignature }),
    "known GitHub token, bad signature": (kind = "") => post(`${server.url}/hook/${GITHUB_TOKEN}`, body, { "x-test-kind": kind, "x-github-event": "push", "x-hub-signature-256": badSignature }),
    "known GitLab token, bad token header": (kind = "") => post(`${server.url}/hook/${GITLAB_TOKEN}`, body, { "x-test-kind": kind, "x-gitlab-event": "Push Hook", "x-gitlab-token": "guess" }),
    "known generic token, no signature": (kind = "") => post(`${server.url}/hook/${GENERIC_TOKEN}`, body, { "x-test-kind": kind }),
    "Receiver object (github), bad signature": (kind = "") => post(`${server.url}${receiverWebhookPath(ROUTE_TOKEN, "github", "team-a")}`, body, { "x-test-kind": kind, "x-github-event": "push", "x-hub-signature-256": badSignature }),
    "Receiver object (generic-hmac), no signature": (kind = "") => post(`${server.url}${receiverWebhookPath(ROUTE_TOKEN, "generic-hmac", "team-a")}`, body, { "x-test-kind": kind }),
  };
  const reference = await answerOf(await kinds["unknown token"]!());
  assert.deepEqual(reference, { status: 404, headers: { "content-type": "application/json; charset=utf-8", "content-length": "21", connection: "keep-alive", "keep-alive": "timeout=72" }, body: '{"error":"not found"}' });
  for (const [kind, send] of Object.entries(kinds)) assert.deepEqual(await answerOf(await send()), reference, kind);

  // Timing. Each round sends every kind once, in a shuffled order, so that the machine's load
  // falls on all alike, and medians leave stalls out. What the server spends from its handler's
  // start to the answer is compared: that is where a token could make a difference, while the
  // time to upload the body, the same for all, is mostly noise from this busy test machine.
  const clientMs = new Map<string, number[]>();
  for (let round = 0; round < 150; round++) {
    for (const [kind, send] of Object.entries(kinds).sort(() => Math.random() - 0.5)) {
      const started = performance.now();
      await (await send(kind)).arrayBuffer();
      clientMs.set(kind, [...(clientMs.get(kind) ?? []), performance.now() - started]);
    }
  }
  // What the HMAC of this body costs here: the time an unknown token would save by skipping the check.
  const hmacMs = median(
    Array.from({ length: 20 }, () => {
      const started = performance.now();
      signHmacSha256(SECRET, body);
      return performance.now() - started;
    }),
  );
  const medians = (times: Map<string, number[]>) => Object.fromEntries(Object.keys(kinds).map((kind) => [kind, Number(median(times.get(kind) ?? []).toFixed(3))]));
  const inServer = medians(server.handlerMs);
  t.diagnostic(`HMAC of the body ${hmacMs.toFixed(3)} ms; median ms in the server ${JSON.stringify(inServer)}; at the client ${JSON.stringify(medians(clientMs))}`);
  const unknown = inServer["unknown token"] ?? NaN;
  for (const [kind, ms] of Object.entries(inServer)) {
    assert.ok(Math.abs(ms - unknown) < hmacMs / 2, `${kind}: ${ms} ms in the server against ${unknown} ms for an unknown token (the body's HMAC takes ${hmacMs.toFixed(3)} ms)`);
  }
});

test("every other request under /hook/ is refused the same way: another method, an empty token, more segments", async (t) => {
  const server = await startServer(t);
  const headers = { "x-github-event": "push", "x-hub-signature-256": signHmacSha256(SECRET, GITHUB_PUSH) };
  const reference = await answerOf(await post(`${server.url}/hook/not-a-receiver`, GITHUB_PUSH, headers));
  const variants = [
    fetch(`${server.url}/hook/${GITHUB_TOKEN}`),
    fetch(`${server.url}/hook/${GITHUB_TOKEN}`, { method: "PUT", body: GITHUB_PUSH, headers }),
    post(`${server.url}/hook/`, GITHUB_PUSH, headers),
    post(`${server.url}/hook`, GITHUB_PUSH, headers),
    post(`${server.url}/hook/${GITHUB_TOKEN}/extra`, GITHUB_PUSH, headers),
    post(`${server.url}/hook/${GITHUB_TOKEN}x`, GITHUB_PUSH, headers),
    post(`${server.url}/hook/${"a".repeat(500)}`, GITHUB_PUSH, headers),
    fetch(`${server.url}/nowhere`, { method: "POST", body: GITHUB_PUSH, headers }),
  ];
  for (const variant of variants) assert.deepEqual(await answerOf(await variant), reference);
  assert.deepEqual(server.pushes, []);
});

test("a body over 1 MiB is 413, even when signed", async (t) => {
  const server = await startServer(t);
  const body = Buffer.alloc(1024 * 1024 + 1, " ");
  const response = await post(`${server.url}/hook/${GITHUB_TOKEN}`, body, { "x-github-event": "push", "x-hub-signature-256": signHmacSha256(SECRET, body) });
  assert.equal(response.status, 413);
  assert.deepEqual(server.pushes, []);
});

test("a failing onPush is a 500 that says nothing of the failure", async (t) => {
  const server = await startServer(t, () => Promise.reject(new Error("queue closed")));
  const response = await post(`${server.url}/hook/${GITHUB_TOKEN}`, GITHUB_PUSH, { "x-github-event": "push", "x-hub-signature-256": signHmacSha256(SECRET, GITHUB_PUSH) });
  assert.equal(response.status, 500);
  assert.deepEqual(await response.json(), { error: "internal error" });
  assert.match(server.logs(), /queue closed/);
});

test("logs name the event and repository, never tokens, secrets or signatures", async (t) => {
  const server = await startServer(t);
  const signature = signHmacSha256(SECRET, GITHUB_PUSH);
  const badSignature = signHmacSha256("not-the-secret", GITHUB_PUSH);
  await post(`${server.url}/hook/${GITHUB_TOKEN}`, GITHUB_PUSH, { "x-github-event": "push", "x-hub-signature-256": signature });
  await post(`${server.url}/hook/${GITHUB_TOKEN}`, GITHUB_PUSH, { "x-github-event": "push", "x-hub-signature-256": badSignature });
  await post(`${server.url}/hook/${GITLAB_TOKEN}`, GITLAB_PUSH, { "x-gitlab-event": "Push Hook", "x-gitlab-token": SECRET });
  await post(`${server.url}/hook/${GITLAB_TOKEN}`, GITLAB_PUSH, { "x-gitlab-event": "Push Hook", "x-gitlab-token": `${SECRET}-wrong` });
  await post(`${server.url}/hook/unknown-${GITHUB_TOKEN}`, "{}", {});
  await post(`${server.url}/hook/${GITHUB_TOKEN}`, Buffer.alloc(1024 * 1024 + 1, " "), { "x-github-event": "push", "x-hub-signature-256": signature });
  await fetch(`${server.url}/hook/${GITHUB_TOKEN}`);

  const logs = server.logs();
  for (const secret of [GITHUB_TOKEN, GITLAB_TOKEN, SECRET, signature.slice(7), badSignature.slice(7)]) {
    assert.ok(!logs.includes(secret), `logs must not contain ${secret}`);
  }
  const pushLog = logs.split("\n").filter((line) => line.includes('"msg":"webhook push"'));
  assert.equal(pushLog.length, 2);
  assert.match(pushLog[0] ?? "", /"receiver":"github","event":"push","repository":"github.com\/Fjord-Examples\/fleet-infra"/);
  assert.match(pushLog[1] ?? "", /"receiver":"gitlab","event":"Push Hook","repository":"gitlab.example.com\/platform\/clusters\/fleet"/);
  assert.match(logs, /"msg":"webhook rejected"/);
});

test("/metrics serves the controller's metrics in Prometheus text", async (t) => {
  const server = await startServer(t);
  const object = { kind: "Sync", name: "podinfo", namespace: "apps" };
  server.metrics.recordReconcile(object, "success", 1.5);
  server.metrics.recordApply("created", 3);
  server.metrics.recordApply("unchanged");
  server.metrics.recordDriftRevert(object);
  server.metrics.setQueueDepth(4);
  server.metrics.recordGitFetch("failure", 0.2);

  const response = await fetch(`${server.url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  assert.match(text, /^fjord_reconcile_duration_seconds_bucket\{le="2.5",kind="Sync",name="podinfo",namespace="apps",result="success"\} 1$/m);
  assert.match(text, /^fjord_reconcile_duration_seconds_sum\{kind="Sync",name="podinfo",namespace="apps",result="success"\} 1.5$/m);
  assert.match(text, /^fjord_apply_objects_total\{action="created"\} 3$/m);
  assert.match(text, /^fjord_apply_objects_total\{action="unchanged"\} 1$/m);
  assert.match(text, /^fjord_drift_reverts_total\{kind="Sync",name="podinfo",namespace="apps"\} 1$/m);
  assert.match(text, /^fjord_queue_depth 4$/m);
  assert.match(text, /^fjord_git_fetch_duration_seconds_count\{result="failure"\} 1$/m);
  assert.match(text, /^fjord_process_cpu_user_seconds_total /m);
  assert.match(text, /^fjord_nodejs_heap_size_used_bytes /m);
});

test("each server's metrics are its own", async (t) => {
  const first = await startServer(t);
  const second = await startServer(t);
  first.metrics.recordApply("deleted", 5);
  const text = await (await fetch(`${second.url}/metrics`)).text();
  assert.doesNotMatch(text, /fjord_apply_objects_total\{action="deleted"\}/);
});

test("/healthz is 200; /readyz follows readiness", async (t) => {
  const server = await startServer(t);
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  assert.equal((await fetch(`${server.url}/readyz`)).status, 503);
  server.setReady(true);
  assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
  server.setReady(false);
  assert.equal((await fetch(`${server.url}/readyz`)).status, 503);
});
