import type { KubeClient } from "../kube/client.ts";
import { resourcePath, type ResourceMapping } from "../kube/discovery.ts";
import type { KubeObject } from "../model/object.ts";
import { FIELD_MANAGER } from "./labels.ts";

export interface ApplyAnswer {
  object: KubeObject;
  /** The server created the object (HTTP 201), rather than patching an existing one. */
  created: boolean;
}

/**
 * One server-side apply request. `force` is always on: fjord's policy is that Git wins
 * field-ownership conflicts (the change set reports whose fields it took).
 */
export async function serverSideApply(client: KubeClient, mapping: ResourceMapping, object: KubeObject, dryRun: boolean): Promise<ApplyAnswer> {
  const path = resourcePath(mapping, object.metadata.namespace, object.metadata.name);
  const result = await client.requestWithStatus<KubeObject>("PATCH", path, {
    query: { fieldManager: FIELD_MANAGER, force: true, dryRun: dryRun ? "All" : undefined },
    body: object,
    // JSON is YAML, and the apply content type is what selects server-side apply.
    contentType: "application/apply-patch+yaml",
  });
  return { object: result.body, created: result.statusCode === 201 };
}

export async function getObject(client: KubeClient, mapping: ResourceMapping, namespace: string | undefined, name: string): Promise<KubeObject> {
  return client.request<KubeObject>("GET", resourcePath(mapping, namespace, name));
}

export async function deleteObject(client: KubeClient, mapping: ResourceMapping, namespace: string | undefined, name: string, dryRun = false): Promise<void> {
  await client.request("DELETE", resourcePath(mapping, namespace, name), {
    query: { dryRun: dryRun ? "All" : undefined },
    body: { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background" },
  });
}
