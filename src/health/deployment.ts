/**
 * Deployments, following kstatus (which mirrors `kubectl rollout status`): counters first,
 * then the controller's own verdict in the Progressing and Available conditions.
 */
import type { KubeObject } from "../model/object.ts";
import { findCondition, isConditionTrue, withCondition } from "./conditions.ts";
import { booleanAt, counted, intAt } from "./fields.ts";
import { requireObservedGeneration } from "./generic.ts";
import { healthOf, type Health } from "./status.ts";

export function evaluateDeployment(deployment: KubeObject): Health {
  const unobserved = requireObservedGeneration(deployment);
  if (unobserved) return unobserved;

  const wanted = intAt(deployment, "spec.replicas", 1); // the API server's default
  const replicas = intAt(deployment, "status.replicas");
  const updated = intAt(deployment, "status.updatedReplicas");
  const ready = intAt(deployment, "status.readyReplicas");
  const available = intAt(deployment, "status.availableReplicas");

  // A paused rollout stays where it is until someone resumes it: waiting for it would only
  // time out, and pausing is a deliberate choice, so it counts as Current (Argo CD calls
  // this Suspended; kstatus has no such notion and would wait forever).
  if (booleanAt(deployment, "spec.paused")) {
    return healthOf(deployment, "Current", `rollout paused (spec.paused); ${updated} of ${wanted} replicas updated, ${available} available`);
  }

  const progressing = findCondition(deployment, "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded") {
    return healthOf(deployment, "Failed", `${available} of ${wanted} replicas available; ${withCondition("rollout exceeded its progress deadline", progressing)}`);
  }

  // Pods the ReplicaSet could not create (quota, admission webhooks) show up here first.
  const replicaFailure = findCondition(deployment, "ReplicaFailure");
  if (replicaFailure?.status === "True") {
    return healthOf(deployment, "InProgress", withCondition(`${replicas} of ${wanted} replicas created; pods cannot be created`, replicaFailure));
  }
  if (replicas < wanted) return healthOf(deployment, "InProgress", `${replicas} of ${wanted} replicas created (scaling up)`);
  if (updated < wanted) return healthOf(deployment, "InProgress", `${updated} of ${wanted} replicas updated (rollout in progress)`);
  if (replicas > updated) {
    return healthOf(deployment, "InProgress", `${counted(replicas - updated, "old replica")} pending termination (rollout in progress)`);
  }
  if (available < updated) return healthOf(deployment, "InProgress", `${available} of ${updated} replicas available (rollout in progress)`);
  if (ready < replicas) return healthOf(deployment, "InProgress", `${ready} of ${replicas} replicas ready`);

  // Counters can all look right a moment before the controller records the rollout as done.
  if (progressing && !(progressing.status === "True" && progressing.reason === "NewReplicaSetAvailable")) {
    return healthOf(deployment, "InProgress", withCondition("waiting for the controller to mark the rollout complete", progressing));
  }
  const availableCondition = findCondition(deployment, "Available");
  if (availableCondition && !isConditionTrue(deployment, "Available")) {
    return healthOf(deployment, "InProgress", withCondition("not available", availableCondition));
  }
  return healthOf(deployment, "Current", wanted === 0 ? "scaled to zero" : `${available} of ${wanted} replicas available`);
}
