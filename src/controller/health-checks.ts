import type { HealthCheckReference } from "../api/types.ts";
import { SyncError } from "../apply/errors.ts";
import { waitForHealthy, type WaitTarget } from "../apply/wait.ts";
import type { KubeClient } from "../kube/client.ts";
import { Discovery } from "../kube/discovery.ts";
import { groupOf, versionOf } from "../model/object.ts";

/**
 * Waits for an Application's `spec.healthChecks`: objects it depends on that it may not have
 * applied itself (a Deployment created by an operator, a HelmRelease). They are watched by
 * name, not by owner labels. An unknown kind is a health failure naming the entry to fix.
 */
export async function waitForHealthChecks(client: KubeClient, checks: readonly HealthCheckReference[], options: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
  const discovery = new Discovery(client);
  const targets: WaitTarget[] = [];
  for (const check of checks) {
    const group = groupOf(check.apiVersion);
    const mapping = await discovery.find(group, versionOf(check.apiVersion), check.kind);
    const ref = { group, kind: check.kind, namespace: mapping?.namespaced ? (check.namespace ?? "") : "", name: check.name };
    if (!mapping) {
      throw new SyncError("health", `spec.healthChecks names ${check.kind} ${check.name} of ${check.apiVersion}, which this cluster does not serve: fix the apiVersion or kind`, [
        { ref, message: "unknown kind" },
      ]);
    }
    if (mapping.namespaced && !check.namespace) {
      throw new SyncError("health", `spec.healthChecks entry ${check.kind} ${check.name} needs a namespace (${check.kind} is namespaced)`, [{ ref, message: "namespace missing" }]);
    }
    targets.push({ ref, mapping });
  }
  await waitForHealthy(client, targets, { timeoutMs: options.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) });
}
