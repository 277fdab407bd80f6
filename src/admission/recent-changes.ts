/**
 * Who changed what, remembered from the admission webhook for the short time until the drift
 * watch sees the same change and fjord reverts it: the revert then names the person, not only
 * the field manager. Bounded in count and age, so a flood of requests cannot grow it.
 */
import type { ChangeRecord } from "./decision.ts";

/** A drift revert follows its change within a second or two; a minute leaves room for a slow watch. */
export const RECENT_CHANGE_WINDOW_MS = 60_000;
/** At most this many records are kept (the oldest go first): about 2 MiB at worst. */
export const MAX_RECENT_CHANGES = 5_000;

export interface RememberedChange extends ChangeRecord {
  /** When the webhook admitted it (ms since the epoch). */
  atMs: number;
}

/** What the drift watch saw: the object, and the field manager of the write (or that it was deleted). */
export interface SeenChange {
  object: string;
  deleted: boolean;
  fieldManager?: string;
}

export class RecentChanges {
  /** In admission order: the first is the oldest. At most MAX_RECENT_CHANGES, so a scan is cheap. */
  private readonly changes: RememberedChange[] = [];

  constructor(
    private readonly now: () => number = Date.now,
    private readonly windowMs = RECENT_CHANGE_WINDOW_MS,
    private readonly limit = MAX_RECENT_CHANGES,
  ) {}

  remember(change: ChangeRecord): void {
    this.expire();
    this.changes.push({ ...change, application: { ...change.application }, groups: [...change.groups], fields: [...change.fields], atMs: this.now() });
    if (this.changes.length > this.limit) this.changes.splice(0, this.changes.length - this.limit);
  }

  /**
   * The admitted change the drift watch saw, newest first: for a deletion the latest DELETE of
   * the object; for a write the latest CREATE or UPDATE whose field manager matches (a request
   * that named no field manager matches any). Taken out, so one record explains one revert.
   */
  take(seen: SeenChange): RememberedChange | undefined {
    this.expire();
    for (let index = this.changes.length - 1; index >= 0; index--) {
      const change = this.changes[index];
      if (!change || change.object !== seen.object) continue;
      const matches = seen.deleted ? change.operation === "DELETE" : change.operation !== "DELETE" && (!change.fieldManager || !seen.fieldManager || change.fieldManager === seen.fieldManager);
      if (!matches) continue;
      this.changes.splice(index, 1);
      return change;
    }
    return undefined;
  }

  get size(): number {
    this.expire();
    return this.changes.length;
  }

  private expire(): void {
    const oldest = this.now() - this.windowMs;
    let stale = 0;
    while (stale < this.changes.length && (this.changes[stale]?.atMs ?? 0) < oldest) stale++;
    if (stale) this.changes.splice(0, stale);
  }
}
