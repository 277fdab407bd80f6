/**
 * The rules that hold for every kind, checked before any kind-specific rule (as kstatus does):
 * deletion, whether the controller has seen the latest spec, and the standard abnormal-true
 * conditions `Stalled` and `Reconciling`.
 */
import type { KubeObject } from "../model/object.ts";
import { findCondition, withCondition, type Condition } from "./conditions.ts";
import { optionalIntAt, stringAt, stringsAt } from "./fields.ts";
import { healthOf, type Health } from "./status.ts";

/** Terminating once a deletion is requested, naming what still holds the object. */
export function evaluateTermination(object: KubeObject, explain?: (object: KubeObject) => string | undefined): Health | undefined {
  const deletionTimestamp = stringAt(object, "metadata.deletionTimestamp");
  if (!deletionTimestamp) return undefined;
  const parts = [`being deleted since ${deletionTimestamp}`];
  const finalizers = stringsAt(object, "metadata.finalizers");
  if (finalizers.length > 0) parts.push(`waiting for finalizers ${finalizers.join(", ")}`);
  const explanation = explain?.(object);
  if (explanation) parts.push(explanation);
  return healthOf(object, "Terminating", parts.join("; "));
}

/**
 * Status written for an older spec says nothing about the current one. Objects without
 * `status.observedGeneration` are not judged here: many kinds never report it.
 */
export function evaluateObservedGeneration(object: KubeObject): Health | undefined {
  const generation = optionalIntAt(object, "metadata.generation");
  const observed = optionalIntAt(object, "status.observedGeneration");
  if (generation === undefined || observed === undefined || observed >= generation) return undefined;
  return healthOf(object, "InProgress", `controller has not observed generation ${generation} yet (last observed ${observed})`);
}

/**
 * For controllers that always write `status.observedGeneration` once they have acted on an
 * object (Deployment, DaemonSet, ...): until it appears, every counter in status is a
 * zero-value that would read as "nothing to wait for".
 */
export function requireObservedGeneration(object: KubeObject): Health | undefined {
  if (optionalIntAt(object, "status.observedGeneration") !== undefined) return undefined;
  return healthOf(object, "InProgress", "controller has not reported status yet (no status.observedGeneration)");
}

/**
 * A condition set for an older generation (metav1.Condition carries its own
 * observedGeneration) describes a spec that no longer exists: a stale Stalled must not fail
 * a sync that may already have fixed the cause.
 */
export function staleConditionHealth(object: KubeObject, condition: Condition): Health | undefined {
  const generation = optionalIntAt(object, "metadata.generation");
  if (generation === undefined || condition.observedGeneration === undefined || condition.observedGeneration >= generation) return undefined;
  return healthOf(
    object,
    "InProgress",
    `controller has not observed generation ${generation} yet (its ${condition.type} condition is from generation ${condition.observedGeneration})`,
  );
}

/**
 * kstatus' standard conditions, which any controller may set. Stalled is looked at first so
 * the answer does not depend on the order the controller listed them in.
 */
export function evaluateStandardConditions(object: KubeObject): Health | undefined {
  const stalled = findCondition(object, "Stalled");
  if (stalled?.status === "True") return staleConditionHealth(object, stalled) ?? healthOf(object, "Failed", withCondition("stalled", stalled));
  const reconciling = findCondition(object, "Reconciling");
  if (reconciling?.status === "True") {
    return staleConditionHealth(object, reconciling) ?? healthOf(object, "InProgress", withCondition("reconciling", reconciling));
  }
  return undefined;
}
