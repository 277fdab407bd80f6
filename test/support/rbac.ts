import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeClient } from "../../src/kube/client.ts";
import type { KubeObject } from "../../src/model/object.ts";

export interface RoleRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/**
 * Grants a ServiceAccount a Role in its namespace (Role plus RoleBinding, both named `name`)
 * and returns once the API server's authorizer applies it: RBAC is served from a cache that
 * lags the write by a moment, so a request made at once can still be forbidden.
 */
export async function grantRole(client: KubeClient, namespace: string, serviceAccount: string, name: string, rules: RoleRule[]): Promise<void> {
  const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}`;
  await client.request("POST", `${rbac}/roles`, { body: { metadata: { name }, rules } });
  await client.request("POST", `${rbac}/rolebindings`, {
    body: { metadata: { name }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name }, subjects: [{ kind: "ServiceAccount", name: serviceAccount, namespace }] },
  });
  const [rule] = rules;
  if (!rule) return;
  const review = {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: {
      user: `system:serviceaccount:${namespace}:${serviceAccount}`,
      groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
      resourceAttributes: { namespace, group: rule.apiGroups[0] ?? "", resource: rule.resources[0] ?? "", verb: rule.verbs[0] ?? "" },
    },
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answer = await client.request<{ status: { allowed: boolean } }>("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", { body: review });
    if (answer.status.allowed) return;
    if (Date.now() > deadline) throw new Error(`Role ${namespace}/${name} was not in effect for ServiceAccount ${serviceAccount} after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface AccessAttributes {
  verb: string;
  group?: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** The API server's authorizer answering whether a ServiceAccount may do something. */
export async function serviceAccountMay(client: KubeClient, account: { namespace: string; name: string }, attributes: AccessAttributes): Promise<boolean> {
  const review = await client.request<{ status: { allowed: boolean } }>("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
    body: {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: {
        user: `system:serviceaccount:${account.namespace}:${account.name}`,
        groups: ["system:serviceaccounts", `system:serviceaccounts:${account.namespace}`, "system:authenticated"],
        resourceAttributes: { group: "", ...attributes },
      },
    },
  });
  return review.status.allowed;
}

/** Waits until RBAC (whose cache lags writes, and whose aggregated roles kube-controller-manager fills later) allows it. */
export async function waitUntilAllowed(client: KubeClient, account: { namespace: string; name: string }, attributes: AccessAttributes, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await serviceAccountMay(client, account, attributes))) {
    if (Date.now() > deadline) throw new Error(`${account.namespace}/${account.name} may still not ${JSON.stringify(attributes)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const RBAC_API = "/apis/rbac.authorization.k8s.io/v1";

/** Where an object of the kinds install and tenant objects use lives (no discovery needed for these). */
function objectPath(object: KubeObject): string {
  const name = object.metadata.name ?? "";
  const namespace = object.metadata.namespace ?? "";
  switch (object.kind) {
    case "Namespace":
      return `/api/v1/namespaces/${name}`;
    case "ServiceAccount":
      return `/api/v1/namespaces/${namespace}/serviceaccounts/${name}`;
    case "ClusterRole":
      return `${RBAC_API}/clusterroles/${name}`;
    case "ClusterRoleBinding":
      return `${RBAC_API}/clusterrolebindings/${name}`;
    case "Role":
      return `${RBAC_API}/namespaces/${namespace}/roles/${name}`;
    case "RoleBinding":
      return `${RBAC_API}/namespaces/${namespace}/rolebindings/${name}`;
    default:
      throw new Error(`objectPath: ${object.kind} is not an RBAC or namespace kind`);
  }
}

/** Server-side applies objects as the test (the cluster admin), in order. */
export async function applyAsAdmin(client: KubeClient, objects: readonly KubeObject[]): Promise<void> {
  for (const object of objects) {
    await client.request("PATCH", objectPath(object), { query: { fieldManager: "fjord-test", force: true }, body: object, contentType: "application/apply-patch+yaml" });
  }
}

export async function deleteAsAdmin(client: KubeClient, objects: readonly KubeObject[]): Promise<void> {
  for (const object of objects) await client.request("DELETE", objectPath(object)).catch(() => undefined);
}

/**
 * Gives the cluster-scoped objects (ClusterRoles and their bindings) a per-run suffix, so test
 * files installing fjord side by side never overwrite or prune each other's. References to
 * renamed ClusterRoles follow; aggregation labels stay (the aggregated rules are the same).
 */
export function withClusterNamesSuffixed(objects: readonly KubeObject[], suffix: string, renamedRoles: ReadonlySet<string> = new Set()): KubeObject[] {
  const roles = new Set([...renamedRoles, ...objects.filter((object) => object.kind === "ClusterRole").map((object) => object.metadata.name ?? "")]);
  return objects.map((object) => {
    const copy = structuredClone(object) as KubeObject & { roleRef?: { kind: string; name: string } };
    if (copy.kind === "ClusterRole" || copy.kind === "ClusterRoleBinding") copy.metadata.name = `${copy.metadata.name ?? ""}-${suffix}`;
    if (copy.roleRef?.kind === "ClusterRole" && roles.has(copy.roleRef.name)) copy.roleRef.name = `${copy.roleRef.name}-${suffix}`;
    return copy;
  });
}

/**
 * A client that authenticates as a ServiceAccount with a token from the TokenRequest API, the
 * way the controller's Pod does, instead of the test's admin certificate.
 */
export async function serviceAccountClient(admin: KubeClient, kubeConfig: KubeConfig, account: { namespace: string; name: string }, dir: string): Promise<KubeClient> {
  const requested = await admin.request<{ status: { token: string } }>("POST", `/api/v1/namespaces/${account.namespace}/serviceaccounts/${account.name}/token`, {
    body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } },
  });
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error("the test kubeconfig names no cluster");
  const ca = cluster.caData ?? (cluster.caFile ? (await readFile(cluster.caFile)).toString("base64") : undefined);
  const file = path.join(dir, `${account.namespace}-${account.name}.kubeconfig`);
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "test", cluster: { server: cluster.server, ...(ca ? { "certificate-authority-data": ca } : {}) } }],
    users: [{ name: account.name, user: { token: requested.status.token } }],
    contexts: [{ name: "test", context: { cluster: "test", user: account.name } }],
    "current-context": "test",
  };
  await writeFile(file, JSON.stringify(config), { mode: 0o600 });
  return KubeClient.load({ kubeconfig: file });
}
