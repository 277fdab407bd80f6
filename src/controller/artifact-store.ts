import type { Checkout } from "../git/index.ts";

interface Entry {
  source: string;
  opening: Promise<Checkout>;
  /** Cancels the checkout; fired when every caller waiting for it has given up, or on close. */
  cancel: AbortController;
  /** Callers still waiting for `opening`. */
  waiting: number;
  settled: boolean;
  users: number;
  lastUsed: number;
}

export interface Artifact {
  /** The commit's files; read-only by contract (render writes only to its own temp dirs). */
  dir: string;
  release(): void;
}

/**
 * The checked-out trees of source commits, shared by every Application that renders from
 * the same tree: 1,000 Applications over one repository cost one checkout, not 1,000.
 * Keyed by source object, not URL, so a tenant never reads a tree fetched with another
 * tenant's credentials, and by tree (the commit and the ignore rules it was written with), so
 * a tree made with other rules is never reused. Opening is single-flight per tree; trees nobody
 * uses are dropped beyond the newest `keepPerSource` of each source, so disk use stays bounded.
 */
export class ArtifactStore {
  private readonly entries = new Map<string, Entry>();
  /** A counter, not a clock: releases in the same millisecond still have an order. */
  private uses = 0;

  constructor(private readonly keepPerSource = 2) {}

  /**
   * `source` identifies the GitRepository (`namespace/name`), `tree` the tree within it. When
   * `signal` fires, this caller stops waiting at once; the checkout itself is cancelled (its git
   * killed) only when no caller is waiting for it any more.
   */
  async acquire(source: string, tree: string, open: (signal: AbortSignal) => Promise<Checkout>, signal?: AbortSignal): Promise<Artifact> {
    signal?.throwIfAborted();
    const key = `${source}@${tree}`;
    let entry = this.entries.get(key);
    if (!entry) {
      const cancel = new AbortController();
      const created: Entry = { source, opening: open(cancel.signal), cancel, waiting: 0, settled: false, users: 0, lastUsed: ++this.uses };
      const settle = () => void (created.settled = true);
      void created.opening.then(settle, settle);
      entry = created;
      this.entries.set(key, entry);
    }
    entry.users++;
    let checkout: Checkout;
    try {
      checkout = await this.waitFor(entry, signal);
    } catch (error) {
      // A failed checkout is not cached (the next reconcile tries again), nor one everybody gave up on.
      entry.users--;
      if (this.entries.get(key) === entry && (entry.settled || entry.users === 0)) {
        this.entries.delete(key);
        // Given up on, it may still have finished: its tree must not stay behind.
        void entry.opening.then((checkout) => checkout.dispose(), () => undefined);
      }
      throw error;
    }
    let released = false;
    const held = entry;
    return {
      dir: checkout.dir,
      release: () => {
        if (released) return;
        released = true;
        held.users--;
        held.lastUsed = ++this.uses;
        this.evict(held.source);
      },
    };
  }

  /** Removes every tree and cancels the checkouts still running; for shutdown. */
  async close(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const entry of all) entry.cancel.abort(new Error("the controller is stopping"));
    await Promise.all(all.map((entry) => entry.opening.then((checkout) => checkout.dispose(), () => undefined)));
  }

  /** Waits for the entry's checkout, or until `signal` fires; the last caller to give up cancels the checkout. */
  private async waitFor(entry: Entry, signal: AbortSignal | undefined): Promise<Checkout> {
    entry.waiting++;
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      entry.waiting--;
    };
    let giveUp = () => {};
    const givenUp = new Promise<never>((_, reject) => {
      giveUp = () => {
        leave();
        if (entry.waiting === 0 && !entry.settled) entry.cancel.abort(signal?.reason);
        reject(signal?.reason instanceof Error ? signal.reason : new Error("cancelled"));
      };
    });
    signal?.addEventListener("abort", giveUp, { once: true });
    try {
      return await (signal ? Promise.race([entry.opening, givenUp]) : entry.opening);
    } finally {
      leave();
      signal?.removeEventListener("abort", giveUp);
    }
  }

  private evict(source: string): void {
    const idle = [...this.entries.entries()].filter(([, entry]) => entry.source === source && entry.users === 0).sort(([, a], [, b]) => b.lastUsed - a.lastUsed);
    for (const [key, entry] of idle.slice(this.keepPerSource)) {
      this.entries.delete(key);
      void entry.opening.then((checkout) => checkout.dispose(), () => undefined);
    }
  }
}
