/**
 * A cache of live objects the engine may read instead of the API server: the controller's
 * drift watches already hold every object fjord manages, so a resync that changes nothing
 * needs no LIST to plan and no watch to judge health. What the cache cannot vouch for (a type
 * not watched or not listed yet, an object kept only in part) is read from the API server as
 * before; the decisions here are pure.
 */
import type { ResourceMapping } from "../kube/discovery.ts";
import { evaluateHealth } from "../health/evaluate.ts";
import type { Health } from "../health/status.ts";
import { refKey, type KubeObject, type ObjectRef } from "../model/object.ts";
import { isOwnedBy, type Owner } from "../model/ownership.ts";

/**
 * What a cache knows of one object. `unknown`: it does not watch the type, has not listed it
 * yet, or kept the object only in part; ask the API server. `absent`: listed and watched, and
 * no such object carries fjord's owner label. `present`: the object as last seen.
 */
export type CachedObject = { kind: "unknown" } | { kind: "absent" } | { kind: "present"; object: KubeObject };

export interface LiveObjectCache {
  lookup(mapping: ResourceMapping, namespace: string, name: string): CachedObject;
}

/**
 * A cache limited to one namespace's objects, for an Application that applies as a tenant's
 * ServiceAccount: the controller's cache must not answer for objects the tenant could not read
 * itself (everything else is read from the API server as the tenant, and refused there).
 */
export function withinNamespace(cache: LiveObjectCache, namespace: string): LiveObjectCache {
  return {
    lookup: (mapping, objectNamespace, name) => (mapping.namespaced && objectNamespace === namespace ? cache.lookup(mapping, objectNamespace, name) : { kind: "unknown" }),
  };
}

export interface OwnedRead<T extends { mapping: ResourceMapping; namespace: string; name: string; ref: ObjectRef }> {
  /** The owner's live objects the cache knows, by refKey (absent ones are simply not there). */
  owned: Map<string, KubeObject>;
  /** What must still be read from the API server. */
  toList: T[];
}

/**
 * Splits the objects to read into what the cache answers and what must be listed. An object
 * the cache holds but that another owner's labels claim is not this owner's (the same as a
 * labelled LIST would not return it).
 */
export function readOwnedFromCache<T extends { mapping: ResourceMapping; namespace: string; name: string; ref: ObjectRef }>(
  cache: LiveObjectCache | undefined,
  wanted: readonly T[],
  owner: Owner,
): OwnedRead<T> {
  const owned = new Map<string, KubeObject>();
  if (!cache) return { owned, toList: [...wanted] };
  const toList: T[] = [];
  for (const item of wanted) {
    const cached = cache.lookup(item.mapping, item.namespace, item.name);
    if (cached.kind === "unknown") toList.push(item);
    else if (cached.kind === "present" && isOwnedBy(cached.object.metadata.labels, owner)) owned.set(refKey(item.ref), cached.object);
  }
  return { owned, toList };
}

export interface HealthTarget {
  ref: ObjectRef;
  mapping: ResourceMapping;
  /**
   * The server's answer when this sync wrote the object: judged instead of the cache's copy,
   * which may not hold the write yet and would judge the previous generation.
   */
  written?: KubeObject;
}

/**
 * The targets that are Current now: an object this sync wrote judged on the server's answer
 * to the write (what a LIST right after it would show), any other on the cache's copy. The
 * rest is left to a watch (not ready yet, or the cache cannot tell).
 */
export function currentInCache(cache: LiveObjectCache | undefined, targets: readonly HealthTarget[]): { current: Map<string, Health>; rest: HealthTarget[] } {
  const current = new Map<string, Health>();
  if (!cache) return { current, rest: [...targets] };
  const rest: HealthTarget[] = [];
  for (const target of targets) {
    const cached = target.written ? undefined : cache.lookup(target.mapping, target.ref.namespace, target.ref.name);
    const object = target.written ?? (cached?.kind === "present" ? cached.object : undefined);
    const health = object ? evaluateHealth(object) : undefined;
    if (health?.status === "Current") current.set(refKey(target.ref), health);
    else rest.push(target);
  }
  return { current, rest };
}
