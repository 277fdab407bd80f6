import { createTwoFilesPatch } from "diff";
import { stringify } from "yaml";
import { groupOf, type KubeObject } from "../model/object.ts";

/** Fields that differ between any two reads of an object and say nothing about its desired state. */
function forDisplay(object: KubeObject): KubeObject {
  const { status: _status, ...rest } = object;
  const metadata = { ...object.metadata };
  for (const field of ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"]) delete metadata[field];
  return { ...rest, metadata };
}

/** `kubectl apply` (client-side) keeps the whole object it applied here, Secret values included. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

const MASK = "***";

type Values = Record<string, unknown>;

function isRecord(value: unknown): value is Values {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isSecret(object: unknown): boolean {
  return isRecord(object) && object.kind === "Secret" && (object.apiVersion === "v1" || object.apiVersion === undefined);
}

/** A SealedSecret's ciphertext is safe to show, but it is noise in a diff and says nothing a reader can check. */
function isSealedSecret(object: unknown): boolean {
  return isRecord(object) && object.kind === "SealedSecret" && typeof object.apiVersion === "string" && groupOf(object.apiVersion) === "bitnami.com";
}

/** Every value becomes a mask; one that differs from the other side's gets a labelled mask. */
function maskValues(values: unknown, other: unknown, label: string): unknown {
  if (!isRecord(values)) return values === undefined ? undefined : MASK;
  const otherValues = isRecord(other) ? other : {};
  return Object.fromEntries(Object.keys(values).map((key) => [key, otherValues[key] === undefined || otherValues[key] === values[key] ? MASK : `${MASK} (${label})`]));
}

function withMaskedFields(object: Values, other: Values | undefined, label: string, fields: readonly string[]): Values {
  const masked: Values = { ...object };
  for (const field of fields) {
    if (object[field] !== undefined) masked[field] = maskValues(object[field], other?.[field], label);
  }
  return masked;
}

function parsedLastApplied(object: KubeObject | undefined): unknown {
  const text = object?.metadata.annotations?.[LAST_APPLIED_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * The last-applied annotation with the secret parts masked: a Secret's data and stringData
 * (the annotation is the whole object as applied), a SealedSecret's encryptedData. An annotation
 * that cannot be read as such an object is masked whole.
 */
function maskLastApplied(object: KubeObject, other: KubeObject | undefined, label: string): KubeObject {
  const annotations = object.metadata.annotations;
  if (annotations?.[LAST_APPLIED_ANNOTATION] === undefined) return object;
  const applied = parsedLastApplied(object);
  const otherApplied = parsedLastApplied(other);
  let shown: string;
  if (isRecord(applied) && isSecret(object)) {
    shown = JSON.stringify(withMaskedFields(applied, isRecord(otherApplied) ? otherApplied : undefined, label, ["data", "stringData"]));
  } else if (isRecord(applied) && isRecord(applied.spec)) {
    const spec = withMaskedFields(applied.spec, isRecord(otherApplied) && isRecord(otherApplied.spec) ? otherApplied.spec : undefined, label, ["encryptedData"]);
    shown = JSON.stringify({ ...applied, spec });
  } else {
    shown = applied === otherApplied || JSON.stringify(applied) === JSON.stringify(otherApplied) ? MASK : `${MASK} (${label})`;
  }
  return { ...object, metadata: { ...object.metadata, annotations: { ...annotations, [LAST_APPLIED_ANNOTATION]: shown } } };
}

/**
 * Secret values never reach a terminal or a log: every value becomes a mask, and a value
 * that differs between the two sides gets a different mask, so the diff still shows *that*
 * it changed, never *what* it is. That holds for data and stringData, and for the copy of the
 * object `kubectl apply` keeps in the last-applied-configuration annotation. A SealedSecret's
 * encryptedData is masked the same way.
 */
export function maskSecrets(before: KubeObject | undefined, after: KubeObject | undefined): [KubeObject | undefined, KubeObject | undefined] {
  const secret = isSecret(before) || isSecret(after);
  const sealed = isSealedSecret(before) || isSealedSecret(after);
  if (!secret && !sealed) return [before, after];
  const mask = (object: KubeObject | undefined, other: KubeObject | undefined, label: string): KubeObject | undefined => {
    if (!object) return object;
    let masked = maskLastApplied(object, other, label);
    if (secret) masked = withMaskedFields(masked, other, label, ["data", "stringData"]) as KubeObject;
    if (sealed && isRecord(masked.spec)) {
      masked = { ...masked, spec: withMaskedFields(masked.spec, isRecord(other?.spec) ? other.spec : undefined, label, ["encryptedData"]) };
    }
    return masked;
  };
  return [mask(before, after, "before"), mask(after, before, "after")];
}

export function toDisplayYaml(object: KubeObject | undefined): string {
  return object ? stringify(forDisplay(object), { lineWidth: 0 }) : "";
}

/** A unified diff of live (before) against desired (after); empty when they show the same. */
export function objectDiff(name: string, live: KubeObject | undefined, desired: KubeObject | undefined): string {
  const [before, after] = maskSecrets(live, desired);
  const oldText = toDisplayYaml(before);
  const newText = toDisplayYaml(after);
  if (oldText === newText) return "";
  return createTwoFilesPatch(live ? `live/${name}` : "/dev/null", desired ? `git/${name}` : "/dev/null", oldText, newText, "", "", { context: 3 });
}
