/**
 * Sending notifications: one bounded queue per Provider, each drained by its own loop, so a
 * dead receiver only delays its own queue and a reconcile never waits (enqueue returns at
 * once). At-least-once: a request is retried with exponential backoff until the receiver
 * answers 2xx or the attempts run out (a 4xx other than 408 and 429 is final at once: a bad
 * token or a missing repository does not heal by retrying); the queue is worked in order, so
 * notifications about one object arrive in the order they happened. A full queue drops its
 * oldest waiting notification (the newest news is worth more than the oldest), counted in a
 * metric and logged. What is still waiting, the one being sent included, can be taken as a
 * snapshot and queued again after a restart (queue-store.ts persists it).
 */
import { Counter, type Registry } from "prom-client";
import type { Logger } from "../../util/logger.ts";
import { redactAddress, type ProviderRequest } from "./payload.ts";
import { postOnce } from "./post.ts";

export interface DeliveryOptions {
  logger: Logger;
  registry?: Registry;
  /** Notifications waiting per Provider; beyond it new ones are dropped. */
  queueLimit?: number;
  /** Attempts per notification, the first included. */
  attempts?: number;
  /** The first retry's delay; each next one doubles, up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** A notification reached its receiver (for the Provider's status). */
  onDelivered?: (provider: string) => void;
  /** A notification was given up on after its attempts; `message` holds no URL path or query. */
  onFailed?: (provider: string, message: string) => void;
  /** What is pending changed (queued, sent, given up on or dropped): the persisted copy is stale. */
  onChange?: () => void;
}

/** One pending notification with its Provider, as persisted across restarts. */
export interface PendingNotification {
  /** `namespace/name` of the Provider. */
  provider: string;
  item: QueuedRequest;
}

export interface QueuedRequest {
  /** Builds the request when it is sent (the address and token are read then, not at enqueue). */
  request: ProviderRequest;
  timeoutMs: number;
  /** The Provider's certSecretRef: a CA trusted besides the system roots. */
  caPem?: string;
  /** The Provider's spec.proxy (may hold credentials: kept like the URL). */
  proxy?: string;
}

interface ProviderQueue {
  /** Waiting, oldest first. */
  items: QueuedRequest[];
  /** Being sent (and retried) now; off `items`, so dropping the oldest never cuts a send short. */
  current?: QueuedRequest;
}

/** A receiver's answer body is never kept: it may echo what was sent. Only the status counts. */
async function send(item: QueuedRequest, signal: AbortSignal): Promise<void> {
  const status = await postOnce(item.request.url, item.request.headers, item.request.body, {
    timeoutMs: item.timeoutMs,
    signal,
    ...(item.caPem ? { caPem: item.caPem } : {}),
    ...(item.proxy ? { proxy: item.proxy } : {}),
  });
  if (status < 200 || status > 299) throw new (isPermanent(status) ? PermanentDeliveryError : Error)(`the receiver answered HTTP ${status}`);
}

/** An answer that a retry cannot change (a bad token, a missing repository, a refused body): given up on at once. */
class PermanentDeliveryError extends Error {}

/** 4xx except 408 (timeout) and 429 (rate limit): the request itself is wrong, so retrying only repeats it. */
function isPermanent(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** An error about a request, without the URL (fetch's causes name only host and port, but be sure). */
function describeSendError(error: unknown, url: string): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 4; depth++) {
    if (!parts.includes(current.message)) parts.push(current.message);
    current = current.cause;
  }
  return parts.join(": ").split(url).join(redactAddress(url)).slice(0, 512) || "unknown error";
}

export class NotificationDelivery {
  private readonly queues = new Map<string, ProviderQueue>();
  private readonly abort = new AbortController();
  private readonly drops: Counter<"provider">;
  private readonly results: Counter<"provider" | "result">;

  constructor(private readonly options: DeliveryOptions) {
    const registers = options.registry ? [options.registry] : [];
    this.drops = new Counter({ name: "fjord_notifications_dropped_total", help: "Notifications dropped because their Provider's queue was full", labelNames: ["provider"] as const, registers });
    this.results = new Counter({ name: "fjord_notifications_total", help: "Notifications by outcome: delivered, or failed after every retry", labelNames: ["provider", "result"] as const, registers });
  }

