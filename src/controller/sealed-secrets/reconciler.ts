/** One reconcile of one SealedSecret: unseal, write its Secret, report status. */
import type { KeyObject } from "node:crypto";
import type { KubeClient } from "../../kube/client.ts";
import { isNotFound, KubeApiError } from "../../kube/errors.ts";
import type { Logger } from "../../util/logger.ts";
import { InvalidObjectError, sealedSecretFromManifest } from "../../secrets/sealed/objects.ts";
import { nextStatus, notOwnedMessage, ownershipOf, redactValues, sameSecret, updatedSecret, type SyncOutcome } from "./secret-sync.ts";
import { SEALED_SECRET_API_VERSION, SEALED_SECRET_RESOURCE, type SealedSecret, type Secret } from "../../secrets/sealed/types.ts";
import { UnsealError } from "../../secrets/sealed/unseal.ts";

export interface ReconcileContext {
  /** The controller's identity: reads SealedSecrets and writes their status. */
  client: KubeClient;
  /**
   * As whom the unsealed Secret of a namespace is written: the namespace's default
   * ServiceAccount when the controller has one, else the controller itself (which, installed
   * with least privilege, may write Secrets only in its own namespace).
   */
  secretWriter?: (namespace: string) => SecretWriter;
  logger: Logger;
  /** Newest first. */
  privateKeys: () => KeyObject[];
  /** The SealedSecret's Secret, unsealed with these keys (off the event loop); throws UnsealError when it does not unseal. */
  unseal: (sealed: SealedSecret, privateKeys: KeyObject[]) => Promise<Secret>;
  /** Re-reads the key Secrets; true when a key was added (one restored from a backup, say). */
  refreshKeys: () => Promise<boolean>;
}

export interface SecretWriter {
  client: KubeClient;
  /** `system:serviceaccount:<ns>:<name>`, or undefined for the controller's own identity. */
  user?: string;
}

/** What to do when the API server refuses to let `writer` write Secrets in `namespace`. */
export function secretWriteHint(namespace: string, writer: SecretWriter, message: string): string {
  if (/cannot impersonate/i.test(message)) {
    return `the controller may not impersonate ServiceAccounts of namespace ${namespace}: bind the ClusterRole fjord-impersonator to it there (\`fjord tenant create ${namespace}\` does)`;
  }
  if (writer.user) {
    return `${writer.user} (the controller's --default-service-account) may not write Secrets in ${namespace}: grant it get, create and update on secrets there (\`fjord tenant create ${namespace}\` binds admin)`;
  }
  return (
    `the controller may write Secrets only in its own namespace: start it with --default-service-account=<name> and create that ServiceAccount in ${namespace} with rights on Secrets (\`fjord tenant create ${namespace}\` does), ` +
    `or grant the controller get, create and update on secrets in ${namespace} with a Role`
  );
}

/** `retry`: worth trying again later without a change (a race, an old Secret being collected). */
export type ReconcileResult = "done" | "retry";

export function sealedSecretPath(namespace: string, name?: string): string {
  return `/apis/${SEALED_SECRET_API_VERSION}/namespaces/${namespace}/${SEALED_SECRET_RESOURCE}${name ? `/${name}` : ""}`;
}

/** Unseals with the keys in hand, and once more after re-reading them if that added one. */
async function unseal(context: ReconcileContext, sealed: SealedSecret): Promise<Secret> {
  try {
    return await context.unseal(sealed, context.privateKeys());
  } catch (error) {
    if (!(error instanceof UnsealError) || !(await context.refreshKeys())) throw error;
    return context.unseal(sealed, context.privateKeys());
  }
}

interface WriteResult {
  outcome: SyncOutcome;
  retry: boolean;
  action?: "created" | "updated" | "unchanged";
}

