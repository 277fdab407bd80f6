import type { KubeObject } from "../model/object.ts";
import type { DriftEvent } from "./drift-watch.ts";

export interface StartedSync {
  /** Aborts when the controller stops or a newer revision supersedes this sync. */
  signal: AbortSignal;
  /** Drift gathered since the previous sync, which this one reverts. */
  drift: DriftEvent[] | undefined;
  /** The sync is over (successful or not); call exactly once. */
  end(): void;
}

/**
 * What the controller remembers about each Application's syncs, by queue key: the sync in
 * progress (so a newer revision can end its health wait), when the latest one started
 * (writes made before it are not drift), drift waiting to be reverted, and drift already
 * reported with selfHeal off (its later status updates would repeat it), and the
 * resourceVersion of the controller's own last write to the Application.
 */
export class SyncTracker {
  private readonly running = new Map<string, AbortController>();
  private readonly startedAt = new Map<string, string>();
  private readonly pending = new Map<string, DriftEvent[]>();
  private readonly reported = new Map<string, Set<string>>();
  private readonly written = new Map<string, number>();

  start(key: string, parent: AbortSignal): StartedSync {
    this.startedAt.set(key, new Date().toISOString());
    const drift = this.pending.get(key);
    this.pending.delete(key);
    const cancel = new AbortController();
    const stop = () => cancel.abort(parent.reason);
    parent.addEventListener("abort", stop, { once: true });
    this.running.set(key, cancel);
    return {
      signal: cancel.signal,
      drift,
      end: () => {
        parent.removeEventListener("abort", stop);
        if (this.running.get(key) === cancel) this.running.delete(key);
      },
    };
  }

  isSyncing(key: string): boolean {
    return this.running.has(key);
  }

  /** When the latest sync of `key` started (RFC 3339); empty before the first. */
  latestStart(key: string): string {
    return this.startedAt.get(key) ?? "";
  }

  supersede(key: string, reason: Error): void {
    this.running.get(key)?.abort(reason);
  }

  /** selfHeal on: the change waits for the next sync, which reverts it. */
  addPending(key: string, event: DriftEvent): void {
    this.pending.set(key, [...(this.pending.get(key) ?? []), event]);
  }

  /** selfHeal off: true the first time this change (object, writer, time) is seen. */
  firstReport(key: string, event: DriftEvent): boolean {
    const seen = this.reported.get(key) ?? new Set<string>();
    const id = `${event.object}|${event.changedBy}|${event.at}`;
    if (seen.has(id)) return false;
    this.reported.set(key, seen.add(id));
    return true;
  }

  /** A sync finished: drift reported before it is history (the sync cleared status.drift). */
  clearReports(key: string): void {
    this.reported.delete(key);
  }

  recordWrite(key: string, resourceVersion: string): void {
    this.written.set(key, Number(resourceVersion));
  }

  /**
   * True when the watch cache's copy already holds the controller's own last write: then a
   * reconcile can start from it instead of a GET. Behind it, the cache would hand back an old
   * status (history, inventory) that the reconcile's status write would then restore.
   */
  isCurrent(key: string, cached: KubeObject): boolean {
    const written = this.written.get(key);
    return written === undefined || Number(cached.metadata.resourceVersion ?? 0) >= written;
  }

  /** The Application is gone. */
  forget(key: string): void {
    this.written.delete(key);
    this.startedAt.delete(key);
    this.reported.delete(key);
    this.pending.delete(key);
  }
}
