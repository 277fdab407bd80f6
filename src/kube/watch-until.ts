import type { KubeClient } from "./client.ts";
import { KubeApiError } from "./errors.ts";
import type { KubeObject } from "../model/object.ts";

interface ObjectList {
  apiVersion?: string;
  kind?: string;
  items?: KubeObject[];
  metadata?: { resourceVersion?: string };
}

export interface WatchUntilOptions {
  /** Collection path, e.g. /apis/apps/v1/namespaces/shop/deployments. */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  signal?: AbortSignal;
  /** Slims each object before it is kept, so a long-lived cache of many objects stays small. */
  transform?: (object: KubeObject) => KubeObject;
}

/** The longest wait between two attempts to re-open a watch that keeps failing. */
export const MAX_WATCH_BACKOFF_MS = 5_000;

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** What changed: one object from a watch event, or undefined after a (re)list. */
export interface Change {
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: KubeObject;
}

/**
 * Keeps a live view of a collection (list, then watch from its resourceVersion) and calls
 * `onChange` with it after the list and after every event (with that event), until
 * `onChange` returns true or the signal aborts. A watch that ends or expires is resumed or re-listed, so a long wait
 * survives API server restarts. No per-object polling.
 */
export async function watchUntil(client: KubeClient, options: WatchUntilOptions, onChange: (objects: Map<string, KubeObject>, change?: Change) => boolean): Promise<void> {
  const objects = new Map<string, KubeObject>();
  const keyOf = (object: KubeObject) => `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`;
  const keep = options.transform ?? ((object: KubeObject) => object);
  const query = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };
  let resourceVersion: string | undefined;
  let done = false;
  const relist = async () => {
    const list = await client.request<ObjectList>("GET", options.path, { query, ...(options.signal ? { signal: options.signal } : {}) });
    objects.clear();
    // List items carry no apiVersion/kind of their own; the list's type says what they are.
    const typeMeta = { apiVersion: list.apiVersion ?? "", kind: (list.kind ?? "").replace(/List$/, "") };
    for (const item of list.items ?? []) objects.set(keyOf(item), keep({ ...item, ...typeMeta }));
    resourceVersion = list.metadata?.resourceVersion;
    done = onChange(objects);
  };
  // A collection can be briefly unavailable (a CRD whose storage is still initialising, an
  // API server restarting): retry those; a 4xx (forbidden, no such resource) is final.
  for (let attempt = 1; ; attempt++) {
    try {
      await relist();
      break;
    } catch (error) {
      const transient = !(error instanceof KubeApiError) || error.statusCode === 429 || error.statusCode >= 500;
      if (!transient || options.signal?.aborted || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * attempt, 2000)));
    }
  }
  // Consecutive broken watches: each waits twice as long as the one before (0.5 s up to 5 s),
  // so a collection the identity may list but not watch, or an API server that keeps
  // refusing, is not asked twice a second forever.
  let failures = 0;
  while (!done && !options.signal?.aborted) {
    const controller = new AbortController();
    const abort = () => controller.abort();
    options.signal?.addEventListener("abort", abort, { once: true });
    try {
      await client.watch<KubeObject>(
        options.path,
        { ...query, resourceVersion, timeoutSeconds: 300 },
        (event) => {
          if (event.type === "BOOKMARK") {
            resourceVersion = event.object.metadata.resourceVersion;
            return;
          }
          const object = keep(event.object);
          if (event.type === "DELETED") objects.delete(keyOf(object));
          else objects.set(keyOf(object), object);
          resourceVersion = event.object.metadata.resourceVersion;
          failures = 0;
          // ERROR events never get here: client.watch turns them into exceptions.
          if (onChange(objects, { type: event.type as Change["type"], object })) {
            done = true;
            controller.abort();
          }
        },
        controller.signal,
      );
      // The server ended the watch (its timeout): a healthy watch.
      failures = 0;
    } catch (error) {
      if (done || options.signal?.aborted) break;
      // 410 Gone: our resourceVersion is too old; anything else: the connection broke.
      if (error instanceof KubeApiError && error.statusCode === 410) await relist();
      else {
        failures++;
        await abortableSleep(Math.min(500 * 2 ** (failures - 1), MAX_WATCH_BACKOFF_MS), options.signal);
        if (options.signal?.aborted) break;
        await relist().catch(() => undefined);
      }
    } finally {
      options.signal?.removeEventListener("abort", abort);
    }
  }
}
