import { waitForEstablished } from "../apply/crd-established.ts";
import type { KubeClient } from "../kube/client.ts";
import { customResourceDefinitions } from "../api/crds.ts";

/**
 * The controller installs its CRDs as a manager of its own: applying them as `fjord` (the
 * manager of `fjord install` and of a bootstrapped Application that manages fjord itself)
 * would drop the owner labels those put on the CRDs, at every controller start.
 */
export const CRD_FIELD_MANAGER = "fjord-controller";

/**
 * Server-side applies fjord's CRDs and waits until they are served. Idempotent, so the
 * controller can run it at every start and concurrent callers do not conflict.
 */
export async function installCustomResourceDefinitions(client: KubeClient, timeoutMs = 60_000): Promise<void> {
  const crds = customResourceDefinitions();
  for (const crd of crds) {
    await client.request("PATCH", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name ?? ""}`, {
      query: { fieldManager: CRD_FIELD_MANAGER, force: true },
      body: crd,
      contentType: "application/apply-patch+yaml",
    });
  }
  await waitForEstablished(client, crds.map((crd) => crd.metadata.name ?? ""), timeoutMs);
}
