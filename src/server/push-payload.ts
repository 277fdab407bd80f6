import { normaliseRepositoryUrl } from "../git/repository-url.ts";
import type { ReceiverType } from "./webhook-signatures.ts";
import { JsonInputError, parseBoundedJson } from "../input/json.ts";

/** What a push tells the controller: which repositories moved, which ref, to which commit. */
export interface PushEvent {
  /** Normalised with normaliseRepositoryUrl, without duplicates, in the payload's order. */
  repositoryUrls: string[];
  /** The full ref pushed, e.g. `refs/heads/main`. */
  ref: string | undefined;
  /** What the ref points to after the push; undefined when the ref was deleted or not given. */
  commit: string | undefined;
}

export class WebhookPayloadError extends Error {
  override name = "WebhookPayloadError";
}

/** Where each provider puts the repository's URLs: [object, field] pairs. */
const GITHUB_URL_FIELDS = [["repository", "clone_url"], ["repository", "ssh_url"], ["repository", "html_url"]] as const;
const GITLAB_URL_FIELDS = [
  ["project", "git_http_url"],
  ["project", "git_ssh_url"],
  ["project", "web_url"],
  // GitLab still sends its older `repository` object beside `project`.
  ["repository", "git_http_url"],
  ["repository", "git_ssh_url"],
] as const;
const GENERIC_URL_FIELDS = [...GITHUB_URL_FIELDS, ...GITLAB_URL_FIELDS, ["repository", "url"]] as const;

/** GitHub and GitLab send forty zeros as the new commit of a deleted ref. */
const NULL_COMMIT = /^0+$/;

/**
 * Decodes a delivery's body, after its signature was checked on the raw bytes. GitHub can be
 * set to send `application/x-www-form-urlencoded` with the JSON in a `payload` field.
 */
export function parseWebhookPayload(contentType: string | undefined, rawBody: Buffer): unknown {
  const mediaType = (contentType ?? "").split(";")[0]?.trim().toLowerCase();
  const json = mediaType === "application/x-www-form-urlencoded" ? new URLSearchParams(rawBody.toString("utf8")).get("payload") : rawBody.toString("utf8");
  if (json === null) throw new WebhookPayloadError("form-encoded delivery has no payload field");
  try {
    return parseBoundedJson(json, "payload");
  } catch (error) {
    if (error instanceof JsonInputError) throw new WebhookPayloadError(error.message);
    throw error;
  }
}

/**
 * Reads a push payload. Generic senders may use GitHub's or GitLab's shape, or the minimal
 * `{"repository": {"url": ...}, "ref": ..., "commit": ...}`.
 */
export function extractPushEvent(type: ReceiverType, payload: unknown): PushEvent {
  if (!isRecord(payload)) throw new WebhookPayloadError("payload is not a JSON object");
  const fields = type === "github" ? GITHUB_URL_FIELDS : type === "gitlab" ? GITLAB_URL_FIELDS : GENERIC_URL_FIELDS;
  const urls = fields.map(([object, field]) => stringAt(payload, object, field)).filter((url) => url !== undefined);
  const repositoryUrls = [...new Set(urls.map(normaliseRepositoryUrl))].filter((url) => url.length > 0);
  if (repositoryUrls.length === 0) throw new WebhookPayloadError("payload names no repository URL");
  return { repositoryUrls, ref: stringAt(payload, "ref"), commit: newCommit(type, payload) };
}

function newCommit(type: ReceiverType, payload: Record<string, unknown>): string | undefined {
  // GitLab's checkout_sha is the commit even for an annotated tag, where `after` is the tag object.
  const candidates =
    type === "github" ? [stringAt(payload, "after")]
    : type === "gitlab" ? [stringAt(payload, "checkout_sha"), stringAt(payload, "after")]
    : [stringAt(payload, "commit"), stringAt(payload, "checkout_sha"), stringAt(payload, "after")];
  const commit = candidates.find((candidate) => candidate !== undefined && candidate.length > 0);
  return commit === undefined || NULL_COMMIT.test(commit) ? undefined : commit;
}

function stringAt(value: Record<string, unknown>, ...path: string[]): string | undefined {
  let current: unknown = value;
  for (const key of path) {
    if (!isRecord(current) || !Object.hasOwn(current, key)) return undefined;
    current = current[key];
  }
  return typeof current === "string" ? current : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
