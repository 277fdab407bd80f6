/**
 * Sealing scopes, as kubeseal defines them: the scope decides the RSA-OAEP label, and the
 * label is what stops a SealedSecret from being unsealed under another name or namespace.
 */

export const NAMESPACE_WIDE_ANNOTATION = "sealedsecrets.bitnami.com/namespace-wide";
export const CLUSTER_WIDE_ANNOTATION = "sealedsecrets.bitnami.com/cluster-wide";

export const SCOPES = ["strict", "namespace-wide", "cluster-wide"] as const;
export type SealingScope = (typeof SCOPES)[number];

export function isSealingScope(value: string): value is SealingScope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Cluster-wide wins over namespace-wide, as in upstream's SecretScope(); only the exact string "true" counts. */
export function scopeOf(annotations: Record<string, string> | undefined): SealingScope {
  if (annotations?.[CLUSTER_WIDE_ANNOTATION] === "true") return "cluster-wide";
  if (annotations?.[NAMESPACE_WIDE_ANNOTATION] === "true") return "namespace-wide";
  return "strict";
}

export function encryptionLabel(namespace: string, name: string, scope: SealingScope): Buffer {
  switch (scope) {
    case "cluster-wide":
      return Buffer.alloc(0);
    case "namespace-wide":
      return Buffer.from(namespace, "utf8");
    case "strict":
      return Buffer.from(`${namespace}/${name}`, "utf8");
  }
}

/** A copy of `annotations` that says `scope` and nothing else about scope (strict is the absence of both). */
export function withScopeAnnotations(annotations: Record<string, string> | undefined, scope: SealingScope): Record<string, string> {
  const result = { ...(annotations ?? {}) };
  delete result[NAMESPACE_WIDE_ANNOTATION];
  delete result[CLUSTER_WIDE_ANNOTATION];
  if (scope === "namespace-wide") result[NAMESPACE_WIDE_ANNOTATION] = "true";
  if (scope === "cluster-wide") result[CLUSTER_WIDE_ANNOTATION] = "true";
  return result;
}

/** Where a SealedSecret of this scope may live, for messages. */
export function describeScope(scope: SealingScope, namespace: string, name: string): string {
  switch (scope) {
    case "cluster-wide":
      return "cluster-wide (any name, any namespace)";
    case "namespace-wide":
      return `namespace-wide (any name in namespace "${namespace}")`;
    case "strict":
      return `strict (only as "${name}" in namespace "${namespace}")`;
  }
}
