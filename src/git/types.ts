/**
 * What to check out. When a caller sets several fields at once (as a Flux GitRepository spec
 * may), `resolveRef` applies Flux's precedence: commit > name > semver > tag > branch.
 * - `branch`: a branch name (`main`), not a full ref.
 * - `tag`: a tag name (`v1.2.0`); annotated tags are peeled to their commit.
 * - `semver`: a range over the tags (`>=1.2.0 <2.0.0`, `1.x`, `~1.2`); the highest match wins.
 *   A leading `v` on tags is accepted; prereleases only match ranges that name one.
 * - `name`: any full ref (`refs/pull/7/head`, `refs/heads/x`, `refs/tags/v1`). A name without
 *   `refs/` is looked up as a branch and as a tag, and must be exactly one of them.
 * - `commit`: a full SHA; `branch` is a hint for servers that refuse fetching by SHA.
 */
export type GitRef =
  | { branch: string }
  | { tag: string }
  | { semver: string }
  | { name: string }
  | { commit: string; branch?: string };

/**
 * - `basic`: HTTPS basic auth.
 * - `token`: an HTTPS access token, sent as basic auth with `username` (default "git") and the
 *   token as password. GitHub and GitLab accept any username with a personal access token;
 *   Bitbucket wants `x-token-auth`, GitLab CI job tokens `gitlab-ci-token`.
 * - `ssh`: an unencrypted private key (OpenSSH or PEM format) and the known_hosts lines the
 *   server's host key must match; there is no fallback to trust-on-first-use.
 */
export type GitAuth =
  | { kind: "basic"; username: string; password: string }
  | { kind: "token"; token: string; username?: string }
  | { kind: "ssh"; privateKey: string; knownHosts: string; passphrase?: never };

export interface GitSourceOptions {
  /** https://, http://, ssh://, scp-like `git@host:path`; with `allowLocal` also file:// or a path. Credentials in an http(s) URL are used as basic auth when `auth` is absent. */
  url: string;
  /**
   * Also file:// URLs and local paths, for the one-shot CLI, which reads with its user's own
   * rights. Off by default: the controller would read its own disk (other teams' caches).
   */
  allowLocal?: boolean;
  /** Default: the remote's default branch (its HEAD). */
  ref?: GitRef;
  auth?: GitAuth;
  /** Budget for the whole operation (every git command in it), default 60 000. */
  timeoutMs?: number;
  /** Where the bare-repository cache lives; default `cacheRoot()/git`. */
  cacheDir?: string;
  /** Called with human-readable progress, e.g. while waiting for another process's lock. */
  progress?: (message: string) => void;
  /** Cancels the operation: the running git is killed at once and the call rejects with code `aborted`. */
  signal?: AbortSignal;
  /** checkout only: files (and whole directories) it matches are not written, as a GitRepository's `spec.ignore` wants. */
  ignore?: PathFilter;
}

export interface Revision {
  /** The URL without credentials. */
  url: string;
  /** The ref the commit was found through (`refs/heads/main`, `refs/tags/v1.2.0`); for a commit without a branch, the SHA itself. */
  ref: string;
  commit: string;
  author: { name: string; email: string };
  /** Who made the commit (differs from the author after a rebase, a cherry-pick or a bot's merge). */
  committer?: { name: string; email: string };
  /** Author date, strict ISO 8601 with the author's UTC offset (`2024-05-06T07:08:09+02:00`). */
  date: string;
  /** The full commit message, without the trailing newline. */
  message: string;
}

export interface Checkout extends Revision {
  /** A fresh directory holding exactly the commit's files (no `.git`); symlinks are kept as symlinks. */
  dir: string;
  /** Removes `dir`. Safe to call more than once. */
  dispose(): Promise<void>;
}

/** Which paths to leave out of a checkout; `path` is relative to the repository root, with `/` between names. */
export interface PathFilter {
  ignores(path: string, isDirectory: boolean): boolean;
}