  /**
   * Queues a request for `provider` (`namespace/name`). Never waits. When the Provider's queue is
   * full, its oldest waiting notification is dropped (counted and logged) to make room; returns
   * false when one was.
   */
  enqueue(provider: string, item: QueuedRequest): boolean {
    if (this.abort.signal.aborted) return false;
    let queue = this.queues.get(provider);
    if (!queue) {
      queue = { items: [] };
      this.queues.set(provider, queue);
    }
    let dropped = false;
    const limit = Math.max(1, this.options.queueLimit ?? 100);
    while (queue.items.length > 0 && queue.items.length + (queue.current ? 1 : 0) >= limit) {
      queue.items.shift();
      dropped = true;
      this.drops.inc({ provider });
      this.options.logger.warn({ provider, queued: limit }, "notification queue full; dropping the oldest waiting notification");
    }
    queue.items.push(item);
    this.options.onChange?.();
    if (!queue.current) void this.drain(provider, queue);
    return !dropped;
  }

  /** Notifications waiting for `provider`, the one being sent included. */
  pending(provider: string): number {
    const queue = this.queues.get(provider);
    return queue ? queue.items.length + (queue.current ? 1 : 0) : 0;
  }

  /** Everything not yet delivered, per Provider in the order it is to be sent (the one being sent first). */
  snapshot(): PendingNotification[] {
    return [...this.queues.entries()].flatMap(([provider, queue]) => [...(queue.current ? [queue.current] : []), ...queue.items].map((item) => ({ provider, item })));
  }

  /** Counts notifications dropped by whoever stores the snapshot (it did not fit), as a full queue's are. */
  countDropped(provider: string): void {
    this.drops.inc({ provider });
  }

  /** Stops sending and retrying; what is pending stays in snapshot() (a send cut short included: at least once). */
  close(): void {
    this.abort.abort();
  }

  private async drain(provider: string, queue: ProviderQueue): Promise<void> {
    const signal = this.abort.signal;
    try {
      while (!signal.aborted) {
        const item = queue.items.shift();
        if (!item) break;
        queue.current = item;
        // A send cut short by closing stays current, so the snapshot holds it: at least once.
        if ((await this.deliver(provider, item, signal)) === "stopped") break;
        queue.current = undefined;
        this.options.onChange?.();
      }
    } finally {
      if (!signal.aborted && queue.items.length === 0) this.queues.delete(provider);
    }
  }

  /** Sends with retries; "done" once delivered or given up on, "stopped" when closing cut it short. */
  private async deliver(provider: string, item: QueuedRequest, signal: AbortSignal): Promise<"done" | "stopped"> {
    const attempts = this.options.attempts ?? 8;
    let delay = this.options.backoffMs ?? 1_000;
    let last = "";
    let tried = 0;
    for (let attempt = 1; attempt <= attempts && !signal.aborted; attempt++) {
      tried = attempt;
      try {
        await send(item, signal);
        this.results.inc({ provider, result: "delivered" });
        this.options.onDelivered?.(provider);
        return "done";
      } catch (error) {
        if (signal.aborted) return "stopped";
        last = describeSendError(error, item.request.url);
        if (error instanceof PermanentDeliveryError) {
          last = `${last} (a client error: not retried)`;
          break;
        }
        this.options.logger.warn({ provider, attempt, address: redactAddress(item.request.url), error: last }, "notification not delivered; retrying");
        if (attempt < attempts) {
          await new Promise<void>((resolve) => {
            const stop = () => {
              clearTimeout(timer);
              resolve();
            };
            // The listener goes when the wait ends, or every retry of a long-lived queue would leave one on the shared signal.
            const timer = setTimeout(() => {
              signal.removeEventListener("abort", stop);
              resolve();
            }, delay);
            signal.addEventListener("abort", stop, { once: true });
          });
          delay = Math.min(delay * 2, this.options.maxBackoffMs ?? 300_000);
        }
      }
    }
    if (signal.aborted) return "stopped";
    this.results.inc({ provider, result: "failed" });
    this.options.logger.error({ provider, attempts: tried, address: redactAddress(item.request.url), error: last }, "notification given up");
    this.options.onFailed?.(provider, `after ${tried} attempt${tried === 1 ? "" : "s"}: ${last}`);
    return "done";
  }
}
