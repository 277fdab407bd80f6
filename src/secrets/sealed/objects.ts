/**
 * Checking that parsed manifests are the objects they claim to be. Messages name fields and
 * keys, never values.
 */
import type { ObjectMeta } from "../../model/object.ts";
import { SEALED_SECRET_API_VERSION, SEALED_SECRET_KIND, type SealedSecret, type Secret } from "./types.ts";

/** A manifest that is not the object it should be; the message names fields, never values. */
export class InvalidObjectError extends Error {
  override readonly name = "InvalidObjectError";
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Go's base64.StdEncoding: padded, standard alphabet. */
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function decodeBase64Strict(value: string): Buffer | undefined {
  return STD_BASE64.test(value) ? Buffer.from(value, "base64") : undefined;
}

function stringMap(value: unknown, field: string, source: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value)) throw new InvalidObjectError(`${source}: ${field} must be a map of strings`);
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== "string") throw new InvalidObjectError(`${source}: ${field}.${key} must be a string (quote it in YAML)`);
  }
  return value as Record<string, string>;
}

function metadataOf(value: Record<string, unknown>, source: string): ObjectMeta {
  const metadata = value.metadata ?? {};
  if (!isRecord(metadata)) throw new InvalidObjectError(`${source}: metadata must be a map`);
  for (const field of ["name", "namespace"] as const) {
    if (metadata[field] !== undefined && typeof metadata[field] !== "string") throw new InvalidObjectError(`${source}: metadata.${field} must be a string`);
  }
  stringMap(metadata.labels, "metadata.labels", source);
  stringMap(metadata.annotations, "metadata.annotations", source);
  return metadata;
}

export function secretFromManifest(value: unknown, source: string): Secret {
  if (!isRecord(value)) throw new InvalidObjectError(`${source}: expected a Secret object`);
  if (value.kind !== "Secret" || (value.apiVersion !== undefined && value.apiVersion !== "v1")) {
    throw new InvalidObjectError(`${source}: expected apiVersion v1, kind Secret; found ${String(value.apiVersion)}/${String(value.kind)}`);
  }
  const data = stringMap(value.data, "data", source);
  for (const [key, entry] of Object.entries(data ?? {})) {
    if (decodeBase64Strict(entry) === undefined) throw new InvalidObjectError(`${source}: data.${key} is not valid base64 (use stringData for plain text)`);
  }
  stringMap(value.stringData, "stringData", source);
  if (value.type !== undefined && typeof value.type !== "string") throw new InvalidObjectError(`${source}: type must be a string`);
  if (value.immutable !== undefined && typeof value.immutable !== "boolean") throw new InvalidObjectError(`${source}: immutable must be true or false`);
  const secret: Secret = { ...value, apiVersion: "v1", kind: "Secret", metadata: metadataOf(value, source) };
  return secret;
}

export function sealedSecretFromManifest(value: unknown, source: string): SealedSecret {
  if (!isRecord(value)) throw new InvalidObjectError(`${source}: expected a SealedSecret object`);
  if (value.apiVersion !== SEALED_SECRET_API_VERSION || value.kind !== SEALED_SECRET_KIND) {
    throw new InvalidObjectError(`${source}: expected apiVersion ${SEALED_SECRET_API_VERSION}, kind ${SEALED_SECRET_KIND}; found ${String(value.apiVersion)}/${String(value.kind)}`);
  }
  const spec = value.spec;
  if (!isRecord(spec)) throw new InvalidObjectError(`${source}: spec is missing`);
  if (spec.data !== undefined && spec.data !== null) {
    throw new InvalidObjectError(`${source}: spec.data is the deprecated single-blob format, which is not supported; re-seal the Secret with fjord seal or kubeseal`);
  }
  stringMap(spec.encryptedData ?? {}, "spec.encryptedData", source);
  const template = spec.template;
  if (template !== undefined && !isRecord(template)) throw new InvalidObjectError(`${source}: spec.template must be a map`);
  if (template?.metadata !== undefined) metadataOf(template, `${source} spec.template`);
  if (isRecord(template?.data)) {
    for (const [key, entry] of Object.entries(template.data)) {
      if (entry !== null && typeof entry !== "string") throw new InvalidObjectError(`${source}: spec.template.data.${key} must be a string or null`);
    }
  }
  return { ...value, metadata: metadataOf(value, source), spec: { ...spec, encryptedData: (spec.encryptedData ?? {}) as Record<string, string> } } as SealedSecret;
}

const SERVER_FIELDS = ["selfLink", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "ownerReferences"];
/** Annotations in which kubectl and kubecfg keep a full copy of the object: sealing one would publish the Secret in clear. */
const LAST_APPLIED_ANNOTATIONS = ["kubectl.kubernetes.io/last-applied-configuration", "kubecfg.ksonnet.io/last-applied-configuration"];

/** Metadata without what the server owns, without last-applied copies, and without empty maps. */
export function portableMetadata(metadata: ObjectMeta): ObjectMeta {
  const result: ObjectMeta = { ...metadata };
  for (const field of SERVER_FIELDS) delete result[field];
  if (result.annotations) {
    const annotations = { ...result.annotations };
    for (const key of LAST_APPLIED_ANNOTATIONS) delete annotations[key];
    result.annotations = annotations;
  }
  if (result.annotations && Object.keys(result.annotations).length === 0) delete result.annotations;
  if (result.labels && Object.keys(result.labels).length === 0) delete result.labels;
  return result;
}

export function sortedRecord<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
