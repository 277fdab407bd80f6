/** Unsealing a SealedSecret into its Secret (upstream's SealedSecret.Unseal), and re-sealing with a newer key. */
import type { KeyObject } from "node:crypto";
import { HybridDecryptError, hybridDecryptWithAny, hybridEncrypt } from "./hybrid.ts";
import { decodeBase64Strict, portableMetadata, sortedRecord } from "./objects.ts";
import { describeScope, encryptionLabel, scopeOf } from "./scope.ts";
import { renderTemplateValue, TemplateDataError } from "./template-data.ts";
import { SEALED_SECRET_API_VERSION, SEALED_SECRET_KIND, type SealedSecret, type Secret } from "./types.ts";

/** Set on the template to leave the Secret without an owner reference (upstream's opt-out). */
export const SKIP_OWNER_REFERENCES_ANNOTATION = "sealedsecrets.bitnami.com/skip-set-owner-references";

/** Why unsealing failed, in words fit for a status condition: names keys, never values. */
export class UnsealError extends Error {
  override readonly name = "UnsealError";
}

/** The API server refuses a Secret whose data adds up to more than this; unsealing stops there too. */
export const SECRET_DATA_LIMIT = 1024 * 1024;

interface Decrypted {
  values: Map<string, Buffer>;
  label: Buffer;
}

/**
 * Every value decrypted, or an UnsealError naming the keys that did not. With `failFast` it
 * stops at the first value no key opens (one answer is all a yes/no question needs), so a
 * SealedSecret from another cluster costs a few RSA attempts rather than values × keys.
 */
function decryptAll(sealed: SealedSecret, privateKeys: readonly KeyObject[], failFast = false): Decrypted {
  const name = sealed.metadata.name ?? "";
  const namespace = sealed.metadata.namespace ?? "";
  if (!name) throw new UnsealError("the SealedSecret has no metadata.name");
  // The SealedSecret's own annotations decide the label, not the template's: that is what
  // makes a strict SealedSecret useless under another name or namespace.
  const scope = scopeOf(sealed.metadata.annotations);
  const label = encryptionLabel(namespace, name, scope);
  if (privateKeys.length === 0) throw new UnsealError("no private key is available to unseal with");

  const values = new Map<string, Buffer>();
  const malformed: string[] = [];
  const undecryptable: string[] = [];
  let preferredKey = 0;
  for (const [key, encoded] of Object.entries(sealed.spec.encryptedData)) {
    if (failFast && malformed.length + undecryptable.length > 0) break;
    const ciphertext = decodeBase64Strict(encoded);
    if (!ciphertext) {
      malformed.push(key);
      continue;
    }
    try {
      const { value, keyIndex } = hybridDecryptWithAny(privateKeys, ciphertext, label, preferredKey);
      values.set(key, value);
      preferredKey = keyIndex;
    } catch (error) {
      if (!(error instanceof HybridDecryptError)) throw error;
      (error.reason === "too-short" ? malformed : undecryptable).push(key);
    }
  }
  const problems: string[] = [];
  if (malformed.length > 0) problems.push(`encryptedData ${quoteKeys(malformed)} ${malformed.length === 1 ? "is" : "are"} not a sealed value (not base64, or truncated)`);
  if (undecryptable.length > 0) {
    problems.push(
      `no private key can decrypt encryptedData ${quoteKeys(undecryptable)} (tried ${privateKeys.length} key${privateKeys.length === 1 ? "" : "s"}). ` +
        `This SealedSecret is ${describeScope(scope, namespace, name)}: it was sealed for another name, namespace or scope, or with another controller's certificate. ` +
        `Seal the Secret again for this place with \`fjord seal\` or \`kubeseal\` using this controller's certificate`,
    );
  }
  if (problems.length > 0) {
    for (const value of values.values()) value.fill(0);
    throw new UnsealError(problems.join("; "));
  }
  return { values, label };
}

function quoteKeys(keys: string[]): string {
  return keys.map((key) => `"${key}"`).join(", ");
}

