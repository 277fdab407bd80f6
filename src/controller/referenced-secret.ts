import type { KubeClient } from "../kube/client.ts";
import { isNamespaceName, isObjectName } from "../kube/names.ts";

/** A secretRef that cannot name a Secret; the message names the reference, never a value. */
export class SecretReferenceError extends Error {
  override readonly name = "SecretReferenceError";
}

/**
 * The one way the controller reads a Secret outside its own namespace: by name (a GET, never a
 * list or watch), in the namespace of the object whose secretRef names it. The name is checked
 * against Kubernetes' naming rule first, so a reference such as `../../team-b/secrets/git`
 * (which the URL would carry as `..%2F..`) never reaches the API server as a path.
 */
export function referencedSecretPath(namespace: string, name: string): string {
  if (!isNamespaceName(namespace)) throw new SecretReferenceError(`${JSON.stringify(namespace.slice(0, 80))} is not a namespace name`);
  if (!isObjectName(name)) {
    throw new SecretReferenceError(`secretRef ${JSON.stringify(name.slice(0, 80))} is not a valid Secret name (lower-case letters, digits, '-' and '.'): name a Secret of namespace ${namespace}`);
  }
  return `/api/v1/namespaces/${namespace}/secrets/${name}`;
}

/** Rejects (never throws) with SecretReferenceError for a name that is not a Secret's. */
export async function readReferencedSecret<T>(client: KubeClient, namespace: string, name: string): Promise<T> {
  return client.request<T>("GET", referencedSecretPath(namespace, name));
}
