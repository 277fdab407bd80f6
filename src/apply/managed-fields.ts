import { isDeepStrictEqual } from "node:util";
import type { KubeObject } from "../model/object.ts";

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  fieldsType?: string;
  fieldsV1?: FieldSet;
  subresource?: string;
}

/** The server's record of which fields a manager owns (structured-merge-diff "FieldsV1"). */
type FieldSet = { [key: string]: FieldSet };

const MISSING = Symbol("missing");

function matchesKeys(element: unknown, keys: Record<string, unknown>): boolean {
  if (!element || typeof element !== "object") return false;
  return Object.entries(keys).every(([key, value]) => isDeepStrictEqual((element as Record<string, unknown>)[key], value));
}

/** The part of `value` that `fields` describes, or MISSING when a described field is absent. */
function extract(value: unknown, fields: FieldSet): unknown {
  const children = Object.keys(fields).filter((key) => key !== ".");
  if (children.length === 0) return value;
  if (Array.isArray(value)) {
    const picked: unknown[] = [];
    for (const element of value) {
      const selector = children.find((key) => {
        if (key.startsWith("k:")) return matchesKeys(element, JSON.parse(key.slice(2)) as Record<string, unknown>);
        if (key.startsWith("v:")) return isDeepStrictEqual(element, JSON.parse(key.slice(2)));
        return false;
      });
      if (selector === undefined) continue;
      const inner = extract(element, fields[selector] ?? {});
      if (inner === MISSING) return MISSING;
      picked.push(inner);
    }
    // Positional (i:) entries or selectors with no element: not something we can vouch for.
    if (picked.length !== children.length) return MISSING;
    return picked;
  }
  if (!value || typeof value !== "object") return MISSING;
  const result: Record<string, unknown> = {};
  for (const key of children) {
    if (!key.startsWith("f:")) return MISSING;
    const name = key.slice(2);
    if (!(name in value)) return MISSING;
    const inner = extract((value as Record<string, unknown>)[name], fields[key] ?? {});
    if (inner === MISSING) return MISSING;
    result[name] = inner;
  }
  return result;
}

/**
 * True when applying `desired` as `manager` cannot change `live`: the live values of
 * exactly the fields the manager owns (its Apply entry in managedFields) equal the desired
 * object. A field added to or removed from Git, a value someone else changed, or a field
 * another manager took over all make the two differ. Anything this cannot read with
 * certainty (another apiVersion, positional list entries, reordered lists) answers false,
 * and the caller falls back to a server-side dry run; it never answers true wrongly.
 */
export function appliedStateMatches(live: KubeObject, desired: KubeObject, manager: string): boolean {
  const entries = ((live.metadata.managedFields as ManagedFieldsEntry[] | undefined) ?? []).filter(
    (entry) => entry.manager === manager && entry.operation === "Apply" && !entry.subresource,
  );
  const [entry] = entries;
  if (entries.length !== 1 || !entry?.fieldsV1 || entry.apiVersion !== desired.apiVersion || live.apiVersion !== desired.apiVersion) return false;
  const owned = extract(live, entry.fieldsV1);
  if (owned === MISSING || !owned || typeof owned !== "object") return false;
  const { metadata: ownedMetadata = {}, ...ownedRest } = owned as Record<string, unknown> & { metadata?: Record<string, unknown> };
  // Identity is not recorded as owned fields; it is what the object is.
  const comparable = {
    ...ownedRest,
    apiVersion: live.apiVersion,
    kind: live.kind,
    metadata: {
      ...ownedMetadata,
      name: live.metadata.name,
      ...(live.metadata.namespace ? { namespace: live.metadata.namespace } : {}),
    },
  };
  return isDeepStrictEqual(comparable, desired);
}
