import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "../model/object.ts";

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  fieldsType?: string;
  fieldsV1?: unknown;
  subresource?: string;
  time?: string;
}

/**
 * What may differ between a dry-run result and the live object without anything changing.
 * Status is left out: an apply never writes it (it is a subresource), while controllers
 * rewrite it all the time.
 */
function comparable(object: KubeObject): KubeObject {
  const { status: _status, ...rest } = object;
  const metadata = { ...object.metadata };
  delete metadata.resourceVersion;
  delete metadata.generation;
  delete metadata.creationTimestamp;
  metadata.managedFields = ((metadata.managedFields as ManagedFieldsEntry[] | undefined) ?? []).map(({ time: _time, ...rest }) => rest);
  return { ...rest, metadata };
}

/**
 * True when applying would change nothing: the server's dry-run answer equals the live
 * object apart from bookkeeping. Field ownership counts (fields fjord stops managing must be
 * released), timestamps and resourceVersion do not.
 */
export function sameAsLive(dryRun: KubeObject, live: KubeObject): boolean {
  return isDeepStrictEqual(comparable(dryRun), comparable(live));
}

/**
 * Managers other than `fieldManager` that own fewer fields after the apply than before:
 * fjord took those fields from them (server-side apply with force).
 */
export function managersLosingFields(live: KubeObject, dryRun: KubeObject, fieldManager: string): string[] {
  const fieldsOf = (object: KubeObject) => {
    const map = new Map<string, string>();
    for (const entry of (object.metadata.managedFields as ManagedFieldsEntry[] | undefined) ?? []) {
      if (!entry.manager || entry.manager === fieldManager || entry.subresource) continue;
      map.set(`${entry.manager}|${entry.operation ?? ""}`, JSON.stringify(entry.fieldsV1 ?? {}));
    }
    return map;
  };
  const before = fieldsOf(live);
  const after = fieldsOf(dryRun);
  const losing = new Set<string>();
  for (const [key, fields] of before) {
    if (after.get(key) !== fields) losing.add(key.split("|")[0] ?? key);
  }
  return [...losing].sort();
}
