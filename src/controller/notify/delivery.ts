/**
 * Sending notifications: one bounded queue per Provider, each drained by its own loop, so a
 * dead receiver only delays its own queue and a reconcile never waits (enqueue returns at
 * once). At-least-once: a request is retried with exponential backoff until the receiver
 * answers 2xx or the attempts run out (a 4xx other than 408 and 429 is final at once: a bad
 * token or a missing repository does not heal by retrying); the queue is worked in order, so notifications about one
 * object arrive in the order they happened. A full queue drops the newest, counted in a metric
 * and logged. Nothing survives a restart (not in this slice).
 */
import { Counter, type Registry } from "prom-client";
import type { Logger } from "../../util/logger.ts";
import { redactAddress, type ProviderRequest } from "./payload.ts";

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
}

export interface QueuedRequest {
  /** Builds the request when it is sent (the address and token are read then, not at enqueue). */
  request: ProviderRequest;
  timeoutMs: number;
}

interface ProviderQueue {
  items: QueuedRequest[];
  running: boolean;
}

/** A receiver's answer body is never kept: it may echo what was sent. Only the status counts. */
async function send(item: QueuedRequest, signal: AbortSignal): Promise<void> {
  const response = await fetch(item.request.url, {
    method: "POST",
    headers: item.request.headers,
    body: item.request.body,
    redirect: "error",
    signal: AbortSignal.any([signal, AbortSignal.timeout(item.timeoutMs)]),
  });
  await response.body?.cancel();
  if (!response.ok) throw new (isPermanent(response.status) ? PermanentDeliveryError : Error)(`the receiver answered HTTP ${response.status}`);
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

  /** Queues a request for `provider` (`namespace/name`); returns false when it was dropped. Never waits. */
  enqueue(provider: string, item: QueuedRequest): boolean {
    if (this.abort.signal.aborted) return false;
    let queue = this.queues.get(provider);
    if (!queue) {
      queue = { items: [], running: false };
      this.queues.set(provider, queue);
    }
    if (queue.items.length >= (this.options.queueLimit ?? 100)) {
      this.drops.inc({ provider });
      this.options.logger.warn({ provider, queued: queue.items.length }, "notification queue full; dropping a notification");
      return false;
    }
    queue.items.push(item);
    if (!queue.running) void this.drain(provider, queue);
    return true;
  }

  /** Notifications waiting for `provider`, the one being sent included. */
  pending(provider: string): number {
    return this.queues.get(provider)?.items.length ?? 0;
  }

  /** Stops retrying; what is queued is dropped (persistence across restarts is not in this slice). */
  close(): void {
    this.abort.abort();
  }

  private async drain(provider: string, queue: ProviderQueue): Promise<void> {
    queue.running = true;
    const signal = this.abort.signal;
    try {
      while (queue.items.length > 0 && !signal.aborted) {
        const item = queue.items[0];
        if (!item) break;
        await this.deliver(provider, item, signal);
        queue.items.shift();
      }
    } finally {
      queue.running = false;
      if (queue.items.length === 0) this.queues.delete(provider);
    }
  }

  private async deliver(provider: string, item: QueuedRequest, signal: AbortSignal): Promise<void> {
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
        return;
      } catch (error) {
        if (signal.aborted) return;
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
    if (signal.aborted) return;
    this.results.inc({ provider, result: "failed" });
    this.options.logger.error({ provider, attempts: tried, address: redactAddress(item.request.url), error: last }, "notification given up");
    this.options.onFailed?.(provider, `after ${tried} attempt${tried === 1 ? "" : "s"}: ${last}`);
  }
}
