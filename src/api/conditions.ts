/**
 * metav1.Condition bookkeeping for fjord's own objects, with apimachinery's semantics
 * (meta.SetStatusCondition): lastTransitionTime moves only when the status does, so
 * "Ready since" stays meaningful across reconciles that merely refresh the message.
 */
import { ConditionType, type Condition } from "./types.ts";

export interface ConditionUpdate {
  type: string;
  status: Condition["status"];
  reason: string;
  message: string;
}

/** metav1.Condition's limit (and the CRDs'); a longer message would make the API server refuse the whole status. */
export const MAX_CONDITION_MESSAGE = 32768;

function boundedMessage(message: string): string {
  if (message.length <= MAX_CONDITION_MESSAGE) return message;
  const note = `\n… (${message.length - MAX_CONDITION_MESSAGE + 200} more characters)`;
  return `${message.slice(0, MAX_CONDITION_MESSAGE - 200)}${note}`;
}

/** Kubernetes writes metav1.Time with whole seconds; matching it keeps round-trips byte-identical. */
export function formatTime(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, "Z");
}

/**
 * A new list with `update` set: replaced in place when a condition of its type exists (keeping
 * its lastTransitionTime unless the status changes), appended otherwise. The input is not modified.
 */
export function setCondition(conditions: readonly Condition[] | undefined, update: ConditionUpdate, generation?: number, now: Date = new Date()): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((condition) => condition.type === update.type);
  const existing = index >= 0 ? list[index] : undefined;
  const next: Condition = {
    type: update.type,
    status: update.status,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    lastTransitionTime: existing && existing.status === update.status ? existing.lastTransitionTime : formatTime(now),
    reason: update.reason,
    message: boundedMessage(update.message),
  };
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

/** A new list without conditions of `type` (e.g. Reconciling once a sync finished). */
export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((condition) => condition.type !== type);
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}

/**
 * Ready is True. With `generation` (the object's metadata.generation), the condition must also
 * have been set for that generation: a Ready left over from the previous spec does not count.
 */
export function isReady(conditions: readonly Condition[] | undefined, generation?: number): boolean {
  const ready = findCondition(conditions, ConditionType.Ready);
  if (ready?.status !== "True") return false;
  return generation === undefined || ready.observedGeneration === generation;
}
