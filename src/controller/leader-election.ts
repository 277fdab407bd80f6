import { setTimeout as delay } from "node:timers/promises";
import type { KubeClient } from "../kube/client.ts";
import { KubeApiError, isNotFound } from "../kube/errors.ts";
import type { Logger } from "../util/logger.ts";
import {
  acquiredSpec,
  isLeaseFree,
  leasePath,
  observeLease,
  releasedSpec,
  renewedSpec,
  type Lease,
  type LeaseObservation,
} from "./leader-election-lease.ts";

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  /** Unique per process (e.g. the Pod name); a process restarted with the same identity resumes at once. */
  identity: string;
  /** How long a standby waits, on its own clock, after it last saw the lease change before taking over. */
  leaseDurationSeconds?: number;
  /** How long the leader keeps trying to renew before it gives up leading; less than the lease duration. */
  renewDeadlineSeconds?: number;
  /** Pause between acquire tries and between renewals. */
  retryPeriodSeconds?: number;
  /**
   * Starts the guarded work; `signal` aborts when leadership ends. It may return at once or
   * run until the signal aborts: the lease is released only after the returned promise
   * settles, so the next leader never overlaps with this work. Rejecting ends leadership.
   */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  onStoppedLeading?: () => void;
  /**
   * Clear the holder when `run`'s signal aborts, so a standby takes over within a retry period.
   * Off only to simulate a crash, where the lease has to expire first.
   */
  releaseOnStop?: boolean;
  logger?: Pick<Logger, "info" | "warn">;
  /**
   * Wall-clock milliseconds for the times written into the lease. No candidate compares them
   * with its own clock, so a skewed clock here is harmless; injectable so tests can show that.
   */
  wallClock?: () => number;
}

/**
 * Local intervals (renew deadline, lease expiry) are measured on a monotonic clock, so that
 * stepping the wall clock (NTP, a VM resumed) can neither expire a lease early nor stretch it.
 */
const monotonicNow = (): number => performance.now();

type RenewalEnd = "stopped" | "lost";

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it.
 * Every write carries the resourceVersion it read, so of two candidates racing for a free
 * lease exactly one wins and the other gets 409 Conflict.
 *
 * Safety rests on renewDeadline < leaseDuration: a leader that cannot renew stops leading
 * (its signal aborts) before the lease it last wrote expires and a standby may take it.
 * Standbys judge expiry as client-go does, by how long they have seen the lease unchanged on
 * their own clock, never by the renewTime in it: that was written with the holder's clock,
 * and comparing it with ours would need the two clocks in sync.
 */
