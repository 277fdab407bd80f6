import { defaultBackoff, KeyBackoff, type BackoffOptions } from "./queue-backoff.ts";
import { systemClock, type QueueClock } from "./queue-clock.ts";
import { DelayedKeys } from "./queue-delays.ts";

/** Processes one key. Throwing retries the key with backoff; resolving resets its backoff. */
export type KeyHandler = (key: string, signal: AbortSignal) => Promise<void>;

export interface WorkQueueOptions {
  clock?: QueueClock;
  backoff?: Partial<BackoffOptions>;
  /** Source of jitter, [0, 1); tests pin it. */
  random?: () => number;
  /** Called whenever the number of waiting keys changes (a metrics gauge). */
  onDepthChange?: (depth: number) => void;
  /** Called when a handler throws, before the key is retried. Not called during shutdown. */
  onError?: (key: string, error: unknown) => void;
}

/**
 * The controller's work queue, after client-go's rate-limited workqueue. Keys are
 * `<kind>/<namespace>/<name>`. A key waits at most once; a key is never processed by two
 * handlers at once, and one added while it is processed runs again once it is done, so a
 * change seen mid-reconcile is never lost.
 */
export class WorkQueue {
  private readonly clock: QueueClock;
  private readonly backoff: KeyBackoff;
  private readonly delayed = new DelayedKeys();
  /** Keys in the order they will be handed out. */
  private readonly waiting: string[] = [];
  /** Keys that need processing: the waiting ones, and processing ones added again. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly aborter = new AbortController();
  private timer: { handle: unknown; deadline: number } | undefined;
  private handler: KeyHandler | undefined;
  private concurrency = 0;
  private dispatchScheduled = false;
  private stopping = false;
  private idle: Array<() => void> = [];

  constructor(private readonly options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.backoff = new KeyBackoff({ ...defaultBackoff, ...options.backoff }, options.random ?? Math.random);
  }

  /** Keys waiting to be processed (not counting delayed ones). */
  get depth(): number {
    return this.waiting.length;
  }

  /** Keys being processed right now. */
  get active(): number {
    return this.processing.size;
  }

  /** Keys scheduled by addAfter or addRateLimited that are not due yet. */
  get delayedCount(): number {
    return this.delayed.size;
  }

  get shuttingDown(): boolean {
    return this.stopping;
  }

  add(key: string): void {
    if (this.stopping || this.dirty.has(key)) return;
    this.dirty.add(key);
    // Processing keys are re-queued when their handler finishes, never run twice at once.
    if (this.processing.has(key)) return;
    this.waiting.push(key);
    this.depthChanged();
    this.scheduleDispatch();
  }

  /** Adds `key` after `ms`; if it is already scheduled, the earlier deadline wins. */
  addAfter(key: string, ms: number): void {
    if (this.stopping) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    this.delayed.schedule(key, this.clock.now() + ms);
    this.armTimer();
  }

  /** Adds `key` after its next backoff delay: 1 s, 2 s, 4 s ... up to 5 min, ±10 %. */
  addRateLimited(key: string): void {
    if (this.stopping) return;
    this.addAfter(key, this.backoff.next(key));
  }

  /** Resets `key`'s backoff, after it was processed successfully. */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  /** Failures recorded for `key` since it was last forgotten. */
  retries(key: string): number {
    return this.backoff.retries(key);
  }

  /** Starts processing with at most `concurrency` handlers running at once. */
  start(concurrency: number, handler: KeyHandler): void {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    if (this.handler) throw new Error("the work queue is already started");
    if (this.stopping) throw new Error("the work queue is shut down");
    this.handler = handler;
    this.concurrency = concurrency;
    this.scheduleDispatch();
  }

  /**
   * Stops handing out keys and dropping new ones, aborts the handlers' signal, and resolves
   * once every running handler has returned.
   */
  shutdown(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      if (this.timer) this.clock.clearTimeout(this.timer.handle);
      this.timer = undefined;
      this.delayed.clear();
      this.aborter.abort(new Error("work queue shut down"));
    }
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * Hands keys to handlers on a microtask rather than inside add(), so a handler never runs
   * re-entrantly inside the caller's add() and a burst of adds is dispatched once.
   */
  private scheduleDispatch(): void {
    if (this.dispatchScheduled || !this.handler) return;
    this.dispatchScheduled = true;
    queueMicrotask(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    const handler = this.handler;
    if (!handler) return;
    let taken = false;
    while (!this.stopping && this.processing.size < this.concurrency && this.waiting.length > 0) {
      const key = this.waiting.shift() as string;
      this.dirty.delete(key);
      this.processing.add(key);
      taken = true;
      void this.process(key, handler);
    }
    if (taken) this.depthChanged();
  }

  private async process(key: string, handler: KeyHandler): Promise<void> {
    try {
      await handler(key, this.aborter.signal);
      this.backoff.forget(key);
    } catch (error) {
      if (!this.stopping) {
        this.options.onError?.(key, error);
        this.addRateLimited(key);
      }
    } finally {
      this.processing.delete(key);
      if (this.dirty.has(key) && !this.stopping) {
        this.waiting.push(key);
        this.depthChanged();
      }
      if (this.stopping && this.processing.size === 0) this.resolveIdle();
      this.scheduleDispatch();
    }
  }

  private resolveIdle(): void {
    const waiters = this.idle;
    this.idle = [];
    for (const resolve of waiters) resolve();
  }

  /** One timer for all delayed keys, set for the earliest deadline. */
  private armTimer(): void {
    const deadline = this.delayed.nextDeadline();
    if (this.timer && this.timer.deadline === deadline) return;
    if (this.timer) this.clock.clearTimeout(this.timer.handle);
    this.timer = undefined;
    if (deadline === undefined) return;
    const handle = this.clock.setTimeout(() => this.fireTimer(), Math.max(0, deadline - this.clock.now()));
    this.timer = { handle, deadline };
  }

  private fireTimer(): void {
    this.timer = undefined;
    if (this.stopping) return;
    for (const key of this.delayed.takeDue(this.clock.now())) this.add(key);
    this.armTimer();
  }

  private depthChanged(): void {
    this.options.onDepthChange?.(this.waiting.length);
  }
}
