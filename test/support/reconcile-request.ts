/** Asks the controller to reconcile an object now, as `fjord reconcile` does; returns the request's value. */
import { reconcileRequestPatch } from "../../src/api/reconcile-request.ts";
import type { KubeClient } from "../../src/kube/client.ts";

export async function requestReconcile(client: KubeClient, resourcePath: string): Promise<string> {
  // Unique per call: the same value twice would not be a new request.
  const value = `${new Date().toISOString()}-${Math.random().toString(16).slice(2, 8)}`;
  await client.request("PATCH", resourcePath, { body: reconcileRequestPatch(value), contentType: "application/merge-patch+json" });
  return value;
}