export interface UnsealOptions {
  /** Adds the controller owner reference (needs the SealedSecret's uid, i.e. a live object). */
  ownerReference?: boolean;
  /** Stop at the first value that does not decrypt; the error then names that one only. */
  failFast?: boolean;
}

/**
 * The Secret a SealedSecret stands for. `privateKeys` are tried in order (newest first); every
 * value must decrypt, or nothing is returned.
 */
export function unsealSealedSecret(sealed: SealedSecret, privateKeys: readonly KeyObject[], options: UnsealOptions = {}): Secret {
  const { values } = decryptAll(sealed, privateKeys, options.failFast);
  const template = sealed.spec.template ?? {};
  const data = new Map(values);
  try {
    // A template can repeat a value many times over: rendering stops at the Secret size limit
    // rather than filling memory with a Secret the API server would refuse anyway.
    let rendered = 0;
    for (const [key, value] of Object.entries(template.data ?? {})) {
      if (value === null) {
        data.delete(key);
        continue;
      }
      const bytes = renderTemplateValue(key, value, values, SECRET_DATA_LIMIT - rendered);
      rendered += bytes.length;
      data.set(key, bytes);
    }
  } catch (error) {
    for (const value of values.values()) value.fill(0);
    if (error instanceof TemplateDataError) throw new UnsealError(error.message);
    throw error;
  }
  let size = 0;
  for (const value of data.values()) size += value.length;
  if (size > SECRET_DATA_LIMIT) {
    for (const value of values.values()) value.fill(0);
    throw new UnsealError(`the unsealed Secret would hold ${size} bytes of data, more than the API server's limit of ${SECRET_DATA_LIMIT} bytes`);
  }

  const metadata = portableMetadata(template.metadata ?? {});
  metadata.name = sealed.metadata.name ?? "";
  if (sealed.metadata.namespace) metadata.namespace = sealed.metadata.namespace;
  else delete metadata.namespace;
  const uid = sealed.metadata.uid;
  if (options.ownerReference !== false && uid && metadata.annotations?.[SKIP_OWNER_REFERENCES_ANNOTATION] !== "true") {
    metadata.ownerReferences = [{ apiVersion: SEALED_SECRET_API_VERSION, kind: SEALED_SECRET_KIND, name: metadata.name, uid, controller: true }];
  }
  const encoded: Record<string, string> = {};
  for (const [key, value] of data) encoded[key] = value.toString("base64");
  for (const value of data.values()) value.fill(0);
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata,
    ...(template.type ? { type: template.type } : {}),
    ...(template.immutable !== undefined ? { immutable: template.immutable } : {}),
    data: sortedRecord(encoded),
  };
}

/** Whether the SealedSecret unseals with these keys (upstream's /v1/verify). */
export function canUnseal(sealed: SealedSecret, privateKeys: readonly KeyObject[]): boolean {
  try {
    unsealSealedSecret(sealed, privateKeys, { ownerReference: false, failFast: true });
    return true;
  } catch (error) {
    if (error instanceof UnsealError) return false;
    throw error;
  }
}

/**
 * The same SealedSecret with every value sealed again with `publicKey` (the newest key), same
 * scope and label. Unlike upstream's rotate, which rebuilds the object from the unsealed
 * Secret, the template (with its template data) and the SealedSecret's own labels and
 * annotations stay as they were, so the result diffs cleanly in Git.
 */
export function reEncryptSealedSecret(sealed: SealedSecret, privateKeys: readonly KeyObject[], publicKey: KeyObject): SealedSecret {
  const { values, label } = decryptAll(sealed, privateKeys, true);
  const encryptedData: Record<string, string> = {};
  for (const [key, value] of values) {
    encryptedData[key] = hybridEncrypt(publicKey, value, label).toString("base64");
    value.fill(0);
  }
  return {
    apiVersion: SEALED_SECRET_API_VERSION,
    kind: SEALED_SECRET_KIND,
    metadata: portableMetadata(sealed.metadata),
    spec: { ...(sealed.spec.template ? { template: sealed.spec.template } : {}), encryptedData: sortedRecord(encryptedData) },
  };
}
