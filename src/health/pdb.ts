/** PodDisruptionBudgets. */
import type { KubeObject } from "../model/object.ts";
import { counted, intAt } from "./fields.ts";
import { requireObservedGeneration } from "./generic.ts";
import { healthOf, type Health } from "./status.ts";

/**
 * Current once the disruption controller has computed the budget and enough selected pods
 * are healthy to honour it. kstatus stops at "computed"; a budget below its minimum blocks
 * every voluntary eviction (node drains hang on it), which is worth waiting on and seeing.
 */
export function evaluatePodDisruptionBudget(budget: KubeObject): Health {
  const unobserved = requireObservedGeneration(budget);
  if (unobserved) return unobserved;
  const currentHealthy = intAt(budget, "status.currentHealthy");
  const desiredHealthy = intAt(budget, "status.desiredHealthy");
  const expected = intAt(budget, "status.expectedPods");
  const allowed = intAt(budget, "status.disruptionsAllowed");
  if (currentHealthy < desiredHealthy) {
    return healthOf(
      budget,
      "InProgress",
      `${currentHealthy} of ${desiredHealthy} required pods healthy (${counted(expected, "pod")} selected); no disruptions allowed until more are healthy`,
    );
  }
  return healthOf(budget, "Current", `${currentHealthy} pods healthy, ${desiredHealthy} required; ${counted(allowed, "disruption")} allowed`);
}
