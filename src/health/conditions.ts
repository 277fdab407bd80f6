import { optionalIntAt, recordsAt, stringAt } from "./fields.ts";

/** The shape shared by metav1.Condition and the older per-kind condition types. */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  /** Only on metav1.Condition: the generation the controller looked at when it set this. */
  observedGeneration?: number;
}

export function conditionsOf(object: unknown): Condition[] {
  return recordsAt(object, "status.conditions").flatMap((raw) => {
    const type = stringAt(raw, "type");
    const status = stringAt(raw, "status");
    if (!type || (status !== "True" && status !== "False" && status !== "Unknown")) return [];
    return [{ type, status, reason: stringAt(raw, "reason"), message: stringAt(raw, "message"), observedGeneration: optionalIntAt(raw, "observedGeneration") }];
  });
}

export function findCondition(object: unknown, type: string): Condition | undefined {
  return conditionsOf(object).find((condition) => condition.type === type);
}

export function isConditionTrue(object: unknown, type: string): boolean {
  return findCondition(object, type)?.status === "True";
}

/**
 * `detail` followed by the condition's reason and message, when it has them:
 * `rollout exceeded its progress deadline (ProgressDeadlineExceeded): ReplicaSet "web-5d" has timed out progressing.`
 */
export function withCondition(detail: string, condition: Condition | undefined): string {
  if (!condition) return detail;
  const reason = condition.reason ? ` (${condition.reason})` : "";
  const message = condition.message?.trim() ? `: ${condition.message.trim()}` : "";
  return `${detail}${reason}${message}`;
}
