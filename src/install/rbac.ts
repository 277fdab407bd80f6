import { customResourceDefinitions } from "../api/crds.ts";
import { GROUP, WATCH_RULES_LABEL } from "../api/types.ts";
import type { KubeObject } from "../model/object.ts";
import { SEALED_SECRET_RESOURCE } from "../secrets/sealed/types.ts";
import { commonLabels, CONTROLLER_NAME, type InstallOptions } from "./options.ts";
import { DEFAULT_WEBHOOK_CONFIGURATION_NAME } from "../admission/webhook-configuration.ts";

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** A rule and why the controller needs it (the README's permission table is made of these). */
export interface ExplainedRule extends PolicyRule {
  why: string;
}

const READ = ["get", "list", "watch"];
const WRITE = ["create", "update", "patch", "delete", "deletecollection"];

/** Names of the cluster-scoped objects, shared by tests and the bootstrap command. */
export const CONTROLLER_ROLE = CONTROLLER_NAME;
/** What the controller may watch for drift: an aggregated ClusterRole (rules come from roles labelled WATCH_RULES_LABEL). */
export const WATCH_ROLE = `${CONTROLLER_NAME}-watch`;
/** The built-in kinds' read rules, aggregated into WATCH_ROLE. */
export const WATCH_BUILTIN_ROLE = `${CONTROLLER_NAME}-watch-builtin`;
export const CLUSTER_ADMIN_BINDING = `${CONTROLLER_NAME}-cluster-admin`;
export const LEADER_ELECTION_ROLE = `${CONTROLLER_NAME}-leader-election`;
/** Secrets of the controller's own namespace: sealing keys, unsealed Secrets there. */
export const OWN_SECRETS_ROLE = `${CONTROLLER_NAME}-secrets`;
/** Impersonation of ServiceAccounts, bound per tenant namespace (a RoleBinding; see `fjord tenant create`). */
export const IMPERSONATOR_ROLE = "fjord-impersonator";
export const VIEW_ROLE = "fjord-view";
export const EDIT_ROLE = "fjord-edit";

/** fjord's own resources by name (from the CRDs, so a new kind cannot be forgotten here). */
function fjordResources(): string[] {
  return customResourceDefinitions()
    .filter((crd) => (crd.spec as { group: string }).group === GROUP)
    .map((crd) => (crd.spec as { names: { plural: string } }).names.plural);
}

/**
 * What the controller needs cluster-wide besides watching managed kinds. Nothing here writes
 * a tenant's objects: those are applied by impersonating the Application's ServiceAccount.
 */
export function controllerRules(options?: Pick<InstallOptions, "admission">): ExplainedRule[] {
  const own = fjordResources();
  const crdNames = customResourceDefinitions().map((crd) => crd.metadata.name ?? "");
  return [
    { apiGroups: [GROUP], resources: own, verbs: READ, why: "the reconcile loop lists and watches its own kinds in every namespace" },
    { apiGroups: [GROUP], resources: own.map((resource) => `${resource}/status`), verbs: ["patch"], why: "it reports each object's status (conditions, artifact, inventory, history)" },
    {
      apiGroups: [GROUP],
      resources: ["applications", "gitrepositories"],
      verbs: ["patch"],
      why: "its finalizer on Applications (prune on delete); after an image update push, the reconcile-request annotation on the GitRepository",
    },
    { apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], verbs: READ, why: "waits until CRDs are Established (its own at start, Bitnami's SealedSecret); watches CRDs Applications manage" },
    {
      apiGroups: ["apiextensions.k8s.io"],
      resources: ["customresourcedefinitions"],
      verbs: ["create"],
      why: "installs its CRDs, and Bitnami's SealedSecret CRD when absent, at start (create cannot be limited by name: the object does not exist yet)",
    },
    { apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], verbs: ["update", "patch"], resourceNames: crdNames, why: "updates its own CRDs at start, and no others" },
    { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"], why: "Events about fjord objects in their namespaces (patch bumps the count of a repeated Event)" },
    {
      apiGroups: [""],
      resources: ["secrets"],
      verbs: ["get"],
      why: "credentials a secretRef names (GitRepository, ImageRepository secretRef and certSecretRef, Application decryption, Provider webhook address and token), read by name in the referring object's namespace; never listed or watched outside its namespace",
    },
    { apiGroups: ["bitnami.com"], resources: [SEALED_SECRET_RESOURCE], verbs: READ, why: "the Sealed Secrets controller watches SealedSecrets in every namespace" },
    { apiGroups: ["bitnami.com"], resources: [`${SEALED_SECRET_RESOURCE}/status`], verbs: ["patch"], why: "it reports whether each SealedSecret was unsealed" },
    ...(options?.admission
      ? [
          {
            apiGroups: ["admissionregistration.k8s.io"],
            resources: ["validatingwebhookconfigurations"],
            verbs: ["get", "patch"],
            resourceNames: [DEFAULT_WEBHOOK_CONFIGURATION_NAME],
            why: "with --admission: keeps the CA bundle of its own webhook configuration current (the certificate is in its namespace's Secret fjord-admission-tls), and no other",
          },
        ]
      : []),
  ];
}

