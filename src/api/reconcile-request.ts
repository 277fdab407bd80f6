import type { KubeObject } from "../model/object.ts";
import { RECONCILE_REQUEST_ANNOTATION } from "./types.ts";

/** The merge patch that asks the controller to reconcile an object now (`value`: any new string). */
export function reconcileRequestPatch(value: string): { metadata: { annotations: Record<string, string> } } {
  return { metadata: { annotations: { [RECONCILE_REQUEST_ANNOTATION]: value } } };
}

/** The status field saying which reconcile request this reconcile answered; empty when none was made. */
export function handledRequest(object: KubeObject): { lastHandledReconcileAt?: string } {
  const requested = object.metadata.annotations?.[RECONCILE_REQUEST_ANNOTATION];
  return requested === undefined ? {} : { lastHandledReconcileAt: requested };
}
