import { gunzipSync, gzipSync } from "node:zlib";
import { parseBoundedJson } from "../input/json.ts";
import { MAX_JSON_BYTES } from "../input/limits.ts";

/**
 * Compact storage for JSON kept in a ConfigMap's binaryData (gzip + base64): thousands of small
 * records fit well inside a ConfigMap's 1 MiB. Shared by the inventory and the history stores.
 */
export function encodeCompressedJson(value: unknown): string {
  return gzipSync(JSON.stringify(value)).toString("base64");
}

/**
 * The JSON value stored by encodeCompressedJson. Such a ConfigMap can be written by anyone with
 * edit rights in its namespace: a gzip bomb must not expand past MAX_JSON_BYTES, and the JSON is
 * parsed with the same bounds as every other outside input. `what` names it in errors.
 */
export function decodeCompressedJson(encoded: string, what: string): unknown {
  return parseBoundedJson(gunzipSync(Buffer.from(encoded, "base64"), { maxOutputLength: MAX_JSON_BYTES }).toString("utf8"), what);
}
