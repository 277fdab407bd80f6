/** PersistentVolumeClaims: usable once bound to a volume. */
import type { KubeObject } from "../model/object.ts";
import { stringAt } from "./fields.ts";
import { healthOf, type Health } from "./status.ts";

export function evaluatePersistentVolumeClaim(claim: KubeObject): Health {
  const phase = stringAt(claim, "status.phase");
  const volume = stringAt(claim, "spec.volumeName");
  if (phase === "Bound") return healthOf(claim, "Current", `PVC bound to volume ${volume ?? "unknown"}`);
  // kstatus waits on Lost like on Pending, but a claim whose volume is gone never binds
  // again by itself.
  if (phase === "Lost") {
    return healthOf(claim, "Failed", `PVC phase Lost: volume ${volume ?? "(unnamed)"} no longer exists; restore it or recreate the claim`);
  }
  // Pending also covers WaitForFirstConsumer storage classes, which bind only once a pod
  // uses the claim; the status does not say which case this is.
  return healthOf(claim, "InProgress", `PVC phase ${phase ?? "not reported"} (no volume bound yet)`);
}
