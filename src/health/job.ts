/** Jobs and CronJobs. */
import type { KubeObject } from "../model/object.ts";
import { findCondition, withCondition } from "./conditions.ts";
import { booleanAt, intAt, optionalIntAt, stringAt } from "./fields.ts";
import { healthOf, type Health } from "./status.ts";

/**
 * A Job is Current once Complete, Failed once it has failed, and InProgress while it runs.
 * kstatus calls a running Job Current (it only asks "has the controller picked it up"); a
 * GitOps sync that applies a migration Job wants to know it finished, as Argo CD does.
 */
export function evaluateJob(job: KubeObject): Health {
  const succeeded = intAt(job, "status.succeeded");
  const active = intAt(job, "status.active");
  const failed = intAt(job, "status.failed");
  const completions = optionalIntAt(job, "spec.completions");
  const progress = `${active} active, ${succeeded}${completions === undefined ? "" : ` of ${completions}`} succeeded, ${failed} failed`;

  // Since Kubernetes 1.31 the controller sets FailureTarget when it decides the Job failed and
  // Failed only after its pods have terminated; the decision is final, so either one fails it.
  const failure = [findCondition(job, "Failed"), findCondition(job, "FailureTarget")].find((condition) => condition?.status === "True");
  if (failure) return healthOf(job, "Failed", `${withCondition("job failed", failure)}; ${progress}`);

  const complete = findCondition(job, "Complete");
  if (complete?.status === "True") return healthOf(job, "Current", `job complete: ${succeeded}${completions === undefined ? "" : ` of ${completions}`} succeeded`);
  const successCriteriaMet = findCondition(job, "SuccessCriteriaMet");
  if (successCriteriaMet?.status === "True") {
    return healthOf(job, "InProgress", withCondition(`job succeeded, waiting for its remaining pods to terminate (${progress})`, successCriteriaMet));
  }

  // Suspension is deliberate and holds until someone resumes the Job (kstatus agrees).
  if (booleanAt(job, "spec.suspend")) return healthOf(job, "Current", `job suspended (spec.suspend); ${progress}`);
  if (!stringAt(job, "status.startTime")) return healthOf(job, "InProgress", "job not started yet");
  return healthOf(job, "InProgress", `job running: ${progress}`);
}

/** A CronJob only schedules Jobs; those Jobs (not fjord's objects) carry the interesting state. */
export function evaluateCronJob(cronJob: KubeObject): Health {
  const schedule = stringAt(cronJob, "spec.schedule") ?? "unknown";
  const lastScheduled = stringAt(cronJob, "status.lastScheduleTime");
  const suspended = booleanAt(cronJob, "spec.suspend") ? " (suspended)" : "";
  return healthOf(cronJob, "Current", `schedule "${schedule}"${suspended}; ${lastScheduled ? `last scheduled ${lastScheduled}` : "not scheduled yet"}`);
}
