import type { KubeObject } from "../model/object.ts";
import { groupOf } from "../model/object.ts";

/**
 * Objects that others depend on exist before anything that needs them: CRDs (their kinds),
 * Namespaces (their contents) and ClusterRoles (RoleBindings to them are checked for
 * privilege escalation against the role's rules).
 */
export function isPrerequisite(object: KubeObject): boolean {
  const group = groupOf(object.apiVersion);
  return (
    (group === "apiextensions.k8s.io" && object.kind === "CustomResourceDefinition") ||
    (group === "" && object.kind === "Namespace") ||
    (group === "rbac.authorization.k8s.io" && object.kind === "ClusterRole")
  );
}

/** group/kind pairs that CRDs in this set define, so their objects wait for stage two. */
export function kindsDefinedBy(objects: readonly KubeObject[]): Set<string> {
  const kinds = new Set<string>();
  for (const object of objects) {
    if (groupOf(object.apiVersion) !== "apiextensions.k8s.io" || object.kind !== "CustomResourceDefinition") continue;
    const spec = object.spec as { group?: string; names?: { kind?: string } } | undefined;
    if (spec?.group && spec.names?.kind) kinds.add(`${spec.group}/${spec.names.kind}`);
  }
  return kinds;
}
