/** DaemonSets: one pod per eligible node, judged by the node counters in status (as in kstatus). */
import type { KubeObject } from "../model/object.ts";
import { intAt, optionalIntAt, stringAt } from "./fields.ts";
import { requireObservedGeneration } from "./generic.ts";
import { healthOf, type Health } from "./status.ts";

export function evaluateDaemonSet(daemonSet: KubeObject): Health {
  const unobserved = requireObservedGeneration(daemonSet);
  if (unobserved) return unobserved;

  const desired = optionalIntAt(daemonSet, "status.desiredNumberScheduled");
  if (desired === undefined) return healthOf(daemonSet, "InProgress", "controller has not reported how many nodes should run it yet");
  const scheduled = intAt(daemonSet, "status.currentNumberScheduled");
  const updated = intAt(daemonSet, "status.updatedNumberScheduled");
  const ready = intAt(daemonSet, "status.numberReady");
  const available = intAt(daemonSet, "status.numberAvailable");

  if (scheduled < desired) return healthOf(daemonSet, "InProgress", `scheduled on ${scheduled} of ${desired} nodes`);
  // OnDelete replaces pods only when someone deletes them; waiting for that would never end.
  const onDelete = stringAt(daemonSet, "spec.updateStrategy.type") === "OnDelete";
  if (!onDelete && updated < desired) return healthOf(daemonSet, "InProgress", `${updated} of ${desired} pods updated (rollout in progress)`);
  if (ready < desired) return healthOf(daemonSet, "InProgress", `${ready} of ${desired} pods ready`);
  if (available < desired) return healthOf(daemonSet, "InProgress", `${available} of ${desired} pods available (minReadySeconds)`);
  if (desired === 0) return healthOf(daemonSet, "Current", "no node matches its node selector and tolerations");
  return healthOf(daemonSet, "Current", `${available} of ${desired} pods available${onDelete ? `; OnDelete update strategy, ${updated} updated` : ""}`);
}