/**
 * Read access to the built-in kinds Applications commonly manage, for the shared drift watches
 * (one cluster-wide list+watch per kind). Deliberately absent: Secrets (no cluster-wide list
 * of credentials), Pods and Endpoints (rarely applied from Git; Pod specs often hold values),
 * Leases. A kind the controller may not watch is repaired at each periodic sync instead; a
 * cluster admin adds kinds (CRDs) with a ClusterRole labelled WATCH_RULES_LABEL.
 */
export function watchRules(): ExplainedRule[] {
  const read = (apiGroup: string, resources: string[]): ExplainedRule => ({ apiGroups: [apiGroup], resources, verbs: READ, why: "drift watches (shared, cluster-wide, filtered to fjord's owner label)" });
  return [
    read("", ["configmaps", "services", "serviceaccounts", "persistentvolumeclaims", "persistentvolumes", "namespaces", "limitranges", "resourcequotas"]),
    read("apps", ["deployments", "statefulsets", "daemonsets", "replicasets"]),
    read("batch", ["jobs", "cronjobs"]),
    read("autoscaling", ["horizontalpodautoscalers"]),
    read("networking.k8s.io", ["ingresses", "ingressclasses", "networkpolicies"]),
    read("policy", ["poddisruptionbudgets"]),
    read("rbac.authorization.k8s.io", ["roles", "rolebindings", "clusterroles", "clusterrolebindings"]),
    read("storage.k8s.io", ["storageclasses"]),
    read("scheduling.k8s.io", ["priorityclasses"]),
    read("admissionregistration.k8s.io", ["mutatingwebhookconfigurations", "validatingwebhookconfigurations", "validatingadmissionpolicies", "validatingadmissionpolicybindings"]),
  ];
}

/** In the controller's own namespace only. */
export function ownNamespaceRules(): { leases: ExplainedRule[]; secrets: ExplainedRule[] } {
  return {
    leases: [{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"], why: "leader election (--leader-elect): the fjord-controller Lease" }],
    secrets: [
      {
        apiGroups: [""],
        resources: ["secrets"],
        verbs: ["get", "list", "create", "update"],
        why: "Sealed Secrets key pairs (listed by label, created at rotation) and the unsealed Secrets of SealedSecrets in this namespace",
      },
    ],
  };
}

/** Bound per tenant namespace: impersonating a ServiceAccount of namespace N is authorised in N. */
export function impersonatorRules(): ExplainedRule[] {
  return [{ apiGroups: [""], resources: ["serviceaccounts"], verbs: ["impersonate"], why: "apply an Application's objects (and unsealed Secrets) as a ServiceAccount of its namespace" }];
}

const strip = (rules: ExplainedRule[]): PolicyRule[] => rules.map(({ why: _why, ...rule }) => rule);

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

function namespacedRole(name: string, rules: PolicyRule[], options: InstallOptions): KubeObject[] {
  const metadata = { name, namespace: options.namespace, labels: commonLabels() };
  return [
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata, rules },
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name }, subjects: subject(options) },
  ];
}

/**
 * The RBAC objects, ClusterRoles first. The least-privilege bindings and the cluster-admin
 * binding have different names because a binding's roleRef cannot change: switching modes
 * is then an apply plus a prune of the other bindings. No rule holds a wildcard.
 */
export function rbacObjects(options: InstallOptions): KubeObject[] {
  const aggregate = (...roles: string[]) => Object.fromEntries(roles.map((role) => [`rbac.authorization.k8s.io/aggregate-to-${role}`, "true"]));
  const resources = fjordResources();
  const userRoles = [
    clusterRole(VIEW_ROLE, [{ apiGroups: [GROUP], resources, verbs: READ }], aggregate("view", "edit", "admin")),
    // Users edit specs; status (inventory included) is the controller's to write.
    clusterRole(EDIT_ROLE, [{ apiGroups: [GROUP], resources, verbs: WRITE }], aggregate("edit", "admin")),
    clusterRole(IMPERSONATOR_ROLE, strip(impersonatorRules())),
  ];
  if (options.clusterAdmin) return [...userRoles, clusterRoleBinding(CLUSTER_ADMIN_BINDING, "cluster-admin", options)];
  const own = ownNamespaceRules();
  return [
    clusterRole(CONTROLLER_ROLE, strip(controllerRules(options))),
    // No `rules` here: kube-controller-manager fills them from the labelled roles, and an
    // applied empty list would fight it at every install.
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: WATCH_ROLE, labels: commonLabels() }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [WATCH_RULES_LABEL]: "true" } }] } },
    clusterRole(WATCH_BUILTIN_ROLE, strip(watchRules()), { [WATCH_RULES_LABEL]: "true" }),
    ...userRoles,
    clusterRoleBinding(CONTROLLER_ROLE, CONTROLLER_ROLE, options),
    clusterRoleBinding(WATCH_ROLE, WATCH_ROLE, options),
    ...namespacedRole(LEADER_ELECTION_ROLE, strip(own.leases), options),
    ...namespacedRole(OWN_SECRETS_ROLE, strip(own.secrets), options),
  ];
}
