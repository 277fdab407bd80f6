import type { KubeClient } from "../../src/kube/client.ts";

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
