import { customResourceDefinitions } from "../api/crds.ts";
import { GROUP } from "../api/types.ts";
import type { KubeObject } from "../model/object.ts";
import { commonLabels, CONTROLLER_NAME, type InstallOptions } from "./options.ts";

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

const READ = ["get", "list", "watch"];
const WRITE = ["create", "update", "patch", "delete", "deletecollection"];

/** Names of the cluster-scoped objects, shared by tests and the bootstrap command. */
export const CONTROLLER_ROLE = CONTROLLER_NAME;
export const CLUSTER_ADMIN_BINDING = `${CONTROLLER_NAME}-cluster-admin`;
export const LEADER_ELECTION_ROLE = `${CONTROLLER_NAME}-leader-election`;
export const VIEW_ROLE = "fjord-view";
export const EDIT_ROLE = "fjord-edit";

/**
 * What the controller needs for itself. It applies Applications through their
 * `serviceAccountName` (impersonation), so it needs no write access to what it manages: only
 * read access everywhere, because it watches managed objects for drift and reads source Secrets.
 */
export function controllerRules(): PolicyRule[] {
  const crdNames = customResourceDefinitions().map((crd) => crd.metadata.name ?? "");
  return [
    { apiGroups: ["*"], resources: ["*"], verbs: READ },
    { apiGroups: [GROUP], resources: ["*"], verbs: ["*"] },
    // `create` cannot be limited by name (the object does not exist yet); updates can.
    { apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], verbs: ["create"] },
    { apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], verbs: ["update", "patch"], resourceNames: crdNames },
    { apiGroups: ["", "events.k8s.io"], resources: ["events"], verbs: ["create", "patch"] },
    { apiGroups: [""], resources: ["serviceaccounts"], verbs: ["impersonate"] },
    // Sealed Secrets: the controller unseals into Secrets it owns (in any namespace, as upstream's does)
    // and keeps its key pairs as Secrets in its own namespace.
    { apiGroups: ["bitnami.com"], resources: ["sealedsecrets", "sealedsecrets/status"], verbs: ["get", "list", "watch", "update", "patch"] },
    { apiGroups: [""], resources: ["secrets"], verbs: ["create", "update", "patch"] },
  ];
}

function clusterRole(name: string, rules: PolicyRule[], labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name, labels: { ...commonLabels(), ...labels } }, rules };
}

function subject(options: InstallOptions) {
  return [{ kind: "ServiceAccount", name: CONTROLLER_NAME, namespace: options.namespace }];
}

function clusterRoleBinding(name: string, roleName: string, options: InstallOptions): KubeObject {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name, labels: commonLabels() },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: roleName },
    subjects: subject(options),
  };
}

/**
 * The RBAC objects, ClusterRoles first. The least-privilege binding and the cluster-admin
 * binding have different names because a binding's roleRef cannot change: switching modes
 * is then an apply plus a prune of the other binding.
 */
export function rbacObjects(options: InstallOptions): KubeObject[] {
  const aggregate = (...roles: string[]) => Object.fromEntries(roles.map((role) => [`rbac.authorization.k8s.io/aggregate-to-${role}`, "true"]));
  const userRoles = [
    clusterRole(VIEW_ROLE, [{ apiGroups: [GROUP], resources: ["*"], verbs: READ }], aggregate("view", "edit", "admin")),
    clusterRole(EDIT_ROLE, [{ apiGroups: [GROUP], resources: ["*"], verbs: WRITE }], aggregate("edit", "admin")),
  ];
  if (options.clusterAdmin) return [...userRoles, clusterRoleBinding(CLUSTER_ADMIN_BINDING, "cluster-admin", options)];
  const namespaced = { namespace: options.namespace, labels: commonLabels() };
  return [
    clusterRole(CONTROLLER_ROLE, controllerRules()),
    ...userRoles,
    clusterRoleBinding(CONTROLLER_ROLE, CONTROLLER_ROLE, options),
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: LEADER_ELECTION_ROLE, ...namespaced },
      rules: [{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "list", "watch", "create", "update", "patch"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: LEADER_ELECTION_ROLE, ...namespaced },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: LEADER_ELECTION_ROLE },
      subjects: subject(options),
    },
  ];
}
