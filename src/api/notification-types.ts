/**
 * The notification kinds of the fjord API (group fjord.dev, v1alpha1), shaped like Flux's
 * notification-controller so its users and its receivers feel at home: a Provider says where
 * to send (a chat webhook, a generic JSON endpoint, optionally signed), an Alert says which
 * events of which objects go to which Provider. notification-crds.ts validates these shapes.
 */
import type { KubeObject, ObjectMeta } from "../model/object.ts";
import type { Condition } from "./types.ts";

export const PROVIDER_KIND = "Provider";
export const ALERT_KIND = "Alert";
export const PROVIDER_RESOURCE = "providers";
export const ALERT_RESOURCE = "alerts";

/** Providers that set a status on the commit an Application applied, on the repository's own host. */
export const COMMIT_STATUS_TYPES = ["github", "gitlab", "gitea", "bitbucket"] as const;
export type CommitStatusType = (typeof COMMIT_STATUS_TYPES)[number];

export const PROVIDER_TYPES = ["slack", "msteams", "discord", "googlechat", "telegram", "generic", "generic-hmac", ...COMMIT_STATUS_TYPES] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

export function isCommitStatusType(type: ProviderType): type is CommitStatusType {
  return (COMMIT_STATUS_TYPES as readonly string[]).includes(type);
}

export const EVENT_SEVERITIES = ["info", "error"] as const;
export type EventSeverity = (typeof EVENT_SEVERITIES)[number];

/** Bounds on what one Alert may hold, so a hostile tenant cannot make matching expensive. */
export const ALERT_LIMITS = { eventSources: 50, patterns: 25, summary: 255 } as const;

export interface ProviderSpec {
  type: ProviderType;
  /**
   * The webhook URL (or, for telegram, the API base); a secretRef's `address` key wins. For the
   * commit-status types, the repository's URL (https, http, ssh or scp-like); default: the URL of
   * the GitRepository the Application applied.
   */
  address?: string;
  channel?: string;
  username?: string;
  /** A Secret of the Provider's namespace: `address` (a webhook URL with its token), `token` (bot token, HMAC key, API token; bitbucket: `username:app-password`). */
  secretRef?: { name: string };
  /** Per-request budget, a duration such as 15s. */
  timeout?: string;
  /** An http:// proxy every request goes through (HTTPS receivers through a CONNECT tunnel). */
  proxy?: string;
  /** A Secret of the Provider's namespace whose `ca.crt` is trusted for the receiver (a private or self-signed CA). */
  certSecretRef?: { name: string };
  suspend?: boolean;
}

export interface ProviderStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  /** The last delivery that failed for good (after its retries): when and why; never a URL with its token. */
  lastFailure?: { time: string; message: string };
  /** The last delivery that reached the receiver. */
  lastDeliveryTime?: string;
}

export interface Provider extends KubeObject {
  metadata: ObjectMeta & { name: string; namespace: string };
  spec: ProviderSpec;
  status?: ProviderStatus;
}

export interface EventSource {
  kind: string;
  /** An object name; `*` matches any run of characters (`*` alone: every object of the kind). */
  name: string;
  /** Default: the Alert's namespace. An Alert only sees events of its own namespace. */
  namespace?: string;
  matchLabels?: Record<string, string>;
}

export interface AlertSpec {
  providerRef: { name: string };
  /** info: every event; error: failures only. */
  eventSeverity?: EventSeverity;
  eventSources: EventSource[];
  /** RE2 patterns; when set, an event's message must match one of them. */
  inclusionList?: string[];
  /** RE2 patterns; an event whose message matches one is dropped. */
  exclusionList?: string[];
  summary?: string;
  suspend?: boolean;
}

export interface AlertStatus {
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface Alert extends KubeObject {
  metadata: ObjectMeta & { name: string; namespace: string };
  spec: AlertSpec;
  status?: AlertStatus;
}
