/** The one field manager fjord applies as; changing it would orphan every field it owns. */
export const FIELD_MANAGER = "fjord";

/** Owner labels on every applied object: which sync created it. Pruning requires them. */
export const OWNER_NAME_LABEL = "fjord.dev/name";
export const OWNER_NAMESPACE_LABEL = "fjord.dev/namespace";

/** `fjord.dev/prune: disabled` keeps an object when it leaves Git. */
export const PRUNE_ANNOTATION = "fjord.dev/prune";

export interface Owner {
  name: string;
  namespace: string;
}

export function ownerLabels(owner: Owner): Record<string, string> {
  return { [OWNER_NAME_LABEL]: owner.name, [OWNER_NAMESPACE_LABEL]: owner.namespace };
}

export function ownerSelector(owner: Owner): string {
  return `${OWNER_NAME_LABEL}=${owner.name},${OWNER_NAMESPACE_LABEL}=${owner.namespace}`;
}

export function isOwnedBy(labels: Record<string, string> | undefined, owner: Owner): boolean {
  return labels?.[OWNER_NAME_LABEL] === owner.name && labels[OWNER_NAMESPACE_LABEL] === owner.namespace;
}
