import { fjordResourcePath } from "../api/paths.ts";
import { handledRequest } from "../api/reconcile-request.ts";
import { API_VERSION, ConditionType, type Condition } from "../api/types.ts";
import type { KubeClient } from "../kube/client.ts";
import type { KubeObject } from "../model/object.ts";
import type { EventSubject } from "./events.ts";
import { patchStatus } from "./runtime/status-patch.ts";

interface StatusObject extends KubeObject {
  metadata: KubeObject["metadata"] & { name: string; namespace: string };
  status?: object;
}

/**
 * Writes `next` as the object's status, recording the reconcile request it handled, through the
 * skeleton's one status writer: skipped when nothing changed, so a periodic reconcile that finds
 * the same answer costs no write (and no watch event for everyone watching the object).
 */
export async function writeStatus(client: KubeClient, resource: string, object: StatusObject, next: object): Promise<void> {
  await patchStatus(client, fjordResourcePath(resource, object.metadata.namespace, object.metadata.name), object.status, { ...next, ...handledRequest(object) });
}

export function subjectOf(object: StatusObject): EventSubject {
  const { name, namespace, uid } = object.metadata;
  return { apiVersion: API_VERSION, kind: object.kind, name, namespace, ...(uid ? { uid } : {}) };
}

export function readyOf(conditions: readonly Condition[] | undefined): Condition | undefined {
  return conditions?.find((condition) => condition.type === ConditionType.Ready);
}

/** Whether a failure is news: Ready was not False before, or it was for another reason. Repeats make no Event. */
export function failureChanged(previous: Condition | undefined, message: string): boolean {
  return previous?.status !== "False" || previous.message !== message;
}
