import type { KubeClient } from "../../kube/client.ts";
import type { KubeObject } from "../../model/object.ts";

type Plain = Record<string, unknown>;
const isPlain = (value: unknown): value is Plain => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * A JSON merge patch turning `previous` into `next`: keys that disappeared become null, because
 * a merge patch otherwise keeps them (a stale digest or an ignore rule no longer set would
 * linger in the status). Arrays are replaced whole, as merge patches do.
 */
export function mergePatchBetween(previous: Plain, next: Plain): Plain {
  const patch: Plain = {};
  for (const key of Object.keys(previous)) if (!(key in next) || next[key] === undefined) patch[key] = null;
  for (const [key, value] of Object.entries(next)) {
    if (value === undefined) continue;
    const before = previous[key];
    patch[key] = isPlain(value) && isPlain(before) ? mergePatchBetween(before, value) : value;
  }
  return patch;
}

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
 * what the object holds (as Flux's patch helper does): an idle resync writes nothing. Every kind
 * writes its status through here. The body is a merge patch from the stored status to the new
 * one (fields the new status no longer has set to null). Returns the written object, or
 * undefined when nothing was written.
 */
export async function patchStatus<T extends KubeObject>(client: KubeClient, objectPath: string, current: object | undefined, next: object): Promise<T | undefined> {
  if (!statusDiffers(current, next)) return undefined;
  const body = { status: mergePatchBetween((current ?? {}) as Plain, JSON.parse(JSON.stringify(next)) as Plain) };
  return client.request<T>("PATCH", `${objectPath}/status`, { body, contentType: "application/merge-patch+json" });
}
