/**
 * Kubernetes' naming rules (k8s.io/apimachinery/pkg/util/validation), for names that come from
 * flags or from objects' references and end up in an API path or another object.
 */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A DNS-1123 label, at most 63 characters (a Namespace, a name that sits between others' such as a cluster's). */
export const isDnsLabel = (name: string) => name.length <= 63 && DNS_LABEL.test(name);

/** Namespaces: a DNS-1123 label. */
export const isNamespaceName = isDnsLabel;

/** Most object names (Secrets, ServiceAccounts...): a DNS-1123 subdomain, at most 253 characters. */
export const isObjectName = (name: string) => name.length <= 253 && DNS_SUBDOMAIN.test(name);

/** RBAC objects may be named anything that is a path segment (`system:aggregate-to-edit`). */
export const isRbacName = (name: string) => name.length > 0 && name.length <= 253 && name !== "." && name !== ".." && !/[/%]/.test(name);

export class InvalidNameError extends Error {
  override readonly name = "InvalidNameError";
}

/** Throws an error naming `what` (a flag, a field) unless `name` passes `rule`. */
export function checkName(name: string, what: string, rule: "namespace" | "object" | "rbac"): string {
  const ok = rule === "namespace" ? isNamespaceName(name) : rule === "object" ? isObjectName(name) : isRbacName(name);
  if (ok) return name;
  const expected =
    rule === "namespace"
      ? "a namespace name (lower-case letters, digits and '-', at most 63 characters)"
      : rule === "object"
        ? "a Kubernetes object name (lower-case letters, digits, '-' and '.', at most 253 characters)"
        : "an RBAC object name (no '/', '%', and not '.' or '..')";
  throw new InvalidNameError(`${what}: ${JSON.stringify(name.slice(0, 80))} is not ${expected}`);
}
