/**
 * Pure decisions of the SealedSecret controller: may it write this Secret, what the Secret
 * becomes, and what the status says. Upstream's rules (pkg/controller/controller.go): a Secret
 * is ours when the SealedSecret controls it (owner reference with its uid) or when it carries
 * the `managed` annotation; the `patch` annotation merges instead of replacing.
 */
import { isDeepStrictEqual } from "node:util";
import { formatTime } from "../../api/conditions.ts";
import { SEALED_SECRET_KIND, SYNCED_CONDITION, type SealedSecret, type SealedSecretCondition, type Secret } from "../../secrets/sealed/types.ts";

export const MANAGED_ANNOTATION = "sealedsecrets.bitnami.com/managed";
export const PATCH_ANNOTATION = "sealedsecrets.bitnami.com/patch";

interface OwnerReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
}

const ownerReferencesOf = (secret: Secret) => (secret.metadata.ownerReferences ?? []) as OwnerReference[];

export type Ownership = "owned" | "foreign" | "previous-owner";

/**
 * `previous-owner`: controlled by an earlier SealedSecret of the same name (deleted and created
 * again); the garbage collector is about to delete it, so the controller waits instead of failing.
 */
export function ownershipOf(secret: Secret, sealed: SealedSecret): Ownership {
  const annotations = secret.metadata.annotations ?? {};
  if (annotations[MANAGED_ANNOTATION] === "true" || annotations[PATCH_ANNOTATION] === "true") return "owned";
  const controller = ownerReferencesOf(secret).find((reference) => reference.controller === true);
  if (!controller) return "foreign";
  if (controller.uid === sealed.metadata.uid) return "owned";
  return controller.kind === SEALED_SECRET_KIND && controller.name === sealed.metadata.name ? "previous-owner" : "foreign";
}

export function notOwnedMessage(secret: Secret): string {
  const name = secret.metadata.name ?? "";
  return (
    `Secret "${name}" already exists and is not managed by this SealedSecret, so it was left unchanged. ` +
    `To let the SealedSecret take it over, annotate it: kubectl annotate secret ${name} -n ${secret.metadata.namespace ?? ""} ${MANAGED_ANNOTATION}=true; or delete it`
  );
}

/** The existing Secret rewritten to what the SealedSecret says, keeping server-owned metadata (resourceVersion...). */
export function updatedSecret(existing: Secret, desired: Secret): Secret {
  const patchOnly = existing.metadata.annotations?.[PATCH_ANNOTATION] === "true";
  const metadata = { ...existing.metadata };
  let data: Record<string, string>;
  if (patchOnly) {
    data = { ...(existing.data ?? {}), ...(desired.data ?? {}) };
    metadata.annotations = { ...(existing.metadata.annotations ?? {}), ...(desired.metadata.annotations ?? {}) };
    metadata.labels = { ...(existing.metadata.labels ?? {}), ...(desired.metadata.labels ?? {}) };
    if (existing.metadata.annotations?.[MANAGED_ANNOTATION] === "true") metadata.ownerReferences = desired.metadata.ownerReferences;
  } else {
    data = { ...(desired.data ?? {}) };
    metadata.annotations = desired.metadata.annotations;
    metadata.labels = desired.metadata.labels;
    metadata.ownerReferences = desired.metadata.ownerReferences;
  }
  for (const field of ["annotations", "labels", "ownerReferences"] as const) {
    if (metadata[field] === undefined) delete metadata[field];
  }
  const result: Secret = { ...existing, metadata, data };
  delete result.stringData;
  if (desired.type) result.type = desired.type;
  if (desired.immutable !== undefined) result.immutable = desired.immutable;
  return result;
}

/** Whether a write would change anything (empty maps and absent maps are the same to the API server). */
export function sameSecret(a: Secret, b: Secret): boolean {
  const normal = (secret: Secret) => ({
    data: secret.data ?? {},
    labels: secret.metadata.labels ?? {},
    annotations: secret.metadata.annotations ?? {},
    ownerReferences: secret.metadata.ownerReferences ?? [],
    type: secret.type ?? "Opaque",
    immutable: secret.immutable ?? false,
  });
  return isDeepStrictEqual(normal(a), normal(b));
}

/**
 * Removes anything that looks like one of the Secret's values from a message (the API server's
 * validation messages are written by others); values shorter than 4 bytes would match too much.
 */
export function redactValues(message: string, secret: Secret | undefined): string {
  let result = message;
  for (const encoded of Object.values(secret?.data ?? {})) {
    const plain = Buffer.from(encoded, "base64").toString("utf8");
    for (const form of [plain, encoded]) {
      if (form.length >= 4) result = result.split(form).join("[redacted]");
    }
  }
  return result;
}

export interface SyncOutcome {
  synced: boolean;
  reason: string;
  /** Safe to publish: built from names and fixed phrases, API messages redacted. */
  message: string;
}

/** The status after a reconcile, or undefined when it already says exactly that. */
export function nextStatus(sealed: SealedSecret, outcome: SyncOutcome, now: Date = new Date()): SealedSecret["status"] | undefined {
  const previous = sealed.status ?? {};
  const conditions = [...(previous.conditions ?? [])];
  const index = conditions.findIndex((condition) => condition.type === SYNCED_CONDITION);
  const existing = index >= 0 ? conditions[index] : undefined;
  const status: SealedSecretCondition["status"] = outcome.synced ? "True" : "False";
  const generation = sealed.metadata.generation;
  const unchanged = existing?.status === status && existing.reason === outcome.reason && (existing.message ?? "") === outcome.message;
  if (unchanged && previous.observedGeneration === generation) return undefined;
  const time = formatTime(now);
  const condition: SealedSecretCondition = {
    type: SYNCED_CONDITION,
    status,
    lastUpdateTime: unchanged && existing.lastUpdateTime ? existing.lastUpdateTime : time,
    lastTransitionTime: existing?.status === status && existing.lastTransitionTime ? existing.lastTransitionTime : time,
    reason: outcome.reason,
    ...(outcome.message ? { message: outcome.message } : {}),
  };
  if (index >= 0) conditions[index] = condition;
  else conditions.push(condition);
  return { ...(generation !== undefined ? { observedGeneration: generation } : {}), conditions };
}
