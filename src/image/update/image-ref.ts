/** An image reference split the way kustomize and the registries read it. */
export interface ImageReference {
  /** Everything before the tag and digest: `registry.example:5000/team/app`. */
  name: string;
  tag?: string;
  /** `sha256:<hex>`. */
  digest?: string;
}

/**
 * Splits `registry:5000/team/app:1.2@sha256:...`. The tag is what follows the last `:` after the
 * last `/`, so a registry port is never mistaken for a tag.
 */
export function parseImageReference(reference: string): ImageReference {
  let rest = reference.trim();
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  let tag: string | undefined;
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { name: rest, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

export function formatImageReference(reference: ImageReference): string {
  return `${reference.name}${reference.tag !== undefined ? `:${reference.tag}` : ""}${reference.digest !== undefined ? `@${reference.digest}` : ""}`;
}

const NAME = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*$/i;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+([+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

export function isImageName(name: string): boolean {
  return NAME.test(name);
}

export function isImageTag(tag: string): boolean {
  return TAG.test(tag);
}

export function isImageDigest(digest: string): boolean {
  return DIGEST.test(digest);
}

/** Why a reference cannot be written into a manifest, or undefined when it can. */
export function invalidReferenceReason(reference: ImageReference): string | undefined {
  if (!isImageName(reference.name)) return `"${reference.name}" is not a valid image name`;
  if (reference.tag !== undefined && !isImageTag(reference.tag)) return `"${reference.tag}" is not a valid image tag`;
  if (reference.digest !== undefined && !isImageDigest(reference.digest)) return `"${reference.digest}" is not a valid digest (sha256:<hex>)`;
  return undefined;
}
