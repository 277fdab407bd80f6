import { removeCondition, setCondition } from "../api/conditions.ts";
import { IMAGE_POLICY_KIND, IMAGE_POLICY_RESOURCE, IMAGE_REPOSITORY_KIND, IMAGE_REPOSITORY_RESOURCE, ImageConditionReason, type ImagePolicy, type ImagePolicyStatus, type ImageRef, type ImageRepository } from "../api/image-types.ts";
import { fjordResourcePath } from "../api/paths.ts";
import { ConditionReason, ConditionType } from "../api/types.ts";
import { compileTagPolicy, selectTag, TagPolicyError, type CompiledTagPolicy } from "../image/policy/index.ts";
import { createRegistryClient, RegistryError } from "../image/registry/index.ts";
import type { KubeClient } from "../kube/client.ts";
import { isNotFound } from "../kube/errors.ts";
import { parseDuration } from "../util/duration.ts";
import type { EventRecorder } from "./events.ts";
import { registryOptionsFor, RegistryAccessError } from "./image-registry-access.ts";
import { tagStoreKey } from "./image-repository-reconciler.ts";
import { failureChanged, readyOf, subjectOf, writeStatus } from "./image-status.ts";
import { ACCESS_DENIED_REASON, Tenancy } from "./tenancy.ts";
import type { ImageTagStore } from "./image-tag-store.ts";

export interface ImagePolicyOutcome {
  ready: boolean;
  requeueAfterMs?: number;
  /** latestRef moved: automations of the namespace should write it to Git. */
  latestChanged: boolean;
}

export interface ImagePolicyOptions {
  tags: ImageTagStore;
  events?: EventRecorder;
  /** Whether an ImageRepository of another namespace may be used (default: no). */
  tenancy?: Tenancy;
  now?: () => Date;
}

class PolicyFailure extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly stalled = false,
  ) {
    super(message);
  }
}

export const sameRef = (a: ImageRef | undefined, b: ImageRef | undefined) => a?.name === b?.name && a?.tag === b?.tag && a?.digest === b?.digest;

/**
 * Picks the latest tag of the referenced ImageRepository's last scan. Runs whenever that scan
 * found other tags (the controller queues it) and at the repository's interval; nothing is
 * written when the answer is the same. When no tag qualifies, Ready says at which filter they
 * fell out and latestRef keeps the last good choice, so Git is never rolled back by a bad filter.
 */
