import { fjordResourcePath } from "../api/paths.ts";
import {
  APPLICATION_KIND,
  APPLICATION_RESOURCE,
  ConditionReason,
  ConditionType,
  GIT_REPOSITORY_KIND,
  GIT_REPOSITORY_RESOURCE,
  type Application,
  type Condition,
  type GitRepository,
} from "../api/types.ts";
import { ALERT_KIND, ALERT_RESOURCE, PROVIDER_KIND, PROVIDER_RESOURCE, type Alert, type Provider } from "../api/notification-types.ts";
import { RECEIVER_KIND, RECEIVER_RESOURCE, type Receiver } from "../api/receiver-types.ts";
import type { KubeClient } from "../kube/client.ts";
import { isNotFound } from "../kube/errors.ts";
import { CliFailure, SYSTEM_NAMESPACE } from "./kube-options.ts";
import type { Command } from "commander";

/** The fjord kinds the CLI reads and writes, by the word people type (`app`, `source`). */
export interface FjordKind {
  kind: typeof APPLICATION_KIND | typeof GIT_REPOSITORY_KIND | typeof PROVIDER_KIND | typeof ALERT_KIND | typeof RECEIVER_KIND;
  resource: string;
}

export const APP: FjordKind = { kind: APPLICATION_KIND, resource: APPLICATION_RESOURCE };
export const SOURCE: FjordKind = { kind: GIT_REPOSITORY_KIND, resource: GIT_REPOSITORY_RESOURCE };

export const PROVIDER: FjordKind = { kind: PROVIDER_KIND, resource: PROVIDER_RESOURCE };
export const ALERT: FjordKind = { kind: ALERT_KIND, resource: ALERT_RESOURCE };
export const RECEIVER: FjordKind = { kind: RECEIVER_KIND, resource: RECEIVER_RESOURCE };

export type FjordObject = Application | GitRepository;
/** Everything `fjord get` lists: the GitOps kinds, the notification kinds and Receivers. */
export type ListedObject = FjordObject | Provider | Alert | Receiver;
/** What readiness is read from: kstatus conditions. */
type WithConditions = { spec?: { suspend?: boolean }; status?: { conditions?: Condition[] } };

export interface NamespaceFlags {
  namespace: string;
  allNamespaces?: boolean;
}

export function addNamespaceOption(command: Command, allNamespaces = false): Command {
  command.option("-n, --namespace <ns>", "namespace", SYSTEM_NAMESPACE);
  return allNamespaces ? command.option("-A, --all-namespaces", "every namespace") : command;
}

export function objectPath(kind: FjordKind, namespace: string | undefined, name?: string): string {
  return fjordResourcePath(kind.resource, namespace, name);
}

export async function getObject<T extends ListedObject>(client: KubeClient, kind: FjordKind, namespace: string, name: string): Promise<T> {
  return client.request<T>("GET", objectPath(kind, namespace, name)).catch((error: unknown) => {
    if (isNotFound(error)) throw new CliFailure(`${kind.kind} ${namespace}/${name} not found`);
    throw error;
  });
}

export async function listObjects<T extends ListedObject>(client: KubeClient, kind: FjordKind, flags: NamespaceFlags): Promise<T[]> {
  const list = await client.request<{ items?: T[] }>("GET", objectPath(kind, flags.allNamespaces ? undefined : flags.namespace));
  // List items carry no kind; JSON and YAML output should read like `kubectl get -o yaml`.
  return (list.items ?? [])
    .map((item) => ({ ...item, apiVersion: item.apiVersion ?? "fjord.dev/v1alpha1", kind: kind.kind }))
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
}

export function readyCondition(object: WithConditions): Condition | undefined {
  return object.status?.conditions?.find((condition) => condition.type === ConditionType.Ready);
}

/**
 * The controller is working on new input right now (Reconciling=True, reason Progressing). A
 * failure being retried (reason ProgressingWithRetry) is not "in progress": its attempt is over.
 */
export function isReconciling(object: WithConditions): boolean {
  return object.status?.conditions?.some((condition) => condition.type === ConditionType.Reconciling && condition.status === "True" && condition.reason !== ConditionReason.ProgressingWithRetry) ?? false;
}

export function isStalled(object: WithConditions): boolean {
  return object.status?.conditions?.some((condition) => condition.type === ConditionType.Stalled && condition.status === "True") ?? false;
}

/**
 * One word for where an object stands, read from its kstatus conditions: Stalled (bad input,
 * not retried until it changes), Progressing (a reconcile is working, or none has finished
 * yet), Retrying (failed, retried with backoff), Ready, or Failed / Unknown.
 */
export function stateOf(object: WithConditions): string {
  if (isStalled(object)) return "Stalled";
  if (isReconciling(object)) return "Progressing";
  const retrying = object.status?.conditions?.some((condition) => condition.type === ConditionType.Reconciling && condition.status === "True");
  if (retrying) return "Retrying";
  const ready = readyCondition(object)?.status;
  // Never reconciled yet: kstatus reads an object without conditions as in progress (the
  // controller writes no marker for a first reconcile); a suspended one is not being worked on.
  if (ready === undefined) return object.spec?.suspend === true ? "Unknown" : "Progressing";
  return ready === "True" ? "Ready" : ready === "False" ? "Failed" : "Unknown";
}

export function revisionOf(object: FjordObject): string {
  return object.kind === GIT_REPOSITORY_KIND ? (object.status?.artifact?.revision ?? "") : (object.status?.lastAppliedRevision ?? "");
}

export function describeObject(object: FjordObject): string {
  return `${object.kind} ${object.metadata.namespace}/${object.metadata.name}`;
}
