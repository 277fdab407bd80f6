import type { Checkout } from "../git/index.ts";

interface Entry {
  source: string;
  opening: Promise<Checkout>;
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
 * the same commit: 1,000 Applications over one repository cost one checkout, not 1,000.
 * Keyed by source object, not URL, so a tenant never reads a tree fetched with another
 * tenant's credentials. Opening is single-flight per commit; trees nobody uses are dropped
 * beyond the newest `keepPerSource` of each source, so disk use stays bounded.
 */
export class ArtifactStore {
  private readonly entries = new Map<string, Entry>();
  /** A counter, not a clock: releases in the same millisecond still have an order. */
  private uses = 0;

  constructor(private readonly keepPerSource = 2) {}

  /** `source` identifies the GitRepository (`namespace/name`). */
  async acquire(source: string, commit: string, open: () => Promise<Checkout>): Promise<Artifact> {
    const key = `${source}@${commit}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { source, opening: open(), users: 0, lastUsed: ++this.uses };
      this.entries.set(key, entry);
    }
    entry.users++;
    let checkout: Checkout;
    try {
      checkout = await entry.opening;
    } catch (error) {
      // A failed checkout is not cached: the next reconcile tries again.
      entry.users--;
      if (this.entries.get(key) === entry) this.entries.delete(key);
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

  /** Removes every tree; for shutdown. */
  async close(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((entry) => entry.opening.then((checkout) => checkout.dispose(), () => undefined)));
  }

  private evict(source: string): void {
    const idle = [...this.entries.entries()].filter(([, entry]) => entry.source === source && entry.users === 0).sort(([, a], [, b]) => b.lastUsed - a.lastUsed);
    for (const [key, entry] of idle.slice(this.keepPerSource)) {
      this.entries.delete(key);
      void entry.opening.then((checkout) => checkout.dispose(), () => undefined);
    }
  }
}
