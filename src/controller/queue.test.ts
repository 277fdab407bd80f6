import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffDelay, defaultBackoff, KeyBackoff } from "./queue-backoff.ts";
import type { QueueClock } from "./queue-clock.ts";
import { DelayedKeys } from "./queue-delays.ts";
import { WorkQueue, type KeyHandler } from "./queue.ts";

/** Time that moves only when a test says so. */
class ManualClock implements QueueClock {
  private current = 0;
  private nextId = 0;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.current + ms, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward, firing due timers in deadline order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = [...this.timers].filter(([, timer]) => timer.at <= target).sort(([, a], [, b]) => a.at - b.at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.current = Math.max(this.current, due[1].at);
      due[1].callback();
    }
    this.current = target;
  }
}

/** Lets queued microtasks and settled handler promises run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A promise a test resolves by hand, to hold a handler mid-processing. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** A handler that records its calls and blocks each one until the test releases it. */
function heldHandler() {
  const calls: string[] = [];
  const gates = new Map<string, Array<() => void>>();
  let running = 0;
  let maxRunning = 0;
  const handler: KeyHandler = async (key) => {
    calls.push(key);
    running++;
    maxRunning = Math.max(maxRunning, running);
    const held = gate();
    gates.set(key, [...(gates.get(key) ?? []), held.open]);
    await held.promise;
    running--;
  };
  const release = async (key: string) => {
    const waiting = gates.get(key) ?? [];
    assert.ok(waiting.length > 0, `no running handler for ${key}`);
    waiting.shift()?.();
    await settle();
  };
  return { handler, calls, release, running: () => running, maxRunning: () => maxRunning };
}

test("a key already waiting is queued once", async () => {
  const queue = new WorkQueue({ clock: new ManualClock() });
  queue.add("Deployment/shop/web");
  queue.add("Deployment/shop/web");
  queue.add("Service/shop/web");
  assert.equal(queue.depth, 2);
  const seen: string[] = [];
  queue.start(4, (key) => {
    seen.push(key);
    return Promise.resolve();
  });
  await settle();
  assert.deepEqual(seen, ["Deployment/shop/web", "Service/shop/web"]);
  assert.equal(queue.depth, 0);
  await queue.shutdown();
});

test("a key added while it is processed runs again once afterwards, never concurrently", async () => {
  const queue = new WorkQueue({ clock: new ManualClock() });
  const held = heldHandler();
  queue.start(4, held.handler);
  queue.add("ConfigMap/a/x");
  await settle();
  assert.deepEqual(held.calls, ["ConfigMap/a/x"]);

  queue.add("ConfigMap/a/x");
  queue.add("ConfigMap/a/x");
  await settle();
  assert.equal(held.calls.length, 1, "the key must not run while it is already running");
  assert.equal(held.maxRunning(), 1);
  assert.equal(queue.depth, 0, "a processing key waits outside the queue until it is done");

  await held.release("ConfigMap/a/x");
  assert.deepEqual(held.calls, ["ConfigMap/a/x", "ConfigMap/a/x"], "re-queued exactly once");
  await held.release("ConfigMap/a/x");
  assert.equal(held.calls.length, 2);
  assert.equal(held.maxRunning(), 1);
  await queue.shutdown();
});

test("runs at most `concurrency` handlers at once, taking keys in order", async () => {
  const queue = new WorkQueue({ clock: new ManualClock() });
  const held = heldHandler();
  for (const key of ["k/1", "k/2", "k/3", "k/4", "k/5"]) queue.add(key);
  queue.start(2, held.handler);
  await settle();
  assert.deepEqual(held.calls, ["k/1", "k/2"]);
  assert.equal(queue.active, 2);
  assert.equal(queue.depth, 3);

  await held.release("k/2");
  assert.deepEqual(held.calls, ["k/1", "k/2", "k/3"]);
  await held.release("k/1");
  await held.release("k/3");
  await held.release("k/4");
  await held.release("k/5");
  assert.deepEqual(held.calls, ["k/1", "k/2", "k/3", "k/4", "k/5"]);
  assert.equal(held.maxRunning(), 2);
  await queue.shutdown();
});

test("backoff doubles from 1 s within ±10 % and stops at 5 min", () => {
  const nominal = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000];
  nominal.forEach((ms, failures) => {
    assert.equal(backoffDelay(failures, defaultBackoff, 0.5), ms, `failure ${failures}, no jitter`);
    assert.equal(backoffDelay(failures, defaultBackoff, 0), ms * 0.9, `failure ${failures}, lowest jitter`);
    assert.ok(backoffDelay(failures, defaultBackoff, 0.999_999) <= Math.round(ms * 1.1));
    assert.ok(backoffDelay(failures, defaultBackoff, 0.999_999) > ms * 1.09);
  });
  for (const failures of [9, 10, 50, 5_000]) {
    assert.equal(backoffDelay(failures, defaultBackoff, 0.999_999), 300_000, `failure ${failures} is capped`);
    assert.equal(backoffDelay(failures, defaultBackoff, 0), 270_000);
  }
});

