/** The Git source: resolves a ref on a remote repository and checks the commit out through a local cache. */
export { checkout, resolveRevision } from "./checkout.ts";
export { confinedPath } from "./confined-path.ts";
export { GitError, GitSourceError, isGitCancellation, type GitSourceErrorCode } from "./errors.ts";
export { defaultGitCacheDir } from "./cache.ts";
export type { Checkout, GitAuth, GitRef, GitSourceOptions, PathFilter, Revision } from "./types.ts";
