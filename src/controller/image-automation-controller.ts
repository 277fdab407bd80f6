import { IMAGE_POLICY_KIND, IMAGE_POLICY_RESOURCE, IMAGE_REPOSITORY_KIND, IMAGE_REPOSITORY_RESOURCE, IMAGE_UPDATE_AUTOMATION_KIND, IMAGE_UPDATE_AUTOMATION_RESOURCE, type ImagePolicy, type ImageRepository, type ImageUpdateAutomation } from "../api/image-types.ts";
import type { KubeClient } from "../kube/client.ts";
import type { KubeObject } from "../model/object.ts";
import type { EventRecorder } from "./events.ts";
import type { ReconcileOutcome } from "./git-repository-reconciler.ts";
import { reconcileImagePolicy } from "./image-policy-reconciler.ts";
import { reconcileImageRepository, tagStoreKey } from "./image-repository-reconciler.ts";
import { ImageCreatedCache, ImageTagStore } from "./image-tag-store.ts";
import { reconcileImageUpdateAutomation } from "./image-update-reconciler.ts";
import type { Tenancy } from "./tenancy.ts";

/** One watched kind of the controller: its REST resource, its watch cache and its reconciler. */
export interface KindHandler {
  kind: string;
  resource: string;
  cache: Map<string, KubeObject>;
  reconcile(object: KubeObject, signal: AbortSignal): Promise<ReconcileOutcome>;
  deleted?(object: KubeObject): void;
}

export interface ImageAutomationContext {
  client: KubeClient;
  events: EventRecorder;
  /** Queues a reconcile of one object now. */
  enqueue(kind: string, namespace: string, name: string): void;
  labelSelector?: string;
  tenancy?: Tenancy;
}

/**
 * The image automation kinds and how they chain: a scan that finds other tags queues the
 * ImagePolicies of that repository, and a policy whose latest image moves queues the
 * ImageUpdateAutomations of its namespace, so a new tag reaches Git within one scan interval.
 */
export function imageAutomationHandlers(context: ImageAutomationContext): KindHandler[] {
  const tags = new ImageTagStore();
  const created = new ImageCreatedCache();
  const repositories = new Map<string, KubeObject>();
  const policies = new Map<string, KubeObject>();
  const automations = new Map<string, KubeObject>();
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
      resource: IMAGE_REPOSITORY_RESOURCE,
      cache: repositories,
      async reconcile(object) {
        const repository = object as ImageRepository;
        const outcome = await reconcileImageRepository(client, repository, { tags, events });
        if (outcome.policiesAffected) queuePoliciesOf(repository.metadata.namespace, repository.metadata.name);
        return outcome;
      },
      deleted(object) {
        const { namespace = "", name = "" } = object.metadata;
        tags.delete(tagStoreKey(namespace, name));
        queuePoliciesOf(namespace, name);
      },
    },
    {
      kind: IMAGE_POLICY_KIND,
      resource: IMAGE_POLICY_RESOURCE,
      cache: policies,
      async reconcile(object) {
        const policy = object as ImagePolicy;
        const outcome = await reconcileImagePolicy(client, policy, { tags, events, ...(context.tenancy ? { tenancy: context.tenancy } : {}) });
        if (outcome.latestChanged) queueAutomationsIn(policy.metadata.namespace);
        return outcome;
      },
    },
    {
      kind: IMAGE_UPDATE_AUTOMATION_KIND,
      resource: IMAGE_UPDATE_AUTOMATION_RESOURCE,
      cache: automations,
      reconcile: (object, signal) =>
        reconcileImageUpdateAutomation(client, object as ImageUpdateAutomation, {
          tags,
          created,
          events,
          signal,
          ...(context.labelSelector ? { labelSelector: context.labelSelector } : {}),
          ...(context.tenancy ? { tenancy: context.tenancy } : {}),
        }),
    },
  ];
}
