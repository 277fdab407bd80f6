/**
 * The Receiver kind, reconciled by the manager like every other kind: its token is read from
 * the Secret spec.secretRef names (by name, in the Receiver's namespace), its path derived as
 * Flux does and written to status.webhookPath, and the Receiver put in the table of routes the
 * webhook server reads per request. A verified delivery queues the listed resources through the
 * manager (no write to the API server, no extra RBAC): a GitRepository fetches, an Application
 * syncs, an ImageRepository scans. The token stays in memory; never in a status, log or Event.
 */
import { isReady, setCondition } from "../api/conditions.ts";
import { fjordResourcePath } from "../api/paths.ts";
import { handledRequest } from "../api/reconcile-request.ts";
import { RECEIVER_KIND, RECEIVER_RESOURCE, RECEIVER_TARGET_KINDS, RECEIVER_WEBHOOK_PREFIX, receiverWebhookPath, type Receiver, type ReceiverResource, type ReceiverRoute } from "../api/receiver-types.ts";
import { ConditionType } from "../api/types.ts";
import type { KubeClient } from "../kube/client.ts";
import { isNotFound } from "../kube/errors.ts";
import type { KubeObject } from "../model/object.ts";
import { parseDuration } from "../util/duration.ts";
import { readReferencedSecret, SecretReferenceError } from "./referenced-secret.ts";
import { objectKey, type Reconciler } from "./runtime/reconciler.ts";
import { reportOf } from "./runtime/report.ts";
import { patchStatus } from "./runtime/status-patch.ts";
import { ACCESS_DENIED_REASON, type Tenancy } from "./tenancy.ts";

export interface ReceiverOptions {
  client: KubeClient;
  tenancy: Tenancy;
  /** The watch cache of a kind: what `*` with matchLabels is matched against, and what exists. */
  caches: (kind: string) => Map<string, KubeObject>;
  enqueue: (kind: string, namespace: string, name: string) => void;
}

/** Ready reasons of a Receiver (Flux's where it has one). */
export const ReceiverReason = { Succeeded: "Succeeded", SecretNotFound: "SecretNotFound", InvalidSecret: "InvalidSecret", InvalidResource: "InvalidResource", AccessDenied: ACCESS_DENIED_REASON, Suspended: "Suspended" } as const;

const DEFAULT_INTERVAL = "10m";

class ReceiverConfigError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    /** Waits for a new spec (stalled) rather than being retried (a Secret may yet appear). */
    readonly stalled: boolean,
  ) {
    super(message);
  }
}

/** Whether `labels` carry every one of `wanted`. */
function labelsMatch(labels: Record<string, string> | undefined, wanted: Record<string, string> | undefined): boolean {
  return Object.entries(wanted ?? {}).every(([key, value]) => labels?.[key] === value);
}

export class ReceiverTable {
  /** Served Receivers by `namespace/name`. */
  private readonly routes = new Map<string, ReceiverRoute>();

  constructor(private readonly options: ReceiverOptions) {}

  /** What the webhook route serves now. */
  served(): Iterable<ReceiverRoute> {
    return this.routes.values();
  }

  reconciler(): Reconciler<Receiver> {
    return {
      kind: RECEIVER_KIND,
      watchPaths: [fjordResourcePath(RECEIVER_RESOURCE)],
      objectPath: (namespace, name) => fjordResourcePath(RECEIVER_RESOURCE, namespace, name),
      reconcile: (receiver) => this.reconcile(receiver),
      deleted: (receiver) => void this.routes.delete(`${receiver.metadata.namespace}/${receiver.metadata.name}`),
    };
  }

  /** Queues every resource `receiver` lists that exists (is in its kind's watch cache); returns how many. */
  trigger(namespace: string, resources: readonly ReceiverResource[]): number {
    let queued = 0;
    for (const resource of resources) {
      const resourceNamespace = resource.namespace ?? namespace;
      const cache = this.options.caches(resource.kind);
      const names =
        resource.name === "*"
          ? [...cache.values()].filter((object) => object.metadata.namespace === resourceNamespace && labelsMatch(object.metadata.labels, resource.matchLabels)).map((object) => object.metadata.name ?? "")
          : cache.has(objectKey(resource.kind, resourceNamespace, resource.name)) ? [resource.name] : [];
      for (const name of names) {
        this.options.enqueue(resource.kind, resourceNamespace, name);
        queued++;
      }
    }
    return queued;
  }

