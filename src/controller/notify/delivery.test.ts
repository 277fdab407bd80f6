import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { test, type TestContext } from "node:test";
import { Registry } from "prom-client";
import { createLogger } from "../../util/logger.ts";
import { NotificationDelivery } from "./delivery.ts";

/** A local receiver answering `status(n)` to its n-th request, recording bodies it accepted. */
async function receiver(t: TestContext, status: (attempt: number) => number = () => 200) {
  const bodies: string[] = [];
  let attempts = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const code = status(++attempts);
      if (code < 300) bodies.push(Buffer.concat(chunks).toString("utf8"));
      response.writeHead(code).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/SECRET-PATH`, bodies, attempts: () => attempts };
}

const until = async (check: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

function quietLogger() {
  const logger = createLogger("test");
  logger.level = "silent";
  return logger;
}

const item = (url: string, body: string) => ({ request: { url, headers: { "content-type": "application/json" }, body }, timeoutMs: 2_000 });

test("delivery: retried with backoff until accepted, once, in order", async (t) => {
  const flaky = await receiver(t, (attempt) => (attempt <= 2 ? 503 : 200));
  const delivered: string[] = [];
  const delivery = new NotificationDelivery({ logger: quietLogger(), backoffMs: 20, attempts: 5, onDelivered: (provider) => delivered.push(provider) });
  t.after(() => delivery.close());
  for (const body of ["1", "2", "3"]) assert.equal(delivery.enqueue("ns/flaky", item(flaky.url, body)), true);
  // The receiver keeps a body before its answer reaches the sender: wait for both sides.
  await until(() => flaky.bodies.length === 3 && delivered.length === 3);
  assert.deepEqual(flaky.bodies, ["1", "2", "3"], "each once, in the order queued");
  assert.equal(flaky.attempts(), 5);
  assert.deepEqual(delivered, ["ns/flaky", "ns/flaky", "ns/flaky"]);
});

test("delivery: a dead provider does not slow another; giving up is reported without the URL's path", async (t) => {
  const dead = await receiver(t, () => 500);
  const alive = await receiver(t);
  const failures: string[] = [];
  const delivery = new NotificationDelivery({ logger: quietLogger(), backoffMs: 1_000, attempts: 3, onFailed: (_provider, message) => failures.push(message) });
  t.after(() => delivery.close());
  delivery.enqueue("ns/dead", item(dead.url, "lost"));
  await until(() => dead.attempts() === 1);
  delivery.enqueue("ns/alive", item(alive.url, "news"));
  await until(() => alive.bodies.length === 1);
  // Judged by state, not by the clock (the machine is shared): the dead queue is still retrying.
  assert.equal(delivery.pending("ns/dead"), 1, "the live receiver got its notification while the dead one was backing off");
  assert.equal(failures.length, 0);
  await until(() => failures.length === 1);
  assert.equal(dead.attempts(), 3);
  assert.match(failures[0] ?? "", /after 3 attempts: the receiver answered HTTP 500/);
  assert.ok(!failures[0]?.includes("SECRET-PATH"));
});

test("delivery: a full queue drops its oldest waiting notification, never the one being sent, and counts it", async (t) => {
  let up = false;
  const receiving = await receiver(t, () => (up ? 200 : 500));
  const registry = new Registry();
  const delivery = new NotificationDelivery({ logger: quietLogger(), registry, queueLimit: 3, backoffMs: 50, maxBackoffMs: 50, attempts: 1_000 });
  t.after(() => delivery.close());
  assert.equal(delivery.enqueue("ns/p", item(receiving.url, "a")), true);
  await until(() => receiving.attempts() >= 1);
  assert.equal(delivery.enqueue("ns/p", item(receiving.url, "b")), true);
  assert.equal(delivery.enqueue("ns/p", item(receiving.url, "c")), true);
  assert.equal(delivery.enqueue("ns/p", item(receiving.url, "d")), false, "full: b, the oldest waiting, makes room");
  assert.equal(delivery.enqueue("ns/p", item(receiving.url, "e")), false, "then c");
  assert.equal(delivery.enqueue("ns/other", item(receiving.url, "x")), true, "the limit is per provider");
  assert.deepEqual(delivery.snapshot().filter((entry) => entry.provider === "ns/p").map((entry) => entry.item.request.body), ["a", "d", "e"], "the one being retried first, then the newest");
  assert.match(await registry.metrics(), /fjord_notifications_dropped_total\{provider="ns\/p"\} 2/);
  up = true;
  await until(() => receiving.bodies.length === 4);
  assert.deepEqual(receiving.bodies.filter((body) => body !== "x"), ["a", "d", "e"], "in order, each once");
  // The receiver has the last body before the sender has read its answer: the queue empties just after.
  await until(() => delivery.snapshot().length === 0);
});

test("delivery: closing keeps a send cut short in the snapshot (at least once) and reports every change", async (t) => {
  const down = await receiver(t, () => 503);
  let changes = 0;
  const delivery = new NotificationDelivery({ logger: quietLogger(), backoffMs: 10_000, attempts: 3, onChange: () => changes++ });
  delivery.enqueue("ns/p", item(down.url, "1"));
  delivery.enqueue("ns/p", item(down.url, "2"));
  await until(() => down.attempts() === 1);
  assert.equal(changes, 2);
  delivery.close();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(delivery.snapshot().map((entry) => entry.item.request.body), ["1", "2"]);
  assert.equal(delivery.enqueue("ns/p", item(down.url, "3")), false, "nothing is queued once closed");
});

test("delivery: a client error (a bad token: 401) is given up at once, not retried; 429 is retried", async (t) => {
  const refusing = await receiver(t, () => 401);
  const limited = await receiver(t, (attempt) => (attempt === 1 ? 429 : 200));
  const failures: string[] = [];
  const delivery = new NotificationDelivery({ logger: quietLogger(), backoffMs: 20, attempts: 5, onFailed: (_provider, message) => failures.push(message) });
  t.after(() => delivery.close());
  delivery.enqueue("ns/refusing", item(refusing.url, "x"));
  delivery.enqueue("ns/limited", item(limited.url, "y"));
  await until(() => failures.length === 1 && limited.bodies.length === 1);
  assert.equal(refusing.attempts(), 1, "one attempt only");
  assert.match(failures[0] ?? "", /^after 1 attempt: the receiver answered HTTP 401 \(a client error: not retried\)$/);
  assert.equal(limited.attempts(), 2, "a rate limit is retried");
});
