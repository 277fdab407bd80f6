/**
 * StatefulSets set no conditions, so health comes from the counters and revisions alone
 * (as in kstatus). Pods must exist and be ready whatever the update strategy; the rollout
 * checks depend on it.
 */
import type { KubeObject } from "../model/object.ts";
import { counted, intAt, optionalIntAt, stringAt } from "./fields.ts";
import { requireObservedGeneration } from "./generic.ts";
import { healthOf, type Health } from "./status.ts";

export function evaluateStatefulSet(statefulSet: KubeObject): Health {
  const unobserved = requireObservedGeneration(statefulSet);
  if (unobserved) return unobserved;

  const wanted = intAt(statefulSet, "spec.replicas", 1);
  const replicas = intAt(statefulSet, "status.replicas");
  const ready = intAt(statefulSet, "status.readyReplicas");
  // Reported since Kubernetes 1.22; before that, ready is the best there is.
  const available = optionalIntAt(statefulSet, "status.availableReplicas") ?? ready;
  const updated = intAt(statefulSet, "status.updatedReplicas");
  const currentRevision = stringAt(statefulSet, "status.currentRevision");
  const updateRevision = stringAt(statefulSet, "status.updateRevision");

  if (replicas < wanted) return healthOf(statefulSet, "InProgress", `${replicas} of ${wanted} replicas created (scaling up)`);
  if (ready < wanted) return healthOf(statefulSet, "InProgress", `${ready} of ${wanted} replicas ready`);
  if (available < wanted) return healthOf(statefulSet, "InProgress", `${available} of ${wanted} replicas available (minReadySeconds)`);
  if (replicas > wanted) return healthOf(statefulSet, "InProgress", `${counted(replicas - wanted, "replica")} pending termination (scaling down)`);

  // OnDelete replaces pods only when someone deletes them; waiting for that would never end.
  if (stringAt(statefulSet, "spec.updateStrategy.type") === "OnDelete") {
    return healthOf(statefulSet, "Current", `${ready} of ${wanted} replicas ready; OnDelete update strategy, ${updated} on revision ${updateRevision ?? "unknown"}`);
  }

  // With a partition, only ordinals >= partition move to the new revision; the rest stay
  // behind on purpose, so the rollout is done once those are updated.
  const partition = intAt(statefulSet, "spec.updateStrategy.rollingUpdate.partition");
  if (partition > 0) {
    const expected = Math.max(wanted - partition, 0);
    if (updated < expected) {
      return healthOf(statefulSet, "InProgress", `partitioned rollout: ${updated} of ${expected} replicas updated to revision ${updateRevision ?? "unknown"} (partition ${partition})`);
    }
    return healthOf(
      statefulSet,
      "Current",
      `partitioned rollout complete: ${updated} of ${wanted} replicas on revision ${updateRevision ?? "unknown"}, the rest held back by partition ${partition}`,
    );
  }

  if (updated < wanted) {
    return healthOf(statefulSet, "InProgress", `${updated} of ${wanted} replicas updated to revision ${updateRevision ?? "unknown"} (rollout in progress)`);
  }
  if (currentRevision !== updateRevision) {
    return healthOf(statefulSet, "InProgress", `waiting for the controller to make revision ${updateRevision ?? "unknown"} current (still ${currentRevision ?? "unknown"})`);
  }
  return healthOf(statefulSet, "Current", wanted === 0 ? "scaled to zero" : `${ready} of ${wanted} replicas ready on revision ${updateRevision ?? "unknown"}`);
}
