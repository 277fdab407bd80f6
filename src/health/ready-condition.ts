/**
 * Kinds without rules of their own: custom resources (fjord's Applications, Flux objects,
 * cert-manager Certificates, ...) and built-ins with nothing to wait for (ConfigMap, Secret,
 * RBAC, ...).
 */
import type { KubeObject } from "../model/object.ts";
import { findCondition, withCondition } from "./conditions.ts";
import { staleConditionHealth } from "./generic.ts";
import { healthOf, type Health } from "./status.ts";

/**
 * The `Ready` condition when there is one. Ready=False (or Unknown) is InProgress, never
 * Failed: by kstatus convention a controller that has given up says so with Stalled=True
 * (handled before this), and Ready=False alone is a state it is still retrying. Guessing
 * failure from reason names ("...Failed") would fail syncs on transient errors, and the
 * reason and message are in the verdict for a person to read.
 */
export function evaluateReadyCondition(object: KubeObject): Health {
  const ready = findCondition(object, "Ready");
  if (!ready) return healthOf(object, "Current", "exists (no readiness to wait for)");
  const stale = staleConditionHealth(object, ready);
  if (stale) return stale;
  if (ready.status === "True") return healthOf(object, "Current", withCondition("ready", ready));
  return healthOf(object, "InProgress", withCondition(ready.status === "False" ? "not ready" : "readiness unknown", ready));
}
