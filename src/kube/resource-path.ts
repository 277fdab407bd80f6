/** Kinds as the API server serves them, and their REST paths: pure, so the API layer can use them too. */
export interface ResourceMapping {
  group: string;
  version: string;
  kind: string;
  resource: string;
  namespaced: boolean;
  verbs: string[];
}

/** The REST path of a collection or an object. */
export function resourcePath(mapping: ResourceMapping, namespace?: string, name?: string): string {
  const base = mapping.group ? `/apis/${mapping.group}/${mapping.version}` : `/api/${mapping.version}`;
  const scoped = mapping.namespaced && namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${mapping.resource}` : `${base}/${mapping.resource}`;
  return name ? `${scoped}/${encodeURIComponent(name)}` : scoped;
}
