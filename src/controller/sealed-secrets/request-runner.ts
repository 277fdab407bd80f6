/**
 * Runs the sealing routes' jobs (requests.ts) one at a time on a worker thread, so the
 * controller's event loop stays free whatever a request holds, and bounds the work anonymous
 * callers can cause: each job has a deadline, and all of them share a budget of worker time.
 */
import type { Worker } from "node:worker_threads";
import { startModuleWorker, siblingModule } from "../../util/module-worker.ts";
import { TokenBucket } from "../../util/token-bucket.ts";
import type { WorkerRequest, WorkerResponse } from "./request-worker.ts";
import type { SealingJob, SealingOutcome } from "../../secrets/sealed/requests.ts";

export interface SealingWorkLimits {
  /** A job still running after this is abandoned: its worker is stopped and a fresh one started. */
  deadlineMs: number;
  /** Worker time (ms) that may be used at once after a quiet spell. */
  burstMs: number;
  /** Worker time (ms) that comes back per second: the share of one core the routes may use in the long run. */
  refillMsPerSecond: number;
  /** What even a trivial job costs, so that a flood of them is limited too. */
  minimumChargeMs: number;
  /** The worker's V8 heap; a body built to need more kills the worker, not the controller. */
  maxHeapMb: number;
}

/**
 * A request of MAX_SEALED_VALUES values takes 2 to 3 s with a 4096-bit key, so 10 s is ample
 * for honest work on a busy node. The budget lets a burst of 10 s of work through, then a
 * quarter of a core: enough for CI validating hundreds of SealedSecrets a minute, and the
 * controller keeps most of its CPU limit whatever anonymous callers send.
 */
export const DEFAULT_SEALING_WORK_LIMITS: SealingWorkLimits = { deadlineMs: 10_000, burstMs: 10_000, refillMsPerSecond: 250, minimumChargeMs: 10, maxHeapMb: 256 };

/** An idle worker is stopped after this, giving its memory back. */
const IDLE_MS = 60_000;

/**
 * Why a job was not done: the client's request (`invalid`, `does-not-unseal`), the budget
 * (`rate-limited`), the deadline (`too-slow`), the worker dying under it (`worker-lost`,
 * out of memory say) or shutdown (`closing`).
 */
export type SealingRefusal = "invalid" | "does-not-unseal" | "rate-limited" | "too-slow" | "worker-lost" | "closing";

/** A refusal the sealing routes return with this status (and Retry-After); the message holds no values. */
export class SealingRequestError extends Error {
  override readonly name = "SealingRequestError";

  constructor(
    message: string,
    readonly statusCode: number,
    readonly reason: SealingRefusal,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

const closing = () => new SealingRequestError("the controller is shutting down", 503, "closing", 5);

interface Pending {
  job: SealingJob;
  /** Charged to the budget: the routes' jobs are, the controller's own are not. */
  budgeted: boolean;
  resolve: (outcome: SealingOutcome) => void;
  reject: (error: Error) => void;
}

export class SealingWorker {
  private readonly budget: TokenBucket;
  private readonly queue: Pending[] = [];
  private current: { id: number; pending: Pending; deadline: NodeJS.Timeout; started: number } | undefined;
  private worker: Worker | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly limits: SealingWorkLimits = DEFAULT_SEALING_WORK_LIMITS,
    now?: () => number,
  ) {
    this.budget = new TokenBucket(limits.burstMs, limits.refillMsPerSecond, now);
  }

  /**
   * The job's outcome. Throws a SealingRequestError: 429 while the budget is spent (unless
   * `budgeted` is false: the controller's own work waits its turn but is never refused), 503
   * when the job ran past its deadline or the worker is shutting down, 500 when the worker died.
   */
  run(job: SealingJob, { budgeted = true }: { budgeted?: boolean } = {}): Promise<SealingOutcome> {
    if (this.closed) return Promise.reject(closing());
    const retryAfter = budgeted ? this.budget.retryAfterSeconds() : undefined;
    if (retryAfter !== undefined) {
      return Promise.reject(new SealingRequestError(`too many sealing requests: the controller's budget for them is spent; retry in ${retryAfter} s`, 429, "rate-limited", retryAfter));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ job, budgeted, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    for (const pending of this.queue.splice(0)) pending.reject(closing());
    if (this.current) this.finish(this.current.id, closing());
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private pump(): void {
    if (this.current || this.closed) return;
    const pending = this.queue.shift();
    if (!pending) {
      this.worker?.unref();
      this.idleTimer = setTimeout(() => this.stopWorker(), IDLE_MS).unref();
      return;
    }
    clearTimeout(this.idleTimer);
    const worker = this.startedWorker();
    worker.ref();
    const id = this.nextId++;
    const deadline = setTimeout(() => {
      this.charge(pending, this.limits.deadlineMs);
      this.stopWorker();
      this.finish(id, new SealingRequestError(`checking the SealedSecret took longer than ${this.limits.deadlineMs / 1000} s and was abandoned`, 503, "too-slow", 10));
    }, this.limits.deadlineMs);
    this.current = { id, pending, deadline, started: performance.now() };
    worker.postMessage({ id, job: pending.job } satisfies WorkerRequest);
  }

  private startedWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = startModuleWorker(siblingModule(import.meta.url, "request-worker"), { resourceLimits: { maxOldGenerationSizeMb: this.limits.maxHeapMb } });
    worker.on("message", (response: WorkerResponse) => {
      if (this.current?.id !== response.id) return;
      this.charge(this.current.pending, response.ms);
      this.finish(response.id, "outcome" in response ? response.outcome : new SealingRequestError(`checking the SealedSecret failed (${response.failure})`, 500, "worker-lost"));
    });
    // Out of memory, or a crash: the job in hand fails, and the next one gets a fresh worker.
    const lost = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (!this.current) return;
      this.charge(this.current.pending, performance.now() - this.current.started);
      this.finish(this.current.id, new SealingRequestError(`the sealing worker stopped while checking the SealedSecret (${why})`, 500, "worker-lost"));
    };
    worker.on("error", (error: Error & { code?: string }) => lost(error.code ?? error.name));
    worker.on("exit", (code) => lost(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }

  private charge(pending: Pending, ms: number): void {
    if (pending.budgeted) this.budget.take(Math.max(ms, this.limits.minimumChargeMs));
  }

  private stopWorker(): void {
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
  }

  private finish(id: number, result: SealingOutcome | Error): void {
    if (this.current?.id !== id) return;
    const { pending, deadline } = this.current;
    clearTimeout(deadline);
    this.current = undefined;
    if (result instanceof Error) pending.reject(result);
    else pending.resolve(result);
    this.pump();
  }
}
