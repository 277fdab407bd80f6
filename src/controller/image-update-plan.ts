import { isReady } from "../api/conditions.ts";
import type { ImagePolicy, ImageRef, ImageUpdateAutomation } from "../api/image-types.ts";
import type { GitRepository } from "../api/types.ts";
import type { LatestImage, UpdateError } from "../image/update/index.ts";

export interface PolicyInputs {
  /** `namespace:name` -> latest image, for the Ready policies only. */
  latest: Map<string, LatestImage>;
  /** `namespace:name` -> why the policy is not ready, so a marker naming it says so. */
  notReady: Map<string, string>;
  /** By name, for `status.observedPolicies`. */
  observed: Record<string, ImageRef>;
}

/** Ready policies (for their current generation) with a latest image are written; the others are reported. */
export function policyInputs(policies: readonly ImagePolicy[]): PolicyInputs {
  const inputs: PolicyInputs = { latest: new Map(), notReady: new Map(), observed: {} };
  for (const policy of [...policies].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const key = `${policy.metadata.namespace}:${policy.metadata.name}`;
    const ref = policy.status?.latestRef;
    if (ref && isReady(policy.status?.conditions, policy.metadata.generation)) {
      inputs.latest.set(key, { image: ref.name, tag: ref.tag, ...(ref.digest ? { digest: ref.digest } : {}) });
      inputs.observed[policy.metadata.name] = ref;
    } else {
      const ready = policy.status?.conditions?.find((condition) => condition.type === "Ready");
      inputs.notReady.set(key, ready?.status === "False" ? ready.message : "not reconciled yet");
    }
  }
  return inputs;
}

/** A marker naming an existing but not ready policy says why, instead of "does not exist". */
export function explainMarkerErrors(errors: readonly UpdateError[], notReady: ReadonlyMap<string, string>): UpdateError[] {
  return errors.map((error) => {
    const named = /^marker names image policy "([^"]+)", which does not exist$/.exec(error.message)?.[1];
    const why = named === undefined ? undefined : notReady.get(named);
    return why === undefined ? error : { ...error, message: `marker names image policy "${named}", which is not ready: ${why}` };
  });
}

/** Errors of one file found twice (the marker pass and the Flux v1 pass both parse it) count once. */
export function uniqueErrors(errors: readonly UpdateError[]): UpdateError[] {
  const seen = new Set<string>();
  return errors.filter((error) => {
    const key = `${error.file}:${error.line ?? ""}:${error.message.replace(/, left untouched/, "")}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function formatUpdateError(error: UpdateError): string {
  return `${error.file}${error.line !== undefined ? `:${error.line}` : ""}: ${error.message}`;
}

/**
 * The branch to start from: the automation's checkout branch, else the GitRepository's branch,
 * else the default branch its artifact was resolved from. A tag, semver or bare commit cannot
 * take a push, so those need an explicit checkout branch.
 */
export function checkoutBranch(automation: ImageUpdateAutomation, source: GitRepository): string | { error: string } {
  const explicit = automation.spec.git.checkout?.ref.branch;
  if (explicit) return explicit;
  const ref = source.spec.ref;
  if (ref && "branch" in ref && ref.branch) return ref.branch;
  if (ref && Object.keys(ref).length > 0) {
    return { error: `GitRepository ${source.metadata.namespace}/${source.metadata.name} checks out ${JSON.stringify(ref)}, not a branch; set git.checkout.ref.branch` };
  }
  const fromArtifact = /^(.+)@sha1:[0-9a-f]+$/.exec(source.status?.artifact?.revision ?? "")?.[1];
  if (fromArtifact) return fromArtifact;
  return { error: `GitRepository ${source.metadata.namespace}/${source.metadata.name} has no artifact yet to learn its default branch from; set git.checkout.ref.branch` };
}
