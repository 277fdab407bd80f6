// Image references as Docker and Kubernetes read them (distribution's reference grammar):
// `[registry[:port]/]path[:tag][@digest]`, where a name without a registry is on Docker Hub and
// a single-component Docker Hub name is an official image under `library/`.

export const DOCKER_HUB = "docker.io";
const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"]);
/** Where Docker Hub's v2 API actually lives. */
const DOCKER_HUB_API = "registry-1.docker.io";

export interface ImageReference {
  /** Registry host with port, e.g. `docker.io`, `ghcr.io`, `localhost:5000`, `[::1]:5000`. */
  registry: string;
  /** Repository path, e.g. `library/nginx`, `fluxcd/source-controller`. */
  repository: string;
  tag?: string;
  digest?: string;
}

export class ImageReferenceError extends Error {
  constructor(
    readonly reference: string,
    reason: string,
  ) {
    super(`invalid image reference ${JSON.stringify(reference)}: ${reason}`);
    this.name = "ImageReferenceError";
  }
}

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
// eslint-disable-next-line no-restricted-syntax -- built from the constant above, no user text
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const MAX_NAME_LENGTH = 255;

/** Parses `nginx`, `nginx:1.25`, `ghcr.io/org/app@sha256:...`, `localhost:5000/app:v1`... */
export function parseImageReference(text: string): ImageReference {
  const fail = (reason: string): never => {
    throw new ImageReferenceError(text, reason);
  };
  if (text === "") fail("it is empty");
  if (text !== text.trim()) fail("it has leading or trailing whitespace");

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) fail(`digest ${JSON.stringify(digest)} is not of the form sha256:<hex>`);
    if (digest.startsWith("sha256:") && !/^sha256:[0-9a-f]{64}$/.test(digest)) fail("a sha256 digest has 64 lowercase hex digits");
  }

  // A colon after the last slash starts the tag; earlier colons belong to the registry's port.
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.indexOf(":", lastSlash + 1);
  if (colon !== -1) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) fail(`tag ${JSON.stringify(tag)} is invalid: up to 128 letters, digits, '_', '.', '-', not starting with '.' or '-'`);
  }

  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf("/");
  const first = slash === -1 ? "" : rest.slice(0, slash);
  // Docker's rule: the first component is a registry only if it looks like a host.
  if (slash !== -1 && (first.includes(".") || first.includes(":") || first === "localhost" || first !== first.toLowerCase())) {
    if (!DOMAIN.test(first)) fail(`registry ${JSON.stringify(first)} is not a valid host[:port]`);
    registry = DOCKER_HUB_ALIASES.has(first.toLowerCase()) ? DOCKER_HUB : first;
    repository = rest.slice(slash + 1);
  }
  if (repository === "") fail("the repository name is missing");
  for (const component of repository.split("/")) {
    if (!PATH_COMPONENT.test(component)) {
      fail(
        component !== component.toLowerCase()
          ? "repository names must be lowercase"
          : `path component ${JSON.stringify(component)} may only hold lowercase letters, digits and single separators (. _ __ -)`,
      );
    }
  }
  if (registry === DOCKER_HUB && !repository.includes("/")) repository = `library/${repository}`;
  if (`${registry}/${repository}`.length > MAX_NAME_LENGTH) fail(`the name is longer than ${MAX_NAME_LENGTH} characters`);

  const reference: ImageReference = { registry, repository };
  if (tag !== undefined) reference.tag = tag;
  if (digest !== undefined) reference.digest = digest;
  return reference;
}

/** The full name without tag or digest, e.g. `docker.io/library/nginx`. */
export function imageName(reference: ImageReference): string {
  return `${reference.registry}/${reference.repository}`;
}

export function formatImageReference(reference: ImageReference): string {
  return imageName(reference) + (reference.tag !== undefined ? `:${reference.tag}` : "") + (reference.digest !== undefined ? `@${reference.digest}` : "");
}

/** The host serving the registry's API (Docker Hub's is not docker.io). */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}

/**
 * The registry key under which credentials are stored: `https://index.docker.io/v1/`,
 * `registry-1.docker.io` and `docker.io` are all Docker Hub; schemes, paths and case are ignored.
 */
export function normalizeRegistryHost(key: string): string {
  const host = key
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, "")
    .replace(/\/.*$/, "")
    .toLowerCase();
  return DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

export function isValidDigest(digest: string): boolean {
  return DIGEST.test(digest);
}