async function writeSecret(writer: SecretWriter, sealed: SealedSecret, desired: Secret): Promise<WriteResult> {
  const { client } = writer;
  const namespace = sealed.metadata.namespace ?? "";
  const name = desired.metadata.name ?? "";
  const collection = `/api/v1/namespaces/${namespace}/secrets`;
  const failure = (error: unknown, verb: string): WriteResult => {
    // Server errors and broken connections are retried by the queue; a refusal is reported.
    if (!(error instanceof KubeApiError) || error.statusCode >= 500 || error.statusCode === 429) throw error;
    if (error.conflict) return { outcome: { synced: false, reason: "ErrUpdateFailed", message: `Secret "${name}" changed while being written; retrying` }, retry: true };
    const hint = error.statusCode === 403 ? `; ${secretWriteHint(namespace, writer, error.message)}` : "";
    return { outcome: { synced: false, reason: "ErrUpdateFailed", message: `cannot ${verb} Secret "${name}": ${redactValues(error.message, desired)}${hint}` }, retry: false };
  };
  let existing: Secret | undefined;
  try {
    existing = await client.request<Secret>("GET", `${collection}/${name}`);
  } catch (error) {
    if (error instanceof KubeApiError && error.statusCode === 403) return failure(error, "read");
    if (!isNotFound(error)) throw error;
  }
  if (!existing) {
    try {
      await client.request("POST", collection, { body: desired });
    } catch (error) {
      return failure(error, "create");
    }
    return { outcome: { synced: true, reason: "Unsealed", message: "" }, retry: false, action: "created" };
  }
  const ownership = ownershipOf(existing, sealed);
  // Retried with backoff, so annotating the Secret as the message suggests takes effect without a change to the SealedSecret.
  if (ownership === "foreign") return { outcome: { synced: false, reason: "ErrUpdateFailed", message: notOwnedMessage(existing) }, retry: true };
  if (ownership === "previous-owner") {
    return {
      outcome: { synced: false, reason: "ErrUpdateFailed", message: `Secret "${name}" still belongs to a deleted SealedSecret of the same name; waiting for Kubernetes to garbage-collect it` },
      retry: true,
    };
  }
  const updated = updatedSecret(existing, desired);
  if (sameSecret(existing, updated)) return { outcome: { synced: true, reason: "Unsealed", message: "" }, retry: false, action: "unchanged" };
  try {
    await client.request("PUT", `${collection}/${name}`, { body: updated });
  } catch (error) {
    return failure(error, "update");
  }
  return { outcome: { synced: true, reason: "Unsealed", message: "" }, retry: false, action: "updated" };
}

/** Returns whether the status changed. */
async function writeStatus(client: KubeClient, sealed: SealedSecret, outcome: SyncOutcome): Promise<boolean> {
  const status = nextStatus(sealed, outcome);
  if (!status) return false;
  try {
    await client.request("PATCH", `${sealedSecretPath(sealed.metadata.namespace ?? "", sealed.metadata.name)}/status`, {
      body: { status },
      contentType: "application/merge-patch+json",
    });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  return true;
}

export async function reconcileSealedSecret(context: ReconcileContext, namespace: string, name: string): Promise<ReconcileResult> {
  const { client, logger } = context;
  const ref = `${namespace}/${name}`;
  let raw: SealedSecret;
  try {
    raw = await client.request<SealedSecret>("GET", sealedSecretPath(namespace, name));
  } catch (error) {
    if (isNotFound(error)) return "done"; // its Secret goes with it, through the owner reference
    throw error;
  }
  if (raw.metadata.deletionTimestamp) return "done";

  let result: WriteResult;
  try {
    const sealed = sealedSecretFromManifest(raw, `SealedSecret ${ref}`);
    const desired = await unseal(context, sealed);
    const writer = context.secretWriter?.(namespace) ?? { client };
    try {
      result = await writeSecret(writer, sealed, desired);
    } finally {
      if (writer.client !== client) writer.client.close();
    }
  } catch (error) {
    if (!(error instanceof UnsealError) && !(error instanceof InvalidObjectError)) throw error;
    result = { outcome: { synced: false, reason: "ErrUnsealFailed", message: error.message }, retry: false };
  }
  const changed = await writeStatus(client, raw, result.outcome);
  const fields = { sealedSecret: ref, generation: raw.metadata.generation, reason: result.outcome.reason };
  // Retries of the same failure log quietly: the status already says it.
  if (result.outcome.synced) logger[result.action === "unchanged" && !changed ? "debug" : "info"]({ ...fields, secret: result.action }, "SealedSecret unsealed");
  else logger[changed ? "warn" : "debug"]({ ...fields, retry: result.retry }, `SealedSecret not unsealed: ${result.outcome.message}`);
  return result.retry ? "retry" : "done";
}
