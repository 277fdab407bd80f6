import { waitForEstablished } from "../apply/crd-established.ts";
import { FIELD_MANAGER } from "../apply/labels.ts";
import type { KubeClient } from "../kube/client.ts";
import { customResourceDefinitions } from "./crds.ts";

/**
 * Server-side applies fjord's CRDs and waits until they are served. Idempotent, so the
 * controller can run it at every start and concurrent callers do not conflict.
 */
export async function installCustomResourceDefinitions(client: KubeClient, timeoutMs = 60_000): Promise<void> {
  const crds = customResourceDefinitions();
  for (const crd of crds) {
    await client.request("PATCH", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name ?? ""}`, {
      query: { fieldManager: FIELD_MANAGER, force: true },
      body: crd,
      contentType: "application/apply-patch+yaml",
    });
  }
  await waitForEstablished(client, crds.map((crd) => crd.metadata.name ?? ""), timeoutMs);
}
