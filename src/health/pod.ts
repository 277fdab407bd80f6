/** Pods, by phase, readiness and what their containers are waiting for. */
import type { KubeObject } from "../model/object.ts";
import { findCondition, withCondition } from "./conditions.ts";
import { optionalIntAt, recordsAt, stringAt } from "./fields.ts";
import { healthOf, type Health } from "./status.ts";

/**
 * Waiting reasons that only end when someone changes the image, the command or the
 * registry. kstatus fails only on CrashLoopBackOff and only in phase Running; image pull
 * errors happen in phase Pending and are just as stuck, so they count here too (as in
 * Argo CD). CreateContainerConfigError (a missing ConfigMap or Secret) is deliberately left
 * out: in a GitOps sync the Secret is often still on its way (Sealed Secrets, SOPS,
 * external-secrets), and the pod starts by itself once it arrives.
 */
const STUCK_WAITING_REASONS = new Set(["CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"]);

interface ContainerWait {
  container: string;
  reason: string;
  message?: string;
  lastExitCode?: number;
}

function waitingContainers(pod: KubeObject): ContainerWait[] {
  const statuses = [...recordsAt(pod, "status.initContainerStatuses"), ...recordsAt(pod, "status.containerStatuses")];
  return statuses.flatMap((status) => {
    const reason = stringAt(status, "state.waiting.reason");
    if (!reason) return [];
    return [
      {
        container: stringAt(status, "name") ?? "unnamed",
        reason,
        message: stringAt(status, "state.waiting.message"),
        lastExitCode: optionalIntAt(status, "lastState.terminated.exitCode"),
      },
    ];
  });
}

function describeWait(wait: ContainerWait): string {
  const exit = wait.lastExitCode === undefined ? "" : ` (last exit code ${wait.lastExitCode})`;
  return `container ${wait.container} is in ${wait.reason}${exit}${wait.message ? `: ${wait.message}` : ""}`;
}

/** Why a Failed pod failed: the pod's own reason (Evicted, DeadlineExceeded) or its first non-zero exit. */
function explainFailure(pod: KubeObject): string {
  const reason = stringAt(pod, "status.reason");
  const message = stringAt(pod, "status.message");
  if (reason || message) return `pod failed${reason ? ` (${reason})` : ""}${message ? `: ${message}` : ""}`;
  const statuses = [...recordsAt(pod, "status.initContainerStatuses"), ...recordsAt(pod, "status.containerStatuses")];
  for (const status of statuses) {
    const exitCode = optionalIntAt(status, "state.terminated.exitCode");
    if (exitCode !== undefined && exitCode !== 0) {
      const terminationReason = stringAt(status, "state.terminated.reason");
      return `pod failed: container ${stringAt(status, "name") ?? "unnamed"} exited with code ${exitCode}${terminationReason ? ` (${terminationReason})` : ""}`;
    }
  }
  return "pod failed";
}

/**
 * A pod fjord applies itself has no controller to replace it, so phase Failed is Failed.
 * (kstatus calls it Current, having Job-owned pods in mind; fjord does not apply those.)
 * An Unschedulable pod stays InProgress: kstatus fails it after 15 s, which needs a clock,
 * and this evaluation is a pure function of the object; the scheduler's message is shown.
 */
export function evaluatePod(pod: KubeObject): Health {
  const phase = stringAt(pod, "status.phase");
  switch (phase) {
    case "Succeeded":
      return healthOf(pod, "Current", "pod completed successfully");
    case "Failed":
      return healthOf(pod, "Failed", explainFailure(pod));
    case "Unknown":
      return healthOf(pod, "Unknown", withCondition("pod phase Unknown: its node stopped reporting", findCondition(pod, "Ready")));
    case undefined:
      return healthOf(pod, "InProgress", "pod has no phase yet");
    case "Pending":
    case "Running":
      break;
    default:
      return healthOf(pod, "Unknown", `pod is in unrecognised phase ${phase}`);
  }

  const ready = findCondition(pod, "Ready");
  if (phase === "Running" && ready?.status === "True") return healthOf(pod, "Current", "running and ready");

  const waits = waitingContainers(pod);
  const stuck = waits.find((wait) => STUCK_WAITING_REASONS.has(wait.reason));
  if (stuck) return healthOf(pod, "Failed", describeWait(stuck));

  const firstWait = waits[0];
  if (firstWait) return healthOf(pod, "InProgress", describeWait(firstWait));
  if (phase === "Running") return healthOf(pod, "InProgress", withCondition("running but not ready", ready));
  const scheduled = findCondition(pod, "PodScheduled");
  if (scheduled?.status === "False") return healthOf(pod, "InProgress", withCondition("pod cannot be scheduled yet", scheduled));
  return healthOf(pod, "InProgress", "pod pending");
}
