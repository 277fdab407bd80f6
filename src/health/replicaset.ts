/** ReplicaSets and ReplicationControllers: desired replicas against created, ready and available ones. */
import type { KubeObject } from "../model/object.ts";
import { findCondition, withCondition } from "./conditions.ts";
import { counted, intAt } from "./fields.ts";
import { requireObservedGeneration } from "./generic.ts";
import { healthOf, type Health } from "./status.ts";

export function evaluateReplicaSet(replicaSet: KubeObject): Health {
  const unobserved = requireObservedGeneration(replicaSet);
  if (unobserved) return unobserved;

  const wanted = intAt(replicaSet, "spec.replicas", 1);
  const replicas = intAt(replicaSet, "status.replicas");
  const ready = intAt(replicaSet, "status.readyReplicas");
  const available = intAt(replicaSet, "status.availableReplicas");

  // Quota or an admission webhook refusing pods. The controller keeps retrying, so kstatus
  // reports InProgress; the message says what refused them.
  const replicaFailure = findCondition(replicaSet, "ReplicaFailure");
  if (replicaFailure?.status === "True") {
    return healthOf(replicaSet, "InProgress", withCondition(`${replicas} of ${wanted} replicas created; pods cannot be created`, replicaFailure));
  }
  if (replicas < wanted) return healthOf(replicaSet, "InProgress", `${replicas} of ${wanted} replicas created (scaling up)`);
  if (ready < wanted) return healthOf(replicaSet, "InProgress", `${ready} of ${wanted} replicas ready`);
  if (available < wanted) return healthOf(replicaSet, "InProgress", `${available} of ${wanted} replicas available (minReadySeconds)`);
  if (replicas > wanted) return healthOf(replicaSet, "InProgress", `${counted(replicas - wanted, "replica")} pending termination (scaling down)`);
  return healthOf(replicaSet, "Current", wanted === 0 ? "scaled to zero" : `${available} of ${wanted} replicas available`);
}
