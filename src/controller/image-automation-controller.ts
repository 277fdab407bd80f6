import { IMAGE_POLICY_KIND, IMAGE_POLICY_RESOURCE, IMAGE_REPOSITORY_KIND, IMAGE_REPOSITORY_RESOURCE, IMAGE_UPDATE_AUTOMATION_KIND, IMAGE_UPDATE_AUTOMATION_RESOURCE, type ImagePolicy, type ImageRepository, type ImageUpdateAutomation } from "../api/image-types.ts";
import { fjordResourcePath } from "../api/paths.ts";
import type { KubeClient } from "../kube/client.ts";
import type { KubeObject } from "../model/object.ts";
import type { EventRecorder } from "./events.ts";
import type { ReconcileOutcome, Reconciler } from "./runtime/reconciler.ts";
import { reportOf, type ReportedNotice } from "./runtime/report.ts";
import { reconcileImagePolicy } from "./image-policy-reconciler.ts";
import { reconcileImageRepository, tagStoreKey } from "./image-repository-reconciler.ts";
import { ImageCreatedCache, ImageTagStore } from "./image-tag-store.ts";
import { reconcileImageUpdateAutomation } from "./image-update-reconciler.ts";
import type { Tenancy } from "./tenancy.ts";

/** The image reconcilers' own outcome: ready or not, and when to look again. */
interface ImageOutcome {
  ready: boolean;
  requeueAfterMs?: number;
  /** The Ready condition's reason and message when not ready (default: a pointer to the condition). */
  failure?: { reason: string; message: string };
  notices?: readonly ReportedNotice[];
}

/**
 * An image reconciler's outcome as the manager's: not ready with a requeue time is a failure,
 * retried with backoff up to the interval; without one (suspended, stalled on its spec, waiting
 * for its repository's first scan) it is idle: what it waits for queues it.
 */
function asOutcome(kind: string, object: KubeObject, outcome: ImageOutcome): ReconcileOutcome {
  const { namespace = "", name = "", uid } = object.metadata;
  const conditions = (object as { status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> } }).status?.conditions;
  const previous = conditions?.find((condition) => condition.type === "Ready");
  return {
    report: reportOf({
      object: { kind, namespace, name, ...(uid ? { uid } : {}) },
      result: outcome.requeueAfterMs === undefined ? "idle" : outcome.ready ? "success" : "failed",
      reason: outcome.ready ? "ReconciliationSucceeded" : (outcome.failure?.reason ?? "ReconciliationFailed"),
      message: outcome.ready ? "reconciled" : (outcome.failure?.message ?? "not ready; see its Ready condition"),
      ready: outcome.ready,
      previousReady: previous?.status === "True",
      ...(previous?.reason ? { previousReason: previous.reason } : {}),
      ...(previous?.message !== undefined ? { previousMessage: previous.message } : {}),
      ...(outcome.notices?.length ? { notices: outcome.notices } : {}),
    }),
    ...(outcome.requeueAfterMs !== undefined ? { intervalMs: outcome.requeueAfterMs } : {}),
  };
}

/** Where the manager lists, watches and reads one image kind. */
function paths(resource: string): Pick<Reconciler, "watchPaths" | "objectPath"> {
  return { watchPaths: [fjordResourcePath(resource)], objectPath: (namespace, name) => fjordResourcePath(resource, namespace, name) };
}

export interface ImageAutomationContext {
  client: KubeClient;
  events: EventRecorder;
  /** Queues a reconcile of one object now. */
  enqueue(kind: string, namespace: string, name: string): void;
  /** The watch caches of the three kinds (the manager's), by kind. */
  caches(kind: string): Map<string, KubeObject>;
  labelSelector?: string;
  tenancy?: Tenancy;
}

/**
 * The image automation kinds and how they chain: a scan that finds other tags queues the
 * ImagePolicies of that repository, and a policy whose latest image moves queues the
 * ImageUpdateAutomations of its namespace, so a new tag reaches Git within one scan interval.
 */
export function imageAutomationReconcilers(context: ImageAutomationContext): Reconciler[] {
  const tags = new ImageTagStore();
  const created = new ImageCreatedCache();
  const policies = context.caches(IMAGE_POLICY_KIND);
  const automations = context.caches(IMAGE_UPDATE_AUTOMATION_KIND);
  const { client, events } = context;

  const queuePoliciesOf = (namespace: string, name: string) => {
    for (const object of policies.values()) {
      const policy = object as ImagePolicy;
      const ref = policy.spec.imageRepositoryRef;
      if (ref.name === name && (ref.namespace ?? policy.metadata.namespace) === namespace) context.enqueue(IMAGE_POLICY_KIND, policy.metadata.namespace, policy.metadata.name);
    }
  };
  const queueAutomationsIn = (namespace: string) => {
    for (const object of automations.values()) {
      if (object.metadata.namespace === namespace) context.enqueue(IMAGE_UPDATE_AUTOMATION_KIND, namespace, object.metadata.name ?? "");
    }
  };

  return [
    {
      kind: IMAGE_REPOSITORY_KIND,
      ...paths(IMAGE_REPOSITORY_RESOURCE),
      async reconcile(object) {
        const repository = object as ImageRepository;
        const outcome = await reconcileImageRepository(client, repository, { tags, events });
        if (outcome.policiesAffected) queuePoliciesOf(repository.metadata.namespace, repository.metadata.name);
        return asOutcome(IMAGE_REPOSITORY_KIND, object, outcome);
      },
      deleted(object) {
        const { namespace = "", name = "" } = object.metadata;
        tags.delete(tagStoreKey(namespace, name));
        queuePoliciesOf(namespace, name);
      },
    },
    {
      kind: IMAGE_POLICY_KIND,
      ...paths(IMAGE_POLICY_RESOURCE),
      async reconcile(object) {
        const policy = object as ImagePolicy;
        const outcome = await reconcileImagePolicy(client, policy, { tags, events, ...(context.tenancy ? { tenancy: context.tenancy } : {}) });
        if (outcome.latestChanged) queueAutomationsIn(policy.metadata.namespace);
        return asOutcome(IMAGE_POLICY_KIND, object, outcome);
      },
    },
    {
      kind: IMAGE_UPDATE_AUTOMATION_KIND,
      ...paths(IMAGE_UPDATE_AUTOMATION_RESOURCE),
      reconcile: async (object, signal) =>
        asOutcome(
          IMAGE_UPDATE_AUTOMATION_KIND,
          object,
          await reconcileImageUpdateAutomation(client, object as ImageUpdateAutomation, {
            tags,
            created,
            events,
            signal,
            ...(context.labelSelector ? { labelSelector: context.labelSelector } : {}),
            ...(context.tenancy ? { tenancy: context.tenancy } : {}),
          }),
        ),
    },
  ];
}