  private refusal(receiver: Receiver): ReceiverConfigError | undefined {
    const { namespace, name } = receiver.metadata;
    for (const [index, resource] of receiver.spec.resources.entries()) {
      if (!(RECEIVER_TARGET_KINDS as readonly string[]).includes(resource.kind)) {
        return new ReceiverConfigError(ReceiverReason.InvalidResource, `spec.resources[${index}].kind ${resource.kind} cannot be reconciled by a Receiver: use ${RECEIVER_TARGET_KINDS.join(", ")}`, true);
      }
      const to = { kind: resource.kind, namespace: resource.namespace ?? namespace, name: resource.name };
      // Triggering reads nothing of the target: refused only where every cross-namespace reference is (Flux's rule).
      const refused = this.options.tenancy.refuseReference({ kind: RECEIVER_KIND, namespace, name }, `spec.resources[${index}]`, to, "status");
      if (refused) return new ReceiverConfigError(ReceiverReason.AccessDenied, refused, true);
    }
    return undefined;
  }

  private async token(receiver: Receiver): Promise<string> {
    const { namespace } = receiver.metadata;
    const secretName = receiver.spec.secretRef.name;
    const secret = await readReferencedSecret<{ data?: Record<string, string> }>(this.options.client, namespace, secretName).catch((error: unknown) => {
      if (isNotFound(error)) throw new ReceiverConfigError(ReceiverReason.SecretNotFound, `Secret ${secretName} not found in namespace ${namespace}: create it with the shared secret in key token`, false);
      if (error instanceof SecretReferenceError) throw new ReceiverConfigError(ReceiverReason.InvalidSecret, error.message, true);
      throw error;
    });
    const encoded = secret.data?.["token"];
    // Used as stored, not trimmed: the path must be the one Flux derives from the same Secret.
    const token = encoded === undefined ? "" : Buffer.from(encoded, "base64").toString("utf8");
    if (token.length === 0) throw new ReceiverConfigError(ReceiverReason.InvalidSecret, `Secret ${namespace}/${secretName} has no key token (or it is empty): put the shared secret there`, false);
    return token;
  }

  private async reconcile(receiver: Receiver) {
    const { namespace, name, generation, uid } = receiver.metadata;
    const id = `${namespace}/${name}`;
    const object = { kind: RECEIVER_KIND, namespace, name, ...(uid ? { uid } : {}) };
    const wasReady = isReady(receiver.status?.conditions);
    let webhookPath: string | undefined;
    let ready: { status: "True" | "False"; reason: string; message: string };
    let failure: ReceiverConfigError | undefined;
    try {
      const refused = this.refusal(receiver);
      if (refused) throw refused;
      const token = await this.token(receiver);
      webhookPath = receiverWebhookPath(token, name, namespace);
      if (receiver.spec.suspend) {
        this.routes.delete(id);
        ready = { status: "True", reason: ReceiverReason.Suspended, message: "suspended: deliveries are answered as an unknown path" };
      } else {
        const resources = receiver.spec.resources;
        this.routes.set(id, { segment: webhookPath.slice(RECEIVER_WEBHOOK_PREFIX.length), type: receiver.spec.type, token, events: receiver.spec.events ?? [], id, trigger: () => this.trigger(namespace, resources) });
        ready = { status: "True", reason: ReceiverReason.Succeeded, message: `serving ${receiver.spec.type} deliveries at status.webhookPath` };
      }
    } catch (error) {
      this.routes.delete(id);
      if (!(error instanceof ReceiverConfigError)) throw error;
      failure = error;
      // The old path no longer answers: say so rather than show it as if it did.
      webhookPath = undefined;
      ready = { status: "False", reason: error.reason, message: error.message };
    }
    const status = {
      ...receiver.status,
      ...handledRequest(receiver),
      observedGeneration: generation ?? 0,
      webhookPath,
      conditions: setCondition(receiver.status?.conditions, { type: ConditionType.Ready, ...ready }, generation),
    };
    await patchStatus(this.options.client, fjordResourcePath(RECEIVER_RESOURCE, namespace, name), receiver.status, status);
    const result = failure ? (failure.stalled ? "stalled" : "failed") : "success";
    const report = reportOf({ object, result, reason: ready.reason, message: ready.message, ready: !failure, previousReady: wasReady, ...(failure ? { error: failure } : {}) });
    let intervalMs = parseDuration(DEFAULT_INTERVAL);
    try {
      intervalMs = parseDuration(receiver.spec.interval ?? DEFAULT_INTERVAL);
    } catch {
      // The CRD's pattern admits only durations; keep the default for anything else.
    }
    // The Secret is read again every interval: a rotated token gives a new path without touching the Receiver.
    return { report, intervalMs, retryMaxMs: 60_000 };
  }
}
