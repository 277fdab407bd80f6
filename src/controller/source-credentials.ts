import type { GitAuth } from "../git/index.ts";
import { SyncError } from "../apply/errors.ts";
import type { KubeClient } from "../kube/client.ts";
import { isNotFound } from "../kube/errors.ts";
import { ageIdentitiesFromSecretData } from "../secrets/sops/index.ts";
import { readReferencedSecret, SecretReferenceError } from "./referenced-secret.ts";

interface Secret {
  data?: Record<string, string>;
}

const decode = (value: string | undefined) => (value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8"));

/**
 * Git credentials from a Secret with Flux's key names: `username` + `password` (HTTPS basic),
 * `bearerToken` (HTTPS token), or `identity` + `known_hosts` (SSH). Values never leave this
 * function except inside the returned GitAuth.
 */
export function gitAuthFromSecret(secret: Secret, secretName: string): GitAuth {
  const data = secret.data ?? {};
  const identity = decode(data.identity);
  if (identity !== undefined) {
    const knownHosts = decode(data.known_hosts);
    if (!knownHosts) throw new Error(`Secret ${secretName} has an SSH identity but no known_hosts entry; add the server's host key under known_hosts`);
    return { kind: "ssh", privateKey: identity, knownHosts };
  }
  const token = decode(data.bearerToken);
  if (token !== undefined) return { kind: "token", token, ...(data.username ? { username: decode(data.username) ?? "git" } : {}) };
  const username = decode(data.username);
  const password = decode(data.password);
  if (username !== undefined && password !== undefined) return { kind: "basic", username, password };
  throw new Error(`Secret ${secretName} has none of username+password, bearerToken, or identity+known_hosts`);
}

export async function loadGitAuth(client: KubeClient, namespace: string, secretName: string): Promise<GitAuth> {
  const secret = await readReferencedSecret<Secret>(client, namespace, secretName);
  return gitAuthFromSecret(secret, `${namespace}/${secretName}`);
}

/** Age identities for SOPS decryption from an Application's `spec.decryption.secretRef` (entries ending in `.agekey`). */
export async function loadAgeIdentities(client: KubeClient, namespace: string, secretName: string): Promise<string[]> {
  const secret = await readReferencedSecret<Secret>(client, namespace, secretName).catch((error: unknown) => {
    if (isNotFound(error)) throw new SyncError("decryption", `decryption Secret ${namespace}/${secretName} not found: create it with the age identities in an entry ending in .agekey`);
    if (error instanceof SecretReferenceError) throw new SyncError("decryption", `spec.decryption: ${error.message}`, [], { cause: error });
    throw error;
  });
  const identities = ageIdentitiesFromSecretData(secret.data ?? {});
  if (identities.length === 0) throw new SyncError("decryption", `decryption Secret ${namespace}/${secretName} has no entry ending in .agekey holding an age identity (AGE-SECRET-KEY-1...)`);
  return identities;
}
