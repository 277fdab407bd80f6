import { parseBoundedJson } from "../../input/json.ts";

/** Which part of the policy's latest image a marked field holds. */
export type MarkerField = "image" | "name" | "tag" | "digest";

export interface PolicyMarker {
  /** `namespace:name`, the key of the policies map. */
  policy: string;
  field: MarkerField;
}

const FIELDS = new Set<MarkerField>(["name", "tag", "digest"]);

/**
 * Reads a Flux setter comment: `{"$imagepolicy": "<ns>:<policy>"}` for the whole image, with a
 * `:tag`, `:name` or `:digest` suffix for one part of it. Returns undefined for a comment that is
 * not a marker, and an error for one that means to be (mentions `$imagepolicy`) but is malformed.
 */
export function parseMarker(comment: string): PolicyMarker | { error: string } | undefined {
  const text = comment.trim();
  if (!text.includes("$imagepolicy")) return undefined;
  let value: unknown;
  try {
    value = (parseBoundedJson(text, "the marker") as Record<string, unknown> | null)?.$imagepolicy;
  } catch {
    return { error: `malformed image policy marker ${text}: expected {"$imagepolicy": "<namespace>:<policy>[:tag|:name|:digest]"}` };
  }
  if (typeof value !== "string") return { error: `malformed image policy marker ${text}: "$imagepolicy" must be a string "<namespace>:<policy>"` };
  const parts = value.split(":");
  const [namespace = "", name = "", field, ...extra] = parts;
  if (namespace === "" || name === "" || extra.length > 0 || (field !== undefined && !FIELDS.has(field as MarkerField))) {
    return { error: `malformed image policy marker ${text}: expected "<namespace>:<policy>" with an optional ":tag", ":name" or ":digest"` };
  }
  return { policy: `${namespace}:${name}`, field: (field as MarkerField | undefined) ?? "image" };
}

export function formatMarker(policy: string, field: MarkerField = "image"): string {
  return JSON.stringify({ $imagepolicy: field === "image" ? policy : `${policy}:${field}` }).replace(/^\{"\$imagepolicy":/, '{"$imagepolicy": ');
}
