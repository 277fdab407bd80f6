/** Namespaces: Active, or Terminating while their content is removed. */
import type { KubeObject } from "../model/object.ts";
import { conditionsOf, withCondition } from "./conditions.ts";
import { stringAt } from "./fields.ts";
import { healthOf, type Health } from "./status.ts";

/**
 * While a namespace is deleted, the namespace controller reports what still holds it
 * (NamespaceContentRemaining, NamespaceFinalizersRemaining, NamespaceDeletion*Failure): the
 * one thing a person looking at a stuck deletion needs.
 */
export function explainNamespaceTermination(namespace: KubeObject): string | undefined {
  const blockers = conditionsOf(namespace).filter((condition) => condition.type.startsWith("Namespace") && condition.status === "True");
  return blockers.length > 0 ? blockers.map((condition) => withCondition(condition.type, condition)).join("; ") : undefined;
}

export function evaluateNamespace(namespace: KubeObject): Health {
  const phase = stringAt(namespace, "status.phase");
  if (phase === "Active") return healthOf(namespace, "Current", "namespace active");
  if (phase === "Terminating") {
    const blockers = explainNamespaceTermination(namespace);
    return healthOf(namespace, "Terminating", `namespace terminating${blockers ? `; ${blockers}` : ""}`);
  }
  return healthOf(namespace, "InProgress", `namespace phase ${phase ?? "not reported yet"}`);
}
