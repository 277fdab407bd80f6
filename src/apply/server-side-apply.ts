import type { KubeClient } from "../kube/client.ts";
import { resourcePath, type ResourceMapping } from "../kube/discovery.ts";
import { isNotFound } from "../kube/errors.ts";
import type { KubeObject } from "../model/object.ts";
import { FIELD_MANAGER } from "../model/ownership.ts";

export interface ApplyAnswer {
  object: KubeObject;
  /** The server created the object (HTTP 201), rather than patching an existing one. */
  created: boolean;
}

export interface ApplyMode {
  dryRun?: boolean;
}

/**
 * One server-side apply request, with force: fjord's policy is that Git wins field-ownership
 * conflicts, and the change set reports whose fields it took (from the dry run before).
 */
export async function serverSideApply(client: KubeClient, mapping: ResourceMapping, object: KubeObject, mode: ApplyMode = {}): Promise<ApplyAnswer> {
  const path = resourcePath(mapping, object.metadata.namespace, object.metadata.name);
  const result = await client.requestWithStatus<KubeObject>("PATCH", path, {
    query: { fieldManager: FIELD_MANAGER, force: true, dryRun: mode.dryRun ? "All" : undefined },
    body: object,
    // JSON is YAML, and the apply content type is what selects server-side apply.
    contentType: "application/apply-patch+yaml",
  });
  return { object: result.body, created: result.statusCode === 201 };
}

export async function getObject(client: KubeClient, mapping: ResourceMapping, namespace: string | undefined, name: string): Promise<KubeObject> {
  return client.request<KubeObject>("GET", resourcePath(mapping, namespace, name));
}

export async function objectExists(client: KubeClient, mapping: ResourceMapping, namespace: string | undefined, name: string): Promise<boolean> {
  return getObject(client, mapping, namespace, name).then(
    () => true,
    (error: unknown) => {
      if (isNotFound(error)) return false;
      throw error;
    },
  );
}

export async function deleteObject(client: KubeClient, mapping: ResourceMapping, namespace: string | undefined, name: string, dryRun = false): Promise<void> {
  await client.request("DELETE", resourcePath(mapping, namespace, name), {
    query: { dryRun: dryRun ? "All" : undefined },
    body: { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background" },
  });
}
