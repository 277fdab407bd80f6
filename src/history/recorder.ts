import type { KubeClient } from "../kube/client.ts";
import type { Logger } from "../util/logger.ts";
import type { HistoryBounds, HistoryEntry } from "./entry.ts";
import { appendHistory, HISTORY_DATA_KEY, type HistoryConfigMap, type HistoryOwner } from "./store.ts";

/**
 * The controller's side of history: adds each reconcile's entries to the Application's
 * ConfigMap. A manual operation's annotation stays on the Application and is seen by every
 * later reconcile, so the recorder remembers what it stored and sends nothing for it again
 * (after a restart the store's own check keeps it once, at the cost of one GET). An idle
 * reconcile makes no request. Entries that could not be written are kept and sent with the
 * next ones, so an API server hiccup loses no audit record.
 */
export interface HistoryRecorderOptions {
  logger?: Logger;
  now?: () => Date;
  /** Called with the entries once they are stored, so Events and logs carry exactly what `fjord audit` reads. */
  onRecorded?: (owner: HistoryOwner, entries: readonly HistoryEntry[]) => void;
}

export class HistoryRecorder {
  readonly #recorded = new Map<string, Set<string>>();
  readonly #pending = new Map<string, HistoryEntry[]>();
  /** The ConfigMap as last written per Application, so the next append needs no GET (bounded: one per Application, at most the history's size). */
  readonly #written = new Map<string, HistoryConfigMap>();

  readonly #logger: Logger | undefined;
  readonly #now: () => Date;
  readonly #onRecorded: HistoryRecorderOptions["onRecorded"];

  constructor(
    private readonly bounds: HistoryBounds,
    options: HistoryRecorderOptions = {},
  ) {
    this.#logger = options.logger;
    this.#now = options.now ?? (() => new Date());
    this.#onRecorded = options.onRecorded;
  }

  /**
   * `client` is the identity the Application applies as (its ServiceAccount, impersonated).
   * `isNew`: the Application was never reconciled, so it has no history yet and the first write
   * is a create without a read.
   */
  async record(owner: HistoryOwner, entries: readonly HistoryEntry[], client: KubeClient, isNew = false): Promise<void> {
    const key = `${owner.namespace}/${owner.name}`;
    const seen = this.#recorded.get(key) ?? new Set<string>();
    const fresh = [...entries.filter((entry) => entry.action === "sync" || !seen.has(operationKey(entry))), ...(this.#pending.get(key) ?? [])];
    if (fresh.length === 0) return;
    try {
      const known = this.#written.get(key) ?? (isNew ? null : undefined);
      const { written, addedEntries } = await appendHistory(client, owner, fresh, this.bounds, this.#now(), known);
      // Small histories are kept to save the next GET; a large one is read again instead, so
      // memory stays bounded however many objects its entries name.
      if (written && (written.binaryData?.[HISTORY_DATA_KEY]?.length ?? 0) <= CACHED_HISTORY_MAX_BYTES) this.#written.set(key, written);
      else this.#written.delete(key);
      this.#pending.delete(key);
      for (const entry of fresh) if (entry.action !== "sync") seen.add(operationKey(entry));
      // Only the newest few operation keys matter: an annotation holds one request at a time.
      this.#recorded.set(key, new Set([...seen].slice(-8)));
      if (addedEntries.length > 0) this.#onRecorded?.(owner, addedEntries);
    } catch (error) {
      this.#written.delete(key);
      this.#pending.set(key, fresh.slice(0, this.bounds.limit));
      this.#logger?.warn({ application: key, error: error instanceof Error ? error.message : String(error) }, "could not write history; retrying with the next reconcile");
    }
  }

  /** The Application is gone (its ConfigMap goes with it through the owner reference). */
  forget(namespace: string, name: string): void {
    this.#recorded.delete(`${namespace}/${name}`);
    this.#pending.delete(`${namespace}/${name}`);
    this.#written.delete(`${namespace}/${name}`);
  }
}

/** 16 KiB of stored history is a couple of hundred ordinary entries; 1,000 Applications keep at most 16 MiB. */
const CACHED_HISTORY_MAX_BYTES = 16 * 1024;

const operationKey = (entry: HistoryEntry) => `${entry.action}@${entry.startedAt}`;