export async function reconcileImagePolicy(client: KubeClient, policy: ImagePolicy, options: ImagePolicyOptions): Promise<ImagePolicyOutcome> {
  const now = options.now ?? (() => new Date());
  const { generation, namespace } = policy.metadata;
  const status: ImagePolicyStatus = { ...policy.status };
  const previousReady = readyOf(status.conditions);
  const repositoryNamespace = policy.spec.imageRepositoryRef.namespace ?? namespace;
  const repositoryName = policy.spec.imageRepositoryRef.name;
  const repositoryLabel = `ImageRepository ${repositoryNamespace}/${repositoryName}`;
  let requeueAfterMs: number | undefined;

  try {
    const refused = (options.tenancy ?? new Tenancy()).refuseReference(
      { kind: IMAGE_POLICY_KIND, namespace, name: policy.metadata.name },
      "spec.imageRepositoryRef",
      { kind: IMAGE_REPOSITORY_KIND, namespace: repositoryNamespace, name: repositoryName },
      "source",
    );
    if (refused) throw new PolicyFailure(ACCESS_DENIED_REASON, refused, true);
    let compiled: CompiledTagPolicy;
    try {
      // The repository's exclusion list was applied when it was scanned.
      compiled = compileTagPolicy({ policy: policy.spec.policy, ...(policy.spec.filterTags ? { filterTags: policy.spec.filterTags } : {}), ...(policy.spec.glob ? { glob: policy.spec.glob } : {}), exclusionList: [] });
    } catch (error) {
      if (error instanceof TagPolicyError) throw new PolicyFailure(ImageConditionReason.InvalidSpec, `invalid policy: ${error.message}`, true);
      throw error;
    }
    const repository = await client.request<ImageRepository>("GET", fjordResourcePath(IMAGE_REPOSITORY_RESOURCE, repositoryNamespace, repositoryName)).catch((error: unknown) => {
      if (isNotFound(error)) throw new PolicyFailure(ImageConditionReason.ImageRepositoryNotReady, `${repositoryLabel} not found`);
      throw error;
    });
    requeueAfterMs = parseDuration(repository.spec.interval);
    const repositoryReady = readyOf(repository.status?.conditions);
    if (repositoryReady?.status !== "True") {
      throw new PolicyFailure(ImageConditionReason.ImageRepositoryNotReady, `${repositoryLabel} is not ready: ${repositoryReady?.message ?? "not scanned yet"}`);
    }
    const tags = options.tags.get(tagStoreKey(repositoryNamespace, repositoryName));
    // Ready from before a controller restart: the start-up scan is on its way and will queue this policy.
    if (tags === undefined) return { ready: previousReady?.status === "True", latestChanged: false };

    const selection = selectTag(tags, compiled);
    if (!selection.ok) throw new PolicyFailure(ImageConditionReason.NoMatchingTag, `no tag of ${repositoryLabel} qualifies: ${selection.reason}`);
    // The name as the repository spells it (`nginx`, not `docker.io/library/nginx`): it is what gets written into manifests.
    const latest: ImageRef = { name: repository.spec.image.trim(), tag: selection.tag };
    const digest = await reflectDigest(client, policy, repository, latest, status.latestRef);
    if (digest !== undefined) latest.digest = digest;

    const changed = !sameRef(latest, status.latestRef);
    const shown = `${latest.name}:${latest.tag}${latest.digest ? `@${latest.digest}` : ""}`;
    let conditions = setCondition(status.conditions, { type: ConditionType.Ready, status: "True", reason: ConditionReason.ReconciliationSucceeded, message: `latest image is ${shown}` }, generation, now());
    conditions = removeCondition(removeCondition(conditions, ConditionType.Stalled), ConditionType.Reconciling);
    const previousRef = changed ? status.latestRef : status.observedPreviousRef;
    await writeStatus(client, IMAGE_POLICY_RESOURCE, policy, { observedGeneration: generation, conditions, latestRef: latest, ...(previousRef ? { observedPreviousRef: previousRef } : {}) });
    if (changed) {
      const from = status.latestRef ? ` (was ${status.latestRef.tag})` : "";
      await options.events?.record(subjectOf(policy), "Normal", "NewImageSelected", `selected ${shown}${from}`);
    } else if (previousReady?.status === "False") {
      await options.events?.record(subjectOf(policy), "Normal", ConditionReason.ReconciliationSucceeded, `latest image is ${shown} again`);
    }
    return { ready: true, ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}), latestChanged: changed };
  } catch (error) {
    if (!(error instanceof PolicyFailure)) throw error;
    let conditions = setCondition(status.conditions, { type: ConditionType.Ready, status: "False", reason: error.reason, message: error.message }, generation, now());
    conditions = error.stalled
      ? setCondition(conditions, { type: ConditionType.Stalled, status: "True", reason: error.reason, message: error.message }, generation, now())
      : removeCondition(conditions, ConditionType.Stalled);
    await writeStatus(client, IMAGE_POLICY_RESOURCE, policy, { ...status, observedGeneration: generation, conditions });
    if (failureChanged(previousReady, error.message)) await options.events?.record(subjectOf(policy), "Warning", error.reason, error.message);
    // Not ready any more is news for the automations too: they stop writing this policy.
    return { ready: false, ...(requeueAfterMs !== undefined && !error.stalled ? { requeueAfterMs } : {}), latestChanged: previousReady?.status === "True" };
  }
}

/** The digest to record, per digestReflectionPolicy; undefined for Never. */
async function reflectDigest(client: KubeClient, policy: ImagePolicy, repository: ImageRepository, latest: ImageRef, previous: ImageRef | undefined): Promise<string | undefined> {
  const mode = policy.spec.digestReflectionPolicy ?? "Never";
  if (mode === "Never") return undefined;
  if (mode === "IfNotPresent" && previous?.digest && previous.name === latest.name && previous.tag === latest.tag) return previous.digest;
  try {
    const registry = createRegistryClient(await registryOptionsFor(client, repository.metadata.namespace, repository.spec));
    try {
      return (await registry.resolveDigest(latest.name, latest.tag)).digest;
    } finally {
      registry.close();
    }
  } catch (error) {
    if (error instanceof RegistryError || error instanceof RegistryAccessError) {
      throw new PolicyFailure(ImageConditionReason.DigestFailed, `selected ${latest.name}:${latest.tag} but could not resolve its digest: ${error.message}`);
    }
    throw error;
  }
}
