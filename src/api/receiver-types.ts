/**
 * The Receiver kind of the fjord API (group fjord.dev, v1alpha1), shaped like Flux's
 * notification-controller Receiver with Flux's field names: a Git host or registry calls
 * `status.webhookPath` on the controller's webhook port, the delivery is verified with the token
 * of `spec.secretRef` the way `spec.type` says, and the listed `spec.resources` are reconciled
 * at once. receiver-crds.ts validates these shapes.
 */
import { createHash } from "node:crypto";
import type { KubeObject, ObjectMeta } from "../model/object.ts";
import type { Condition } from "./types.ts";

export const RECEIVER_KIND = "Receiver";
export const RECEIVER_RESOURCE = "receivers";

/** Git hosts first, then the registry types whose deliveries trigger ImageRepository scans. */
export const RECEIVER_TYPES = ["github", "gitlab", "gitea", "bitbucket", "generic", "generic-hmac", "dockerhub", "harbor", "quay", "cdevents"] as const;
export type ReceiverObjectType = (typeof RECEIVER_TYPES)[number];

/** The kinds a Receiver may ask to reconcile (a GitRepository fetches, an ImageRepository scans). */
export const RECEIVER_TARGET_KINDS = ["GitRepository", "Application", "ImageRepository"] as const;

/** Bounds on one Receiver, so a tenant cannot make a delivery expensive. */
export const RECEIVER_LIMITS = { resources: 50, events: 25, eventLength: 128 } as const;

/** Flux's prefix of every Receiver's path (`ReceiverWebhookPath`). */
export const RECEIVER_WEBHOOK_PREFIX = "/hook/";

export interface ReceiverResource {
  kind: string;
  /** An object name, or `*` with matchLabels: every object of the kind in the namespace carrying them. */
  name: string;
  /** Default: the Receiver's namespace. */
  namespace?: string;
  matchLabels?: Record<string, string>;
  /** Accepted for Flux manifests; fjord kinds need none. */
  apiVersion?: string;
}

export interface ReceiverSpec {
  type: ReceiverObjectType;
  /** Event names that trigger (GitHub X-GitHub-Event, GitLab X-Gitlab-Event, Gitea X-Gitea-Event, Bitbucket X-Event-Key, CDEvents Ce-Type); empty: any. */
  events?: string[];
  resources: ReceiverResource[];
  /** A Secret of the Receiver's namespace whose key `token` holds the shared secret. */
  secretRef: { name: string };
  /** How often the Secret is read again (a rotated token changes the path); default 10m, as Flux. */
  interval?: string;
  suspend?: boolean;
}

export interface ReceiverStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  /** The path to give the sender, on the controller's webhook port: `/hook/<sha256 hex>`. */
  webhookPath?: string;
  lastHandledReconcileAt?: string;
}

export interface Receiver extends KubeObject {
  metadata: ObjectMeta & { name: string; namespace: string };
  spec: ReceiverSpec;
  status?: ReceiverStatus;
}

/**
 * One served Receiver as the webhook route sees it: built by the controller from the object and
 * its Secret, read by the route per request (the two layers share only this shape).
 */
export interface ReceiverRoute {
  /** The path segment after `/hook/`: the hex SHA-256 of token, name and namespace (status.webhookPath). */
  segment: string;
  type: ReceiverObjectType;
  /** The Secret's `token`: HMAC key, header value, or only part of the path, per type. */
  token: string;
  /** spec.events; empty: every event triggers. */
  events: readonly string[];
  /** `namespace/name`, for logs (never the path, which is a credential for unsigned types). */
  id: string;
  /** Queues a reconcile of each resource the Receiver lists; how many were queued. */
  trigger(): number;
}

/**
 * Flux's derivation (Receiver.GetWebhookPath): `/hook/` + hex SHA-256 of token, name and
 * namespace concatenated. Existing senders configured for Flux keep their URL; a new token gives
 * a new path, and the path reveals nothing of the token.
 */
export function receiverWebhookPath(token: string, name: string, namespace: string): string {
  return `${RECEIVER_WEBHOOK_PREFIX}${createHash("sha256").update(token + name + namespace, "utf8").digest("hex")}`;
}