export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private leading = false;
  private readonly wallClock: () => number;
  /** Kept across run() calls: a record unchanged since an earlier run has been dead that long. */
  private observed: LeaseObservation | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly options: LeaderElectionOptions,
  ) {
    this.leaseDurationMs = (options.leaseDurationSeconds ?? 15) * 1_000;
    this.renewDeadlineMs = (options.renewDeadlineSeconds ?? 10) * 1_000;
    this.retryPeriodMs = (options.retryPeriodSeconds ?? 2) * 1_000;
    this.wallClock = options.wallClock ?? Date.now;
    if (!options.identity) throw new Error("leader election needs a non-empty identity");
    if (!(this.renewDeadlineMs < this.leaseDurationMs)) throw new RangeError("renewDeadlineSeconds must be less than leaseDurationSeconds");
    if (!(this.retryPeriodMs > 0 && this.retryPeriodMs < this.renewDeadlineMs)) {
      throw new RangeError("retryPeriodSeconds must be positive and less than renewDeadlineSeconds");
    }
    if (!Number.isInteger(options.leaseDurationSeconds ?? 15)) throw new RangeError("leaseDurationSeconds must be a whole number");
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Stands by until this process holds the lease, leads until `signal` aborts, renewal fails
   * past the renew deadline or onStartedLeading rejects, then returns. To stand by again
   * after losing the lease, call run() again. Rejects only with onStartedLeading's error.
   */
  async run(signal: AbortSignal): Promise<void> {
    const acquiredAt = await this.acquire(signal);
    if (acquiredAt === undefined) return;
    this.leading = true;
    this.options.logger?.info({ lease: this.options.name, identity: this.options.identity }, "started leading");
    const leadership = new AbortController();
    const workFailed = new AbortController();
    const work = (async () => this.options.onStartedLeading(leadership.signal))().then(
      () => ({ failed: false as const }),
      (error: unknown) => {
        workFailed.abort();
        return { failed: true as const, error };
      },
    );

    const end = await this.renewUntilLost(acquiredAt, AbortSignal.any([signal, workFailed.signal]));
    leadership.abort(new Error(end === "lost" ? "leadership lost" : "leadership released"));
    const outcome = await work;
    this.leading = false;
    if (end === "stopped" && (this.options.releaseOnStop ?? true)) await this.release();
    this.options.logger?.[end === "lost" ? "warn" : "info"]({ lease: this.options.name, identity: this.options.identity }, `stopped leading (${end})`);
    this.options.onStoppedLeading?.();
    if (outcome.failed) throw outcome.error;
  }

  /** Tries every retry period until the lease is ours; returns when (monotonic) the winning try started. */
  private async acquire(signal: AbortSignal): Promise<number | undefined> {
    while (!signal.aborted) {
      const started = monotonicNow();
      try {
        if (await this.tryAcquire(this.requestSignal(signal, this.renewDeadlineMs))) {
          if (!signal.aborted) return started;
          // Stopped while the winning write was in flight: hand the lease straight back.
          await this.release();
          return undefined;
        }
      } catch (error) {
        if (signal.aborted) return undefined;
        this.options.logger?.warn({ lease: this.options.name, error: String(error) }, "cannot read or take the lease; retrying");
      }
      await sleep(this.retryPeriodMs, signal);
    }
    return undefined;
  }

  /** One attempt to take the lease; false when another holder has it or won the race. */
  private async tryAcquire(signal: AbortSignal): Promise<boolean> {
    const current = await this.readLease(signal);
    // Timed after the read returns: the holder started its renew deadline before writing what
    // we read, so it stops leading before our count runs out (renewDeadline < leaseDuration).
    const now = monotonicNow();
    this.observed = observeLease(this.observed, current?.spec, now);
    if (!current) {
      const lease: Lease = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: this.options.name, namespace: this.options.namespace },
        spec: acquiredSpec(undefined, this.options.identity, this.leaseDurationMs / 1_000, this.wallClock()),
      };
      return this.write("POST", leasePath(this.options.namespace), lease, signal);
    }
    const { record, observedAt } = this.observed;
    if (current.spec?.holderIdentity !== this.options.identity && !isLeaseFree(record, observedAt, now)) return false;
    const spec = acquiredSpec(current.spec, this.options.identity, this.leaseDurationMs / 1_000, this.wallClock());
    return this.write("PUT", leasePath(this.options.namespace, this.options.name), { ...current, spec }, signal);
  }

  /**
   * Renews every retry period. A failed renewal is retried until renewDeadline after the
   * last successful one; seeing another holder ends leadership at once.
   */
  private async renewUntilLost(acquiredAt: number, stop: AbortSignal): Promise<RenewalEnd> {
    let lastRenewed = acquiredAt;
    let pause = this.retryPeriodMs;
    for (;;) {
      await sleep(pause, stop);
      if (stop.aborted) return "stopped";
      const started = monotonicNow();
      const deadline = lastRenewed + this.renewDeadlineMs;
      if (started >= deadline) return "lost";
      try {
        if (!(await this.tryRenew(this.requestSignal(stop, deadline - started)))) return "lost";
        lastRenewed = started;
        pause = this.retryPeriodMs;
      } catch (error) {
        if (stop.aborted) return "stopped";
        this.options.logger?.warn({ lease: this.options.name, error: String(error) }, "cannot renew the lease; retrying");
        pause = Math.max(0, Math.min(this.retryPeriodMs, deadline - monotonicNow()));
      }
    }
  }

  /** Resolves false when someone else holds the lease; throws when renewal may still succeed. */
  private async tryRenew(signal: AbortSignal): Promise<boolean> {
    const current = await this.readLease(signal);
    if (!current?.spec || current.spec.holderIdentity !== this.options.identity) return false;
    const spec = renewedSpec(current.spec, this.leaseDurationMs / 1_000, this.wallClock());
    // A conflict means the lease changed under us (a label, or a rival's write): read again.
    if (!(await this.write("PUT", leasePath(this.options.namespace, this.options.name), { ...current, spec }, signal))) {
      throw new Error("the lease changed while renewing it");
    }
    return true;
  }

  /** Clears the holder if it is still us; best effort, as an unreleased lease still expires. */
  private async release(): Promise<void> {
    const signal = AbortSignal.timeout(this.renewDeadlineMs);
    try {
      const current = await this.readLease(signal);
      if (!current?.spec || current.spec.holderIdentity !== this.options.identity) return;
      const spec = releasedSpec(current.spec, this.wallClock());
      await this.write("PUT", leasePath(this.options.namespace, this.options.name), { ...current, spec }, signal);
    } catch (error) {
      this.options.logger?.warn({ lease: this.options.name, error: String(error) }, "cannot release the lease; it expires on its own");
    }
  }

  private async readLease(signal: AbortSignal): Promise<Lease | undefined> {
    try {
      return await this.client.request<Lease>("GET", leasePath(this.options.namespace, this.options.name), { signal });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Writes the lease; false when the optimistic-concurrency check failed (someone else wrote first). */
  private async write(method: "POST" | "PUT", path: string, lease: Lease, signal: AbortSignal): Promise<boolean> {
    try {
      await this.client.request<Lease>(method, path, { body: lease, signal });
      return true;
    } catch (error) {
      // 409 is AlreadyExists for a create and Conflict for an update with a stale resourceVersion.
      if (error instanceof KubeApiError && error.conflict) return false;
      throw error;
    }
  }

  /** A request never outlives the caller's signal nor the time leadership can wait for it. */
  private requestSignal(signal: AbortSignal, timeoutMs: number): AbortSignal {
    // AbortSignal.timeout takes whole milliseconds only; monotonic readings are fractional.
    return AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs)))]);
  }
}

/** Waits `ms`, returning early (not throwing) when `signal` aborts. */
async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  await delay(ms, undefined, { signal }).catch(() => undefined);
}
