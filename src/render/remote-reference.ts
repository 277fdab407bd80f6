/**
 * Whether a path in a kustomization makes kustomize fetch something over the network (a git
 * clone or an HTTP download) instead of reading the checkout. Errs on the side of "remote":
 * a false alarm costs a clear error, a miss would let a render depend on another repository.
 */

/** Any URL scheme: https://, http://, ssh://, file:// (a clone of a path outside the checkout), s3://... */
const URL_SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//;
/**
 * A known fetching scheme even without `//` (`http:127.0.0.1/x`, `FILE:/srv/repo`): Go's URL
 * parser takes those as URLs too.
 */
const FETCHING_SCHEME = /^(?:https?|file|ftp|git|ssh|s3|gcs|hg|oci|git\+ssh|ssh\+git|git\+https?|git\+file):/i;
/** go-getter forcing (git::, hg::, s3::) and kustomize's own gh: shorthand. */
const FORCED_GETTER = /^(?:[a-zA-Z0-9]+::|gh:)/;
/** scp-like git addresses: git@github.com:org/repo, user@host:path. */
const SCP_LIKE = /^[\w.-]+@[\w.-]+:/;
/** Hosts kustomize recognises without a scheme. */
const KNOWN_HOST = /^(?:github\.com|gitlab\.com|bitbucket\.org|dev\.azure\.com|[\w-]+\.visualstudio\.com)[/:]/i;
/** Marks only repository URLs carry: `?ref=`/`?version=` queries, `_git/` (Azure), `.git//` or `.git?`. */
const REPOSITORY_MARK = /\?(?:ref|version|timeout|submodules)=|(?:^|\/)_git\/|\.git(?:\/\/|\?|$)/;

export function isRemoteReference(reference: string): boolean {
  const value = reference.trim();
  return URL_SCHEME.test(value) || FETCHING_SCHEME.test(value) || FORCED_GETTER.test(value) || SCP_LIKE.test(value) || KNOWN_HOST.test(value) || REPOSITORY_MARK.test(value);
}

/**
 * A scheme-less host path like `example.com/org/repo/base` is remote only if no such local
 * path exists; the caller checks existence, this tells whether the shape fits.
 */
/** A `file:` URL: a clone or read of a path on the controller, outside the repository whatever it names. */
export function isFileUrl(reference: string): boolean {
  return /^(?:[a-z0-9]+::)?(?:git\+)?file:/i.test(reference.trim());
}

export function looksLikeHostPath(reference: string): boolean {
  return /^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\/[^/]+\/[^/]/i.test(reference.trim());
}
