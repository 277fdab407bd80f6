/**
 * Health of one live object, in kstatus' order: deletion, then whether the controller has
 * seen the latest spec, then the standard Stalled/Reconciling conditions, then the rules of
 * the object's kind, and for every other kind its Ready condition (or Current when it has
 * none). Pure: the object as read from the API server is all it looks at.
 */
import { describeRef, groupOf, type KubeObject, type ObjectRef } from "../model/object.ts";
import { evaluateCustomResourceDefinition } from "./crd.ts";
import { evaluateDaemonSet } from "./daemonset.ts";
import { evaluateDeployment } from "./deployment.ts";
import { evaluateObservedGeneration, evaluateStandardConditions, evaluateTermination } from "./generic.ts";
import { evaluateCronJob, evaluateJob } from "./job.ts";
import { evaluateNamespace, explainNamespaceTermination } from "./namespace.ts";
import { evaluatePodDisruptionBudget } from "./pdb.ts";
import { evaluatePod } from "./pod.ts";
import { evaluatePersistentVolumeClaim } from "./pvc.ts";
import { evaluateReadyCondition } from "./ready-condition.ts";
import { evaluateReplicaSet } from "./replicaset.ts";
import { evaluateService } from "./service.ts";
import { evaluateStatefulSet } from "./statefulset.ts";
import type { Health } from "./status.ts";

interface KindRules {
  evaluate: (object: KubeObject) => Health;
  /** Adds to the Terminating message what is holding up the deletion. */
  explainTermination?: (object: KubeObject) => string | undefined;
}

/** Keyed by `group/Kind`; the version does not matter, status shapes are stable across versions. */
const RULES_BY_KIND: ReadonlyMap<string, KindRules> = new Map<string, KindRules>([
  ["apps/Deployment", { evaluate: evaluateDeployment }],
  ["apps/StatefulSet", { evaluate: evaluateStatefulSet }],
  ["apps/DaemonSet", { evaluate: evaluateDaemonSet }],
  ["apps/ReplicaSet", { evaluate: evaluateReplicaSet }],
  ["/ReplicationController", { evaluate: evaluateReplicaSet }],
  ["batch/Job", { evaluate: evaluateJob }],
  ["batch/CronJob", { evaluate: evaluateCronJob }],
  ["/Pod", { evaluate: evaluatePod }],
  ["/PersistentVolumeClaim", { evaluate: evaluatePersistentVolumeClaim }],
  ["/Service", { evaluate: evaluateService }],
  ["/Namespace", { evaluate: evaluateNamespace, explainTermination: explainNamespaceTermination }],
  ["policy/PodDisruptionBudget", { evaluate: evaluatePodDisruptionBudget }],
  ["apiextensions.k8s.io/CustomResourceDefinition", { evaluate: evaluateCustomResourceDefinition }],
]);

/** `undefined` is an object that does not exist (NotFound); use `notFound(ref)` to name it. */
export function evaluateHealth(object: KubeObject | undefined): Health {
  if (!object) return { status: "NotFound", message: "object not found in the cluster" };
  const rules = RULES_BY_KIND.get(`${groupOf(object.apiVersion)}/${object.kind}`);
  return (
    evaluateTermination(object, rules?.explainTermination) ??
    evaluateObservedGeneration(object) ??
    evaluateStandardConditions(object) ??
    (rules ? rules.evaluate(object) : evaluateReadyCondition(object))
  );
}

/** NotFound for an object known only by its identity, e.g. one in Git that is missing from the cluster. */
export function notFound(ref: ObjectRef): Health {
  return { status: "NotFound", message: `${describeRef(ref)}: not found in the cluster` };
}
