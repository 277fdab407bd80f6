/**
 * Which repository a commit status goes to, and the base of its host's API, from a repository
 * URL (a Provider's address, or the Application's GitRepository URL). Pure. The URL comes from
 * a tenant, so it is read strictly: only names made of letters, digits, `.`, `_` and `-` (no
 * percent-escapes, so no encoded slashes or dots), no `.` or `..` segments, exactly owner/repo
 * where the host has no deeper paths, and plain http only to a loopback host, since the request
 * carries the token. Errors never quote the URL: it may carry credentials.
 */
import type { CommitStatusType } from "../../api/notification-types.ts";
import { remoteUrlProblem } from "../../git/remote-url.ts";
import { repositoryLocation } from "../../git/repository-url.ts";
import { isLoopback } from "../../util/loopback.ts";

export interface CommitStatusRepository {
  type: CommitStatusType;
  /** The API's base URL, no trailing slash: `https://api.github.com`, `https://host/api/v4`... */
  apiBase: string;
  /** The path segments: owner and repository (GitLab: groups, subgroups and project). */
  segments: string[];
  /** `host/owner/repo`, for messages: no scheme, no credentials. */
  display: string;
  /** The repository's web address (Bitbucket's required `url` field). */
  webUrl: string;
}

export class CommitStatusAddressError extends Error {}

/** GitLab nests groups up to 20 deep; owner/repo elsewhere. */
const MAX_GITLAB_DEPTH = 21;
const SEGMENT = /^[A-Za-z0-9_.-]{1,100}$/;

function apiBaseOf(type: CommitStatusType, origin: string, hostname: string): string {
  switch (type) {
    case "github":
      // github.com has its API on a host of its own; GitHub Enterprise Server under /api/v3.
      return hostname === "github.com" ? "https://api.github.com" : `${origin}/api/v3`;
    case "gitlab":
      return `${origin}/api/v4`;
    case "gitea":
      return `${origin}/api/v1`;
    case "bitbucket":
      // Bitbucket Cloud; another host (a proxy in front of it) serves the same paths under /2.0.
      return hostname === "bitbucket.org" ? "https://api.bitbucket.org/2.0" : `${origin}/2.0`;
  }
}

export function commitStatusRepository(type: CommitStatusType, repositoryUrl: string): CommitStatusRepository {
  // The rule GitRepository URLs follow (no remote helpers, local paths or options), then the parse.
  const location = remoteUrlProblem(repositoryUrl) === undefined ? repositoryLocation(repositoryUrl) : undefined;
  if (!location) throw new CommitStatusAddressError("the repository address is not an https://, http://, ssh:// or scp-like (git@host:owner/repo) URL");
  const { protocol, hostname, port } = location;
  if (protocol === "http" && !isLoopback(hostname)) {
    throw new CommitStatusAddressError(`the repository address uses plain http, which would send the API token unencrypted to ${hostname}; use https (http is accepted for loopback hosts only)`);
  }
  const segments = location.path.split("/");
  const bad = segments.find((segment) => !SEGMENT.test(segment) || segment === "." || segment === "..");
  if (bad !== undefined || location.path === "") {
    throw new CommitStatusAddressError(`the repository path on ${hostname} must be owner/repository, each part made of letters, digits, ".", "_" and "-" (no "..", no percent-escapes)`);
  }
  const expected = type === "gitlab" ? segments.length >= 2 && segments.length <= MAX_GITLAB_DEPTH : segments.length === 2;
  if (!expected) {
    throw new CommitStatusAddressError(
      type === "gitlab" ? `the repository path on ${hostname} must be group/project (subgroups allowed), not ${segments.length} part(s)` : `the repository path on ${hostname} must be exactly owner/repository for ${type}, not ${segments.length} part(s)`,
    );
  }
  // ssh and scp-like addresses name the ssh server; the API is the same host over https.
  const scheme = protocol === "http" ? "http" : "https";
  const host = hostname + (port && protocol !== "ssh" ? `:${port}` : "");
  const origin = `${scheme}://${host}`;
  return { type, apiBase: apiBaseOf(type, origin, hostname), segments, display: `${host}/${segments.join("/")}`, webUrl: `${origin}/${segments.join("/")}` };
}