test("a key's retries grow, are counted per key, and forget() resets them", () => {
  const backoff = new KeyBackoff(defaultBackoff, () => 0.5);
  assert.deepEqual([backoff.next("a"), backoff.next("a"), backoff.next("a")], [1_000, 2_000, 4_000]);
  assert.equal(backoff.next("b"), 1_000, "keys back off independently");
  assert.equal(backoff.retries("a"), 3);
  backoff.forget("a");
  assert.equal(backoff.retries("a"), 0);
  assert.equal(backoff.next("a"), 1_000);
});

test("addRateLimited waits the backoff delay, and a failing handler retries with growing delays", async () => {
  const clock = new ManualClock();
  const attempts: number[] = [];
  const errors: string[] = [];
  let failuresLeft = 3;
  const queue = new WorkQueue({ clock, random: () => 0.5, onError: (key, error) => errors.push(`${key}: ${(error as Error).message}`) });
  queue.start(1, () => {
    attempts.push(clock.now());
    return failuresLeft-- > 0 ? Promise.reject(new Error("API server said no")) : Promise.resolve();
  });
  queue.add("Secret/a/s");
  await settle();
  assert.deepEqual(attempts, [0]);
  assert.equal(queue.retries("Secret/a/s"), 1);

  clock.advance(999);
  await settle();
  assert.deepEqual(attempts, [0], "not before the 1 s backoff");
  clock.advance(1);
  await settle();
  assert.deepEqual(attempts, [0, 1_000]);
  clock.advance(2_000);
  await settle();
  clock.advance(4_000);
  await settle();
  assert.deepEqual(attempts, [0, 1_000, 3_000, 7_000]);
  assert.equal(queue.retries("Secret/a/s"), 0, "success forgets the failures");
  assert.equal(errors.length, 3);
  assert.match(errors[0] ?? "", /^Secret\/a\/s: API server said no$/);


  queue.addRateLimited("x");
  queue.addRateLimited("x");
  assert.equal(queue.retries("x"), 2);
  queue.forget("x");
  assert.equal(queue.retries("x"), 0);
  await queue.shutdown();
});

test("addAfter releases keys in deadline order with one timer, and the earlier deadline wins", async () => {
  const clock = new ManualClock();
  const depths: number[] = [];
  const queue = new WorkQueue({ clock, onDepthChange: (depth) => depths.push(depth) });
  queue.addAfter("late", 300);
  queue.addAfter("early", 100);
  queue.addAfter("moved-earlier", 500);
  queue.addAfter("moved-earlier", 200);
  queue.addAfter("early", 400);
  assert.equal(clock.pendingTimers, 1, "one timer for all delayed keys");
  assert.equal(queue.delayedCount, 3);
  assert.equal(queue.depth, 0);

  const seen: Array<[string, number]> = [];
  queue.start(1, (key) => {
    seen.push([key, clock.now()]);
    return Promise.resolve();
  });
  for (let step = 0; step < 10; step++) {
    clock.advance(100);
    await settle();
  }
  assert.deepEqual(seen, [["early", 100], ["moved-earlier", 200], ["late", 300]]);
  assert.equal(clock.pendingTimers, 0);
  assert.ok(depths.includes(1), `depth changes were reported: ${depths.join(",")}`);
  assert.equal(depths.at(-1), 0);

  queue.addAfter("now", 0);
  assert.equal(queue.depth, 1, "a zero delay adds at once");
  await queue.shutdown();
});

test("delayed keys come out earliest first, ties in insertion order", () => {
  const delays = new DelayedKeys();
  const order = Array.from({ length: 200 }, (_, index) => (index * 7919) % 200);
  for (const index of order) delays.schedule(`k${index}`, index % 50);
  delays.schedule("k199", -1);
  const due = delays.takeDue(49);
  assert.equal(due.length, 200);
  assert.equal(due[0], "k199");
  const deadlines = due.slice(1).map((key) => Number(key.slice(1)) % 50);
  assert.deepEqual(deadlines, [...deadlines].sort((a, b) => a - b));
  assert.equal(delays.size, 0);
  assert.equal(delays.nextDeadline(), undefined);
});

test("shutdown aborts the handlers' signal, waits for them, and takes no more work", async () => {
  const clock = new ManualClock();
  const queue = new WorkQueue({ clock });
  const finished: string[] = [];
  const signals: AbortSignal[] = [];
  queue.start(2, async (key, signal) => {
    signals.push(signal);
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    // Cleanup after the abort still completes before shutdown() resolves.
    await settle();
    finished.push(key);
  });
  queue.add("a");
  queue.add("b");
  queue.add("c");
  queue.addAfter("d", 10);
  await settle();
  assert.equal(queue.active, 2);

  let stopped = false;
  const stopping = queue.shutdown().then(() => (stopped = true));
  assert.ok(signals.every((signal) => signal.aborted));
  assert.equal(stopped, false);
  await stopping;
  assert.deepEqual(finished.sort(), ["a", "b"]);
  assert.equal(clock.pendingTimers, 0, "the delay timer is cancelled");

  queue.add("e");
  clock.advance(100);
  await settle();
  assert.deepEqual(finished.sort(), ["a", "b"], "nothing runs after shutdown");
  await queue.shutdown();
});
