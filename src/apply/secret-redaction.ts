/**
 * The API server's answer about a Secret may quote its values: server-side apply's typed-patch
 * errors print the offending value with Go's %v (`expected string, got
 * &value.valueUnstructured{Value:[]interface {}{"hunter2"}}`). Such messages reach the CLI,
 * an Application's status and Events, so for a Secret every value it holds is masked in them.
 */
import type { KubeObject } from "../model/object.ts";

const MASK = "***";

/** Go's %v of an unstructured value: everything after it on the line is the value. */
const GO_VALUE_DUMP = /&value\.value\w*\{.*$/gm;

/** Values shorter than this are not searched for: masking every "1" would garble the message, and says little. */
const MIN_MASKED_LENGTH = 3;

function isSecret(object: KubeObject): boolean {
  return object.kind === "Secret" && object.apiVersion === "v1";
}

function collectStrings(value: unknown, into: Set<string>): void {
  if (typeof value === "string") into.add(value);
  else if (typeof value === "number" || typeof value === "boolean") into.add(String(value));
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, into);
  else if (value !== null && typeof value === "object") for (const item of Object.values(value)) collectStrings(item, into);
}

/** Every form of the Secret's values that a message could quote: as written, decoded from base64, JSON- or Go-quoted. */
function secretForms(object: KubeObject): string[] {
  const values = new Set<string>();
  collectStrings(object.stringData, values);
  const data = new Set<string>();
  collectStrings(object.data, data);
  for (const encoded of data) {
    values.add(encoded);
    values.add(Buffer.from(encoded, "base64").toString("utf8"));
  }
  const forms = new Set<string>();
  for (const value of values) {
    if (value.length < MIN_MASKED_LENGTH) continue;
    forms.add(value);
    forms.add(JSON.stringify(value).slice(1, -1));
  }
  // Longest first, so a value containing another is masked whole.
  return [...forms].filter((form) => form.length >= MIN_MASKED_LENGTH).sort((a, b) => b.length - a.length);
}

export function redactSecretValues(message: string, object: KubeObject): string {
  if (!isSecret(object)) return message;
  let redacted = message.replace(GO_VALUE_DUMP, `${MASK} (value not shown)`);
  for (const form of secretForms(object)) redacted = redacted.split(form).join(MASK);
  return redacted;
}
