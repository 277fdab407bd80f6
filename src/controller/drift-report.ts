import { describeChangedBy } from "../history/entry.ts";
import { fjordResourcePath } from "../api/paths.ts";
import { API_VERSION, APPLICATION_KIND, APPLICATION_RESOURCE, DRIFT_REVERT_LIMIT, type Application } from "../api/types.ts";
import type { KubeClient } from "../kube/client.ts";
import type { DriftEvent } from "./drift-watch.ts";
import type { EventRecorder } from "./events.ts";

/**
 * With selfHeal off, drift is only reported: in status.drift (bounded, one entry per object)
 * and as a Warning Event. The status is read fresh, since other drift may have been recorded
 * since the cached copy.
 */
export async function reportDrift(client: KubeClient, events: EventRecorder, app: Application, event: DriftEvent): Promise<void> {
  const { namespace, name } = app.metadata;
  const path = fjordResourcePath(APPLICATION_RESOURCE, namespace, name);
  const current = await client.request<Application>("GET", path).catch(() => undefined);
  if (!current) return;
  const entry = { object: event.object, changedBy: event.changedBy, ...(event.fieldManager ? { fieldManager: event.fieldManager } : {}), at: event.at };
  const drift = [...(current.status?.drift ?? []).filter((known) => known.object !== event.object), entry].slice(-DRIFT_REVERT_LIMIT);
  await client.request("PATCH", `${path}/status`, { body: { status: { drift } }, contentType: "application/merge-patch+json" });
  await events.record(
    { apiVersion: API_VERSION, kind: APPLICATION_KIND, name, namespace, ...(app.metadata.uid ? { uid: app.metadata.uid } : {}) },
    "Warning",
    "DriftDetected",
    `${event.object} was changed in the cluster by ${describeChangedBy(event)}; selfHeal is off, so it stays until the next sync`,
  );
}
