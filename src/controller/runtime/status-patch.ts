import type { KubeClient } from "../../kube/client.ts";
import type { KubeObject } from "../../model/object.ts";

/** Fields that only say when something was written, not what: they alone never justify a write. */
const TIMESTAMP_FIELDS = new Set(["lastTransitionTime", "lastUpdateTime"]);

/** `value` with timestamp fields left out and object keys sorted, so two statuses compare by content. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([key, field]) => !TIMESTAMP_FIELDS.has(key) && field !== undefined && field !== null)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, field]) => [key, canonical(field)]);
  return Object.fromEntries(entries);
}

/** Whether `next` says something `current` does not (timestamps aside). */
export function statusDiffers(current: object | undefined, next: object): boolean {
  return JSON.stringify(canonical(current ?? {})) !== JSON.stringify(canonical(next));
}

/**
 * The status computed by one reconcile, written once at its end and only when it differs from
 * what the object holds (as Flux's patch helper does): an idle resync writes nothing. The body
 * is a merge patch of the whole status, with fields the new status no longer has set to null.
 * Returns the written object, or undefined when nothing was written.
 */
export async function patchStatus<T extends KubeObject>(client: KubeClient, objectPath: string, current: object | undefined, next: object): Promise<T | undefined> {
  if (!statusDiffers(current, next)) return undefined;
  const removed = Object.keys(current ?? {}).filter((key) => !(key in next));
  const body = { status: { ...next, ...Object.fromEntries(removed.map((key) => [key, null])) } };
  return client.request<T>("PATCH", `${objectPath}/status`, { body, contentType: "application/merge-patch+json" });
}
