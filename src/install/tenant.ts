import type { KubeObject } from "../model/object.ts";
import { commonLabels, CONTROLLER_NAME, DEFAULT_NAMESPACE } from "./options.ts";
import { IMPERSONATOR_ROLE } from "./rbac.ts";

export const DEFAULT_TENANT_SERVICE_ACCOUNT = "fjord";
export const DEFAULT_TENANT_CLUSTER_ROLE = "admin";
/** Marks a namespace `fjord tenant create` set up. */
export const TENANT_LABEL = "fjord.dev/tenant";

export interface TenantOptions {
  /** The tenant's namespace. */
  namespace: string;
  /** The ServiceAccount its Applications apply as (spec.serviceAccountName, or the controller's --default-service-account). */
  serviceAccount: string;
  /** What that ServiceAccount may do in the namespace (a RoleBinding, so never beyond it). */
  clusterRole: string;
  /** Where the controller runs (its ServiceAccount is fjord-controller there). */
  controllerNamespace: string;
}

export function tenantOptions(partial: Partial<TenantOptions> & { namespace: string }): TenantOptions {
  return {
    namespace: partial.namespace,
    serviceAccount: partial.serviceAccount ?? DEFAULT_TENANT_SERVICE_ACCOUNT,
    clusterRole: partial.clusterRole ?? DEFAULT_TENANT_CLUSTER_ROLE,
    controllerNamespace: partial.controllerNamespace ?? DEFAULT_NAMESPACE,
  };
}

/** Name of the RoleBinding that lets the controller impersonate the namespace's ServiceAccounts. */
export const IMPERSONATION_BINDING = "fjord-controller-impersonate";

/** The binding's roleRef cannot change, so the role is part of its name: another --cluster-role adds a binding. */
export const tenantBindingName = (options: TenantOptions) => `${options.serviceAccount}-${options.clusterRole}`.slice(0, 253);

/**
 * What onboarding a tenant takes, as `flux create tenant` does it: the namespace, a
 * ServiceAccount bound to `clusterRole` in that namespace only, and the RoleBinding that lets
 * fjord's controller impersonate ServiceAccounts of that namespace (and of no other).
 */
export function tenantObjects(options: TenantOptions): KubeObject[] {
  const labels = { ...commonLabels(), [TENANT_LABEL]: options.namespace };
  const metadata = (name: string) => ({ name, namespace: options.namespace, labels });
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: options.namespace, labels } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: metadata(options.serviceAccount) },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: metadata(tenantBindingName(options)),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: options.clusterRole },
      subjects: [{ kind: "ServiceAccount", name: options.serviceAccount, namespace: options.namespace }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: metadata(IMPERSONATION_BINDING),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: IMPERSONATOR_ROLE },
      subjects: [{ kind: "ServiceAccount", name: CONTROLLER_NAME, namespace: options.controllerNamespace }],
    },
  ];
}
