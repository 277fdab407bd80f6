/**
 * Undelivered notifications survive a controller restart: the pending queue (delivery.ts
 * snapshot) is kept in a Secret of the controller's own namespace, written at most once per
 * flush interval while it changes (never once per event), once more when the controller stops,
 * and read back at start. A Secret because a pending request holds a Provider's webhook URL and
 * headers (tokens, HMAC signatures) and because the least-privilege RBAC already lets the
 * controller get, create and update Secrets in its own namespace (sealing keys): persisting
 * needs no new permission. A ConfigMap would need a new rule and would show the tokens to
 * anyone allowed to read ConfigMaps there.
 *
 * At least once: a crash loses at most what changed since the last flush, and a notification
 * sent after it is sent again after the restart; a clean stop loses nothing and repeats nothing.
 */
import { decodeCompressedJson, encodeCompressedJson } from "../../util/compressed-json.ts";
import type { KubeClient } from "../../kube/client.ts";
import { isNotFound } from "../../kube/errors.ts";
import type { Logger } from "../../util/logger.ts";
import { describeError } from "../runtime/report.ts";
import type { PendingNotification } from "./delivery.ts";

export const NOTIFICATION_QUEUE_SECRET = "fjord-notification-queue";
const DATA_KEY = "queue.json.gz";
/** The Secret's data under Kubernetes' 1 MiB object limit, with room for base64 and metadata. */
export const MAX_PERSISTED_QUEUE_BYTES = 700 * 1024;
export const DEFAULT_FLUSH_INTERVAL_MS = 2_000;

export interface QueueStoreOptions {
  client: KubeClient;
  logger: Logger;
  /** The controller's own namespace. */
  namespace: string;
  flushIntervalMs?: number;
  maxBytes?: number;
  /** Dropped because the snapshot did not fit; counted with the full-queue drops. */
  onDropped?: (provider: string) => void;
}

type Stored = { version: 1; pending: PendingNotification[] };

/** Reads back what a Secret held, or nothing when it is not what this module writes. */
function parseStored(value: unknown): PendingNotification[] | undefined {
  if (typeof value !== "object" || value === null || (value as { version?: unknown }).version !== 1) return undefined;
  const pending = (value as { pending?: unknown }).pending;
  if (!Array.isArray(pending)) return undefined;
  const valid = pending.every((entry: unknown) => {
    const { provider, item } = (entry ?? {}) as { provider?: unknown; item?: { request?: { url?: unknown; headers?: unknown; body?: unknown }; timeoutMs?: unknown } };
    const headers = item?.request?.headers;
    return (
      typeof provider === "string" &&
      typeof item?.request?.url === "string" &&
      /^https?:\/\//.test(item.request.url) &&
      typeof item.request.body === "string" &&
      typeof item.timeoutMs === "number" &&
      typeof headers === "object" &&
      headers !== null &&
      Object.values(headers).every((header) => typeof header === "string")
    );
  });
  return valid ? (pending as PendingNotification[]) : undefined;
}

/**
 * The oldest notifications dropped until the rest fits in `maxBytes` encoded: the same rule as a
 * full queue. Returns what is kept and what was dropped.
 */
export function fitSnapshot(pending: readonly PendingNotification[], maxBytes: number): { kept: PendingNotification[]; dropped: PendingNotification[]; encoded: string } {
  let kept = [...pending];
  const dropped: PendingNotification[] = [];
  for (;;) {
    const encoded = encodeCompressedJson({ version: 1, pending: kept } satisfies Stored);
    if (encoded.length <= maxBytes || kept.length === 0) return { kept, dropped, encoded };
    // Drop a tenth at a time (at least one), oldest first, rather than re-compressing per item.
    const count = Math.max(1, Math.ceil(kept.length / 10));
    dropped.push(...kept.slice(0, count));
    kept = kept.slice(count);
  }
}

export class NotificationQueueStore {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private snapshot: (() => readonly PendingNotification[]) | undefined;
  /** The last content written (or read), so an unchanged queue is not written again. */
  private written = "";
  private readonly path: string;

  constructor(private readonly options: QueueStoreOptions) {
    this.path = `/api/v1/namespaces/${options.namespace}/secrets/${NOTIFICATION_QUEUE_SECRET}`;
  }

  /** What the last controller left undelivered; nothing when there is no Secret or it cannot be read (logged). */
  async restore(): Promise<PendingNotification[]> {
    try {
      const secret = await this.options.client.request<{ data?: Record<string, string> }>("GET", this.path);
      const data = secret.data?.[DATA_KEY];
      if (data === undefined) return [];
      // The Secret's data is base64 of the gzip, which is what encodeCompressedJson writes.
      const pending = parseStored(decodeCompressedJson(data, `Secret ${this.options.namespace}/${NOTIFICATION_QUEUE_SECRET}`));
      if (!pending) {
        this.options.logger.warn({ secret: `${this.options.namespace}/${NOTIFICATION_QUEUE_SECRET}` }, "the persisted notification queue is not in fjord's format; ignoring it");
        return [];
      }
      this.written = encodeCompressedJson({ version: 1, pending } satisfies Stored);
      if (pending.length > 0) this.options.logger.info({ pending: pending.length }, "restored undelivered notifications");
      return pending;
    } catch (error) {
      if (!isNotFound(error)) this.options.logger.warn({ error: describeError(error) }, "could not read the persisted notification queue; starting empty");
      return [];
    }
  }

  /** Where flushes read the queue from; call once, before changes are reported. */
  track(snapshot: () => readonly PendingNotification[]): void {
    this.snapshot = snapshot;
  }

  /** The queue changed: write it at the next flush (batched: one write per interval at most). */
  changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Writes the queue now (the controller is stopping); waits for a write in progress first. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const run = this.writing.then(() => this.write());
    this.writing = run.catch(() => undefined);
    await this.writing;
  }

  private async write(): Promise<void> {
    if (!this.snapshot) return;
    const { kept, dropped, encoded } = fitSnapshot(this.snapshot(), this.options.maxBytes ?? MAX_PERSISTED_QUEUE_BYTES);
    for (const { provider } of dropped) this.options.onDropped?.(provider);
    if (dropped.length > 0) this.options.logger.warn({ dropped: dropped.length, kept: kept.length }, "pending notifications exceed what the queue Secret holds; the oldest are not persisted");
    if (encoded === this.written) return;
    const body = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: NOTIFICATION_QUEUE_SECRET, namespace: this.options.namespace, labels: { "app.kubernetes.io/managed-by": "fjord" } },
      type: "Opaque",
      data: { [DATA_KEY]: encoded },
    };
    try {
      // An update without a resourceVersion replaces whatever is there: this controller (the leader) is the only writer.
      await this.options.client.request("PUT", this.path, { body }).catch(async (error: unknown) => {
        if (!isNotFound(error)) throw error;
        await this.options.client.request("POST", `/api/v1/namespaces/${this.options.namespace}/secrets`, { body });
      });
      this.written = encoded;
    } catch (error) {
      this.options.logger.warn({ error: describeError(error), pending: kept.length }, "could not persist the pending notifications; retrying after the flush interval");
      this.changed();
    }
  }
}
