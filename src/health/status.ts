import { describeRef, refOf, type KubeObject } from "../model/object.ts";

/**
 * kstatus' vocabulary for where an object stands. `Current` means the live object has reached
 * what its spec asks for; `Failed` means it will not get there without someone acting.
 */
export type HealthStatus = "Current" | "InProgress" | "Failed" | "Unknown" | "NotFound" | "Terminating";

export interface Health {
  status: HealthStatus;
  /** Names the object and says what it is waiting for or what went wrong. */
  message: string;
}

/**
 * Best to worst. A set of objects is as healthy as its worst member, so the order answers
 * "which one should a person look at first":
 * - InProgress and Terminating are still moving on their own; Terminating ranks above
 *   InProgress because the object is on its way out, which is rarely what a sync wants.
 * - Unknown outranks them: nothing says it is moving, so it cannot be assumed to converge.
 * - NotFound and Failed need someone to act; Failed is last because a controller has
 *   positively given up, and its message carries the most to act on.
 */
const BEST_TO_WORST: readonly HealthStatus[] = ["Current", "InProgress", "Terminating", "Unknown", "NotFound", "Failed"];

/** 0 for Current, growing as things get worse; sort by it to list the worst first. */
export function severity(status: HealthStatus): number {
  return BEST_TO_WORST.indexOf(status);
}

/** The worst of the given statuses; with none, Current (an empty set has nothing unhealthy). */
export function worst(...statuses: HealthStatus[]): HealthStatus {
  return statuses.reduce<HealthStatus>((worstSoFar, status) => (severity(status) > severity(worstSoFar) ? status : worstSoFar), "Current");
}

/** A verdict whose message starts with the object's name, e.g. `Deployment.apps/shop/web: ...`. */
export function healthOf(object: KubeObject, status: HealthStatus, detail: string): Health {
  return { status, message: `${describeRef(refOf(object))}: ${detail}` };
}
