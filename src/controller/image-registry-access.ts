import type { ImageRepositorySpec } from "../api/image-types.ts";
import { credentialsFromSecret, type RegistryClientOptions, type RegistryCredential, type SecretLike } from "../image/registry/index.ts";
import type { KubeClient } from "../kube/client.ts";
import { isNotFound } from "../kube/errors.ts";
import { parseDuration } from "../util/duration.ts";
import { readReferencedSecret, SecretReferenceError } from "./referenced-secret.ts";

/** A Secret or CA that cannot be used; the message names the Secret, never its content. */
export class RegistryAccessError extends Error {
  override readonly name = "RegistryAccessError";
}

async function readSecret(client: KubeClient, namespace: string, name: string): Promise<SecretLike> {
  try {
    return await readReferencedSecret<SecretLike>(client, namespace, name);
  } catch (error) {
    if (isNotFound(error)) throw new RegistryAccessError(`Secret ${namespace}/${name} not found`);
    if (error instanceof SecretReferenceError) throw new RegistryAccessError(error.message);
    throw error;
  }
}

async function credentialsOf(client: KubeClient, namespace: string, name: string): Promise<Map<string, RegistryCredential>> {
  const secret = await readSecret(client, namespace, name);
  try {
    return credentialsFromSecret(secret);
  } catch (error) {
    throw new RegistryAccessError((error as Error).message);
  }
}

/** How to reach an ImageRepository's registry: its pull Secret, its CA, plain HTTP for loopback, its timeout. */
export async function registryOptionsFor(client: KubeClient, namespace: string, spec: ImageRepositorySpec): Promise<RegistryClientOptions> {
  const options: RegistryClientOptions = { timeoutMs: parseDuration(spec.timeout || "60s"), insecure: spec.insecure === true };
  if (spec.secretRef) options.credentials = await credentialsOf(client, namespace, spec.secretRef.name);
  if (spec.certSecretRef) {
    const secret = await readSecret(client, namespace, spec.certSecretRef.name);
    const encoded = secret.data?.["ca.crt"] ?? secret.data?.caFile;
    if (encoded === undefined) throw new RegistryAccessError(`Secret ${namespace}/${spec.certSecretRef.name} has no ca.crt key`);
    options.caPem = Buffer.from(encoded, "base64").toString("utf8");
  }
  return options;
}

/**
 * Credentials from a workload's imagePullSecrets (Flux v1 read the registry with them). Only
 * Secrets of the automation's own namespace are read, whatever namespace the manifest names, so
 * a manifest in Git cannot borrow another tenant's credentials. Missing ones are skipped, as the
 * kubelet does.
 */
export async function pullSecretCredentials(client: KubeClient, namespace: string, names: readonly string[]): Promise<Map<string, RegistryCredential>> {
  const merged = new Map<string, RegistryCredential>();
  for (const name of names) {
    let credentials: Map<string, RegistryCredential>;
    try {
      credentials = await credentialsOf(client, namespace, name);
    } catch (error) {
      if (error instanceof RegistryAccessError && /not found$/.test(error.message)) continue;
      throw error;
    }
    for (const [host, credential] of credentials) if (!merged.has(host)) merged.set(host, credential);
  }
  return merged;
}
