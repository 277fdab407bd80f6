import { removeCondition, setCondition, formatTime } from "../api/conditions.ts";
import { IMAGE_REPOSITORY_RESOURCE, ImageConditionReason, LATEST_TAGS_LIMIT, type ImageRepository, type ImageRepositoryStatus } from "../api/image-types.ts";
import { ConditionReason, ConditionType } from "../api/types.ts";
import { compileTagPolicy, TagPolicyError } from "../image/policy/index.ts";
import { createRegistryClient, imageName, ImageReferenceError, parseImageReference, RegistryError } from "../image/registry/index.ts";
import type { KubeClient } from "../kube/client.ts";
import { parseDuration } from "../util/duration.ts";
import type { UserPattern } from "../util/user-pattern.ts";
import type { EventRecorder } from "./events.ts";
import { registryOptionsFor, RegistryAccessError } from "./image-registry-access.ts";
import { failureChanged, readyOf, subjectOf, writeStatus } from "./image-status.ts";
import type { ImageTagStore } from "./image-tag-store.ts";

export interface ImageRepositoryOutcome {
  ready: boolean;
  requeueAfterMs?: number;
  /** The policies using this repository have something new to look at: other tags, or a change of readiness. */
  policiesAffected: boolean;
}

export const tagStoreKey = (namespace: string, name: string) => `${namespace}/${name}`;

/** The canonical `registry/repository` of `spec.image`, which must name no tag or digest. */
export function canonicalImageName(image: string): string {
  const reference = parseImageReference(image);
  if (reference.tag !== undefined || reference.digest !== undefined) {
    throw new ImageReferenceError(image, "give the repository only, without a tag or digest; policies choose the tag");
  }
  return imageName(reference);
}

class SpecError extends Error {}

/**
 * One scan of an ImageRepository: list the registry's tags, drop excluded ones, and keep them in
 * the controller's tag store. A failed scan keeps the last good tags (policies go on using them)
 * and says why in Ready, never with a credential in it: registry errors are redacted at source.
 */
export async function reconcileImageRepository(
  client: KubeClient,
  repository: ImageRepository,
  options: { tags: ImageTagStore; events?: EventRecorder; now?: () => Date },
): Promise<ImageRepositoryOutcome> {
  const now = options.now ?? (() => new Date());
  const { generation, name, namespace } = repository.metadata;
  const status: ImageRepositoryStatus = { ...repository.status };
  const previousReady = readyOf(status.conditions);
  const subject = subjectOf(repository);

  if (repository.spec.suspend) {
    await writeStatus(client, IMAGE_REPOSITORY_RESOURCE, repository, { ...status, conditions: removeCondition(status.conditions, ConditionType.Reconciling) });
    return { ready: previousReady?.status === "True", policiesAffected: false };
  }
  const interval = parseDuration(repository.spec.interval);

  try {
    let canonical: string;
    let exclusions: readonly UserPattern[];
    try {
      canonical = canonicalImageName(repository.spec.image);
      exclusions = compileTagPolicy({ policy: { alphabetical: {} }, ...(repository.spec.exclusionList ? { exclusionList: repository.spec.exclusionList } : {}) }).exclusions;
    } catch (error) {
      if (error instanceof ImageReferenceError || error instanceof TagPolicyError) throw new SpecError(error.message);
      throw error;
    }
    const registry = createRegistryClient(await registryOptionsFor(client, namespace, repository.spec));
    let listed: string[];
    try {
      listed = await registry.listTags(canonical);
    } finally {
      registry.close();
    }
    const tags = listed.filter((tag) => !exclusions.some((exclusion) => exclusion.test(tag)));
    const tagsChanged = options.tags.set(tagStoreKey(namespace, name), tags);
    let conditions = setCondition(status.conditions, { type: ConditionType.Ready, status: "True", reason: ConditionReason.ReconciliationSucceeded, message: `successful scan: found ${tags.length} tags` }, generation, now());
    conditions = removeCondition(removeCondition(conditions, ConditionType.Reconciling), ConditionType.Stalled);
    await writeStatus(client, IMAGE_REPOSITORY_RESOURCE, repository, {
      observedGeneration: generation,
      conditions,
      canonicalImageName: canonical,
      lastScanResult: { tagCount: tags.length, scanTime: formatTime(now()), latestTags: [...tags].sort().reverse().slice(0, LATEST_TAGS_LIMIT) },
    });
    if (previousReady?.status === "False") await options.events?.record(subject, "Normal", ConditionReason.ReconciliationSucceeded, `scanning works again: found ${tags.length} tags`);
    return { ready: true, requeueAfterMs: interval, policiesAffected: tagsChanged || previousReady?.status !== "True" };
  } catch (error) {
    const failure = classify(error);
    if (!failure) throw error;
    let conditions = setCondition(status.conditions, { type: ConditionType.Ready, status: "False", reason: failure.reason, message: failure.message }, generation, now());
    conditions = failure.stalled
      ? setCondition(conditions, { type: ConditionType.Stalled, status: "True", reason: failure.reason, message: failure.message }, generation, now())
      : removeCondition(conditions, ConditionType.Stalled);
    await writeStatus(client, IMAGE_REPOSITORY_RESOURCE, repository, { ...status, observedGeneration: generation, conditions });
    if (failureChanged(previousReady, failure.message)) await options.events?.record(subject, "Warning", failure.reason, failure.message);
    return { ready: false, requeueAfterMs: interval, policiesAffected: previousReady?.status !== "False" };
  }
}

function classify(error: unknown): { reason: string; message: string; stalled: boolean } | undefined {
  if (error instanceof SpecError) return { reason: ImageConditionReason.InvalidSpec, message: error.message, stalled: true };
  if (error instanceof RegistryAccessError) return { reason: ImageConditionReason.CredentialsFailed, message: error.message, stalled: false };
  if (error instanceof RegistryError) return { reason: ImageConditionReason.ScanFailed, message: error.message, stalled: error.code === "insecure-refused" || error.code === "invalid-reference" };
  return undefined;
}
