import { isDeepStrictEqual } from "node:util";
import { fjordResourcePath } from "../api/paths.ts";
import { handledRequest } from "../api/reconcile-request.ts";
import { API_VERSION, ConditionType, type Condition } from "../api/types.ts";
import type { KubeClient } from "../kube/client.ts";
import type { KubeObject } from "../model/object.ts";
import type { EventSubject } from "./events.ts";

type Plain = Record<string, unknown>;
const isPlain = (value: unknown): value is Plain => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * A JSON merge patch turning `previous` into `next`: keys that disappeared become null, because
 * a merge patch otherwise keeps them (a stale digest or a policy that left the namespace would
 * linger in the status). Arrays are replaced whole, as merge patches do.
 */
export function mergePatchBetween(previous: Plain, next: Plain): Plain {
  const patch: Plain = {};
  for (const key of Object.keys(previous)) if (!(key in next) || next[key] === undefined) patch[key] = null;
  for (const [key, value] of Object.entries(next)) {
    if (value === undefined) continue;
    const before = previous[key];
    patch[key] = isPlain(value) && isPlain(before) ? mergePatchBetween(before, value) : value;
  }
  return patch;
}

interface StatusObject extends KubeObject {
  metadata: KubeObject["metadata"] & { name: string; namespace: string };
  status?: object;
}

/**
 * Writes `next` as the object's status, recording the reconcile request it handled. Skipped when
 * nothing changed, so a periodic reconcile that finds the same answer costs no write (and no
 * watch event for everyone watching the object).
 */
export async function writeStatus(client: KubeClient, resource: string, object: StatusObject, next: object): Promise<void> {
  const status = JSON.parse(JSON.stringify({ ...next, ...handledRequest(object) })) as Plain;
  if (isDeepStrictEqual(status, object.status ?? {})) return;
  const body = { status: mergePatchBetween((object.status ?? {}) as Plain, status) };
  await client.request("PATCH", `${fjordResourcePath(resource, object.metadata.namespace, object.metadata.name)}/status`, { body, contentType: "application/merge-patch+json" });
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
