/**
 * The shapes every part of fjord passes around: a Kubernetes object as rendered from Git,
 * its identity, and where it came from.
 */

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  uid?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  [key: string]: unknown;
}

/** Any Kubernetes object, as plain JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** Where a rendered object came from, for error messages. `file` is relative to the repository. */
export interface SourceLocation {
  file: string;
  /** 1-based line of the document start, when known. */
  line?: number;
}

export interface RenderedObject {
  object: KubeObject;
  source: SourceLocation;
}

/** An object's identity: API group (not version), kind, namespace ("" for cluster scope), name. */
export interface ObjectRef {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

export function versionOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
}

export function refOf(object: KubeObject): ObjectRef {
  return {
    group: groupOf(object.apiVersion),
    kind: object.kind,
    namespace: object.metadata.namespace ?? "",
    name: object.metadata.name ?? "",
  };
}

/** A stable string key, e.g. `apps/Deployment/shop/web` or `/Namespace//shop`. */
export function refKey(ref: ObjectRef): string {
  return `${ref.group}/${ref.kind}/${ref.namespace}/${ref.name}`;
}

/** How people write an object in messages: `Deployment/shop/web`, `Namespace/shop`. */
export function describeRef(ref: ObjectRef): string {
  const kind = ref.group ? `${ref.kind}.${ref.group}` : ref.kind;
  return ref.namespace ? `${kind}/${ref.namespace}/${ref.name}` : `${kind}/${ref.name}`;
}

export function describeSource(source: SourceLocation): string {
  return source.line ? `${source.file}:${source.line}` : source.file;
}
