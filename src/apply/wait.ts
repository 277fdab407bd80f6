import type { KubeClient } from "../kube/client.ts";
import { resourcePath, type ResourceMapping } from "../kube/discovery.ts";
import { watchUntil } from "../kube/watch-until.ts";
import { evaluateHealth, notFound } from "../health/evaluate.ts";
import type { Health } from "../health/status.ts";
import { describeRef, refKey, refOf, type ObjectRef, type SourceLocation } from "../model/object.ts";
import { SyncError } from "./errors.ts";
import { ownerSelector, type Owner } from "../model/ownership.ts";

export interface WaitTarget {
  ref: ObjectRef;
  mapping: ResourceMapping;
  /** Where the object came from, so a timeout names the file to look at. */
  source?: SourceLocation;
}

export interface WaitOptions {
  timeoutMs: number;
  /** Watches only objects carrying this owner's labels; without it, objects are watched by name (health checks on objects fjord does not manage). */
  owner?: Owner;
  /** Aborting (e.g. a newer revision arrived) ends the wait at once. */
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
}

/** The owner labels when fjord manages the objects; a name field selector for a single foreign object. */
function selectorFor(keys: ReadonlySet<string>, refs: ReadonlyMap<string, ObjectRef>, owner: Owner | undefined): { labelSelector?: string; fieldSelector?: string } {
  if (owner) return { labelSelector: ownerSelector(owner) };
  const [only] = keys;
  return keys.size === 1 && only ? { fieldSelector: `metadata.name=${refs.get(only)?.name ?? ""}` } : {};
}

/**
 * Waits until every target is Current, watching each resource type the targets use (one
 * watch per type and namespace, filtered by the owner labels) instead of polling objects.
 * Fails early when an object is Failed; on timeout names every object not ready and why.
 */
export async function waitForHealthy(client: KubeClient, targets: WaitTarget[], options: WaitOptions): Promise<void> {
  const refs = new Map(targets.map((target) => [refKey(target.ref), target.ref]));
  const sources = new Map(targets.map((target) => [refKey(target.ref), target.source]));
  const health = new Map<string, Health>(targets.map((target) => [refKey(target.ref), notFound(target.ref)]));
  const groups = new Map<string, { path: string; keys: Set<string> }>();
  for (const target of targets) {
    const path = resourcePath(target.mapping, target.ref.namespace || undefined);
    const group = groups.get(path) ?? { path, keys: new Set<string>() };
    group.keys.add(refKey(target.ref));
    groups.set(path, group);
  }
  const controller = new AbortController();
  const timeout = setTimeout(() => controller.abort(new Error("timeout")), options.timeoutMs);
  const abortFromCaller = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", abortFromCaller, { once: true });
  let failed = false;
  // Judge only once every watch has listed its objects; before that "not found" means "not looked yet".
  const reported = new Set<string>();
  const notCurrent = () => [...health.entries()].filter(([, item]) => item.status !== "Current");
  const settle = () => {
    if (reported.size < groups.size) return;
    const pending = notCurrent();
    if (pending.some(([, item]) => item.status === "Failed")) failed = true;
    if (pending.length === 0 || failed) controller.abort();
    else options.onProgress?.(`waiting for ${pending.length} object(s): ${pending[0]?.[1].message ?? ""}`);
  };
  try {
    await Promise.all(
      [...groups.values()].map((group) =>
        watchUntil(client, { path: group.path, ...selectorFor(group.keys, refs, options.owner), signal: controller.signal }, (objects) => {
          const seen = new Set<string>();
          for (const object of objects.values()) {
            const key = refKey(refOf(object));
            if (!group.keys.has(key)) continue;
            seen.add(key);
            health.set(key, evaluateHealth(object));
          }
          for (const key of group.keys) if (!seen.has(key)) health.set(key, notFound(refs.get(key) as ObjectRef));
          reported.add(group.path);
          settle();
          return controller.signal.aborted;
        }).catch((error: unknown) => {
          if (!controller.signal.aborted) throw error;
        }),
      ),
    );
  } finally {
    clearTimeout(timeout);
    options.signal?.removeEventListener("abort", abortFromCaller);
  }
  const pending = notCurrent();
  if (pending.length === 0) return;
  if (options.signal?.aborted && !failed) {
    const why = options.signal.reason instanceof Error ? `: ${options.signal.reason.message}` : "";
    throw new SyncError("health", `the health wait was cancelled${why}`);
  }
  const problems = pending.map(([key, item]) => {
    const ref = refs.get(key) as ObjectRef;
    // Health messages start with the object's name, which the problem line already shows.
    const prefix = `${describeRef(ref)}: `;
    const source = sources.get(key);
    return { ref, ...(source ? { source } : {}), message: `${item.status}: ${item.message.startsWith(prefix) ? item.message.slice(prefix.length) : item.message}` };
  });
  throw new SyncError("health", failed ? "an object failed its health check" : `timed out after ${Math.round(options.timeoutMs / 1000)}s waiting for ${pending.length} object(s) to become ready`, problems);
}
