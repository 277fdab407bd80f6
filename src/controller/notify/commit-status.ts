/**
 * A commit status for an Application's event, as each Git host's API documents it. Pure: the
 * request is built here and sent by the delivery queue like every other notification. The token
 * goes only into a header; the description is the event's reason and message, cut to a length
 * every host keeps, and the context names the cluster and the Application:
 * `fjord/<cluster>/<namespace>/<name>`.
 *
 * - GitHub: POST {api}/repos/{owner}/{repo}/statuses/{sha}, Bearer token,
 *   `application/vnd.github+json`, `X-GitHub-Api-Version`; state pending/success/failure.
 * - GitLab: POST /api/v4/projects/{url-encoded path}/statuses/{sha}, `PRIVATE-TOKEN`; state
 *   running/success/failed, the context as `name`.
 * - Gitea: POST /api/v1/repos/{owner}/{repo}/statuses/{sha}, `Authorization: token`; state
 *   pending/success/failure.
 * - Bitbucket Cloud: POST /2.0/repositories/{workspace}/{repo}/commit/{sha}/statuses/build,
 *   Basic `username:app-password`; state INPROGRESS/SUCCESSFUL/FAILED; `key` at most 40
 *   characters (a longer context is hashed), `name` the context, `url` required.
 */
import { createHash } from "node:crypto";
import { ConditionReason } from "../../api/types.ts";
import type { NotificationEvent } from "./events.ts";
import type { ProviderRequest } from "./payload.ts";
import type { CommitStatusRepository } from "./commit-status-repository.ts";

export type CommitState = "pending" | "success" | "failure";

/** The event reason of "an Application started applying a revision" (Flux's Progressing). */
export const PROGRESSING_REASON = "Progressing";

/** GitHub keeps 140 characters of a description; the others at least as many. */
export const MAX_DESCRIPTION = 140;
/** Context (GitHub, Gitea), name (GitLab, Bitbucket): 255 characters everywhere. */
export const MAX_CONTEXT = 255;
/** Bitbucket's build status key. */
export const MAX_BITBUCKET_KEY = 40;

export const DEFAULT_CLUSTER_NAME = "default";

/**
 * pending when an Application starts applying a revision, success when it applied it (and it is
 * healthy, when the Application waits), failure when it failed. Other events (drift reverted,
 * render warnings, waiting on a dependency) set nothing: they say nothing new about the commit.
 */
export function commitStateOf(event: NotificationEvent): CommitState | undefined {
  if (event.reason === PROGRESSING_REASON) return "pending";
  if (event.failure) return event.severity === "error" ? "failure" : undefined;
  if (event.reason === ConditionReason.ReconciliationSucceeded || event.reason === "Recovered") return "success";
  return undefined;
}

/** The commit of a revision (`main@sha1:<sha>`, `sha1:<sha>`, a bare SHA-1 or SHA-256), or undefined. */
export function commitOfRevision(revision: string | undefined): string | undefined {
  if (!revision) return undefined;
  const match = /(?:^|@)(?:sha1:|sha256:)?([0-9a-f]{40}|[0-9a-f]{64})$/.exec(revision);
  return match?.[1];
}

/** `fjord/<cluster>/<namespace>/<name>`; object names are DNS names, so it stays within 255 unless a cluster name is odd, which the flag refuses. */
export function statusContext(cluster: string, namespace: string, name: string): string {
  return `fjord/${cluster}/${namespace}/${name}`.slice(0, MAX_CONTEXT);
}

function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const characters = Array.from(flat);
  return characters.length <= max ? flat : `${characters.slice(0, max - 3).join("")}...`;
}

/** What a person reads beside the state: the reason and the first of the message. */
export function statusDescription(event: NotificationEvent): string {
  return truncate(event.reason === PROGRESSING_REASON || event.reason === ConditionReason.ReconciliationSucceeded ? event.message : `${event.reason}: ${event.message}`, MAX_DESCRIPTION);
}

/** Bitbucket's key: the context when it fits, else a hash of it (stable, so updates replace the status). */
export function bitbucketKey(context: string): string {
  return context.length <= MAX_BITBUCKET_KEY ? context : createHash("sha256").update(context).digest("hex").slice(0, MAX_BITBUCKET_KEY);
}

export interface CommitStatus {
  state: CommitState;
  sha: string;
  context: string;
  description: string;
}

const GITLAB_STATE: Record<CommitState, string> = { pending: "running", success: "success", failure: "failed" };
const BITBUCKET_STATE: Record<CommitState, string> = { pending: "INPROGRESS", success: "SUCCESSFUL", failure: "FAILED" };
export const GITHUB_API_VERSION = "2022-11-28";
const USER_AGENT = "fjord-controller";

/** Bitbucket's token is `username:app-password`; the others a bare token. */
export function commitStatusTokenProblem(type: CommitStatusRepository["type"], token: string | undefined): string | undefined {
  if (!token) return `type ${type} needs the token key in spec.secretRef (${type === "bitbucket" ? "username:app-password" : "an API token allowed to set commit statuses"})`;
  if (type === "bitbucket" && !/^[^:]+:.+$/.test(token)) return "type bitbucket needs the token key in the form username:app-password";
  if (/[\r\n]/.test(token)) return "the token key holds a line break";
  return undefined;
}

export function commitStatusRequest(repository: CommitStatusRepository, token: string, status: CommitStatus): ProviderRequest {
  const json = { "content-type": "application/json", "user-agent": USER_AGENT };
  const [owner = "", repo = ""] = repository.segments;
  const path = (...parts: string[]) => parts.map((part) => encodeURIComponent(part)).join("/");
  switch (repository.type) {
    case "github":
      return {
        url: `${repository.apiBase}/${path("repos", owner, repo, "statuses", status.sha)}`,
        headers: { ...json, accept: "application/vnd.github+json", authorization: `Bearer ${token}`, "x-github-api-version": GITHUB_API_VERSION },
        body: JSON.stringify({ state: status.state, context: status.context, description: status.description }),
      };
    case "gitlab":
      return {
        // The project is addressed by its full path, URL-encoded as one segment (group%2Fsub%2Fproject).
        url: `${repository.apiBase}/projects/${encodeURIComponent(repository.segments.join("/"))}/statuses/${encodeURIComponent(status.sha)}`,
        headers: { ...json, accept: "application/json", "private-token": token },
        body: JSON.stringify({ state: GITLAB_STATE[status.state], name: status.context, description: status.description }),
      };
    case "gitea":
      return {
        url: `${repository.apiBase}/${path("repos", owner, repo, "statuses", status.sha)}`,
        headers: { ...json, accept: "application/json", authorization: `token ${token}` },
        body: JSON.stringify({ state: status.state, context: status.context, description: status.description }),
      };
    case "bitbucket":
      return {
        url: `${repository.apiBase}/${path("repositories", owner, repo, "commit", status.sha, "statuses", "build")}`,
        headers: { ...json, accept: "application/json", authorization: `Basic ${Buffer.from(token, "utf8").toString("base64")}` },
        body: JSON.stringify({ key: bitbucketKey(status.context), state: BITBUCKET_STATE[status.state], name: status.context, description: status.description, url: repository.webUrl }),
      };
  }
}
