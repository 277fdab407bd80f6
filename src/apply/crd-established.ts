import type { KubeClient } from "../kube/client.ts";
import { watchUntil } from "../kube/watch-until.ts";

interface Condition {
  type?: string;
  status?: string;
}

/** Waits until the named CRDs report Established, so their kinds can be applied. */
export async function waitForEstablished(client: KubeClient, names: string[], timeoutMs: number): Promise<void> {
  const pending = new Set(names);
  const signal = AbortSignal.timeout(timeoutMs);
  await watchUntil(client, { path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", signal }, (objects) => {
    for (const crd of objects.values()) {
      const conditions = (crd.status as { conditions?: Condition[] } | undefined)?.conditions ?? [];
      if (conditions.some((condition) => condition.type === "Established" && condition.status === "True")) pending.delete(crd.metadata.name ?? "");
    }
    return pending.size === 0;
  });
  if (pending.size > 0) throw new Error(`CustomResourceDefinition(s) not established within ${timeoutMs / 1000}s: ${[...pending].join(", ")}`);
}
