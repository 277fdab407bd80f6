import { customResourceDefinitions } from "../src/api/crds.ts";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { APPLICATION_CRD_NAME, GIT_REPOSITORY_CRD_NAME } from "../src/api/crds.ts";
import { KubeClient } from "../src/kube/client.ts";
import type { KubeObject } from "../src/model/object.ts";
import { ensureBinaries } from "../testenv/ensure-binaries.ts";
import { runFjord } from "./support/cli.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";

const execFileAsync = promisify(execFile);
let client: KubeClient;
let kubeconfig: string;

before(async () => {
  kubeconfig = (await useCluster()).kubeconfigPath;
  client = KubeClient.load({ kubeconfig });
});
after(() => client.close());

/** Asks the API server's authorizer whether the controller's ServiceAccount may do something. */
async function controllerMay(namespace: string, attributes: { verb: string; group?: string; resource: string; namespace?: string; name?: string; subresource?: string }): Promise<boolean> {
  const review = await client.request<{ status: { allowed: boolean } }>("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
    body: {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: {
        user: `system:serviceaccount:${namespace}:fjord-controller`,
        groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
        resourceAttributes: { group: "", ...attributes },
      },
    },
  });
  return review.status.allowed;
}

const exists = (path: string) => client.request("GET", path).then(() => true, () => false);

/** The cluster-scoped objects an install leaves; other tests install them too, so only bindings to this namespace are removed. */
async function removeClusterBindings(namespace: string): Promise<void> {
  for (const name of ["fjord-controller", "fjord-controller-watch", "fjord-controller-cluster-admin"]) {
    const binding = await client.request<KubeObject>("GET", `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}`).catch(() => undefined);
    const subjects = (binding?.subjects as Array<{ namespace?: string }> | undefined) ?? [];
    if (subjects.some((subject) => subject.namespace === namespace)) await client.request("DELETE", `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}`).catch(() => undefined);
  }
}

test("install --export prints multi-document YAML that the API server accepts", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const exported = await runFjord(["install", "--export", "--namespace", namespace, "--webhook-secret", "hooks"]);
  assert.equal(exported.code, 0, exported.stderr);
  const documents = parseAllDocuments(exported.stdout).map((document) => document.toJS() as KubeObject);
  assert.deepEqual(
    documents.map((object) => object.kind),
    [
      "Namespace",
      ...customResourceDefinitions().map(() => "CustomResourceDefinition"),
      ...Array<string>(6).fill("ClusterRole"),
      "ClusterRoleBinding",
      "ClusterRoleBinding",
      "Role",
      "RoleBinding",
      "Role",
      "RoleBinding",
      "ServiceAccount",
      "Service",
      "NetworkPolicy",
      "Deployment",
    ],
  );
  assert.ok(documents.filter((object) => object.metadata.namespace).every((object) => object.metadata.namespace === namespace));

  const { kubectl } = await ensureBinaries(["kubectl"], () => {});
  const child = execFileAsync(kubectl, ["--kubeconfig", kubeconfig, "apply", "--server-side", "--dry-run=server", "--field-manager=fjord-test", "-f", "-"]);
  child.child.stdin?.end(exported.stdout);
  const { stdout } = await child;
  assert.match(stdout, new RegExp(`deployment\\.apps/fjord-controller serverside-applied \\(server dry run\\)`));
  assert.match(stdout, /customresourcedefinition\.apiextensions\.k8s\.io\/applications\.fjord\.dev serverside-applied/);
  assert.match(stdout, /networkpolicy\.networking\.k8s\.io\/fjord-controller serverside-applied \(server dry run\)/);
});

test("install applies everything, waits for the CRDs, and a second run changes nothing", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  t.after(() => removeClusterBindings(namespace));
  const args = ["install", "--namespace", namespace, "--kubeconfig", kubeconfig];
  const first = await runFjord(args);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /Deployment\.apps\/[^ ]+\/fjord-controller (created|configured)/);
  assert.match(first.stderr, new RegExp(`installed in namespace ${namespace} \\(least privilege\\)`));
  for (const crd of [GIT_REPOSITORY_CRD_NAME, APPLICATION_CRD_NAME]) {
    const object = await client.request<{ status?: { conditions?: Array<{ type: string; status: string }> } }>("GET", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`);
    assert.ok(object.status?.conditions?.some((condition) => condition.type === "Established" && condition.status === "True"), crd);
  }
  const deployment = await client.request<{ spec: { template: { spec: { serviceAccountName: string } } } }>("GET", `/apis/apps/v1/namespaces/${namespace}/deployments/fjord-controller`);
  assert.equal(deployment.spec.template.spec.serviceAccountName, "fjord-controller");
  assert.ok(await exists(`/api/v1/namespaces/${namespace}/services/fjord-controller`));
  // Ingress to the controller Pod on its HTTP and metrics ports only.
  const policy = await client.request<{ spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: Array<{ ports: Array<{ protocol: string; port: number }> }> } }>(
    "GET",
    `/apis/networking.k8s.io/v1/namespaces/${namespace}/networkpolicies/fjord-controller`,
  );
  assert.deepEqual(policy.spec.podSelector.matchLabels, { "app.kubernetes.io/name": "fjord", "app.kubernetes.io/component": "controller" });
  assert.deepEqual(policy.spec.policyTypes, ["Ingress"]);
  assert.deepEqual(policy.spec.ingress.flatMap((rule) => rule.ports.map((port) => `${port.protocol}/${port.port}`)), ["TCP/8080", "TCP/8081"]);

  const second = await runFjord(args);
  assert.equal(second.code, 0, second.stderr);
  assert.doesNotMatch(second.stdout, /created|configured|deleted/);
  assert.match(second.stdout, /^\d+ unchanged$/m);
});

test("the default RBAC allows only what the controller needs; --cluster-admin swaps in cluster-admin and prunes the narrow binding", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  t.after(() => removeClusterBindings(namespace));
  const install = (...extra: string[]) => runFjord(["install", "--namespace", namespace, "--kubeconfig", kubeconfig, ...extra]);
  const narrow = await install();
  assert.equal(narrow.code, 0, narrow.stderr);

  const may = (attributes: Parameters<typeof controllerMay>[1]) => controllerMay(namespace, attributes);
  // Reads of the kinds Applications manage, for drift watches (the aggregated role fills a moment after the install).
  await eventually(() => may({ verb: "watch", group: "apps", resource: "deployments", namespace: "default" }), { timeoutMs: 30_000 });
  assert.equal(await may({ verb: "list", resource: "configmaps" }), true);
  // Secrets: by name, for a secretRef; never listed or watched outside its namespace, never written there.
  assert.equal(await may({ verb: "get", resource: "secrets", namespace: "kube-system", name: "credentials" }), true);
  assert.equal(await may({ verb: "list", resource: "secrets", namespace: "kube-system" }), false);
  assert.equal(await may({ verb: "watch", resource: "secrets" }), false);
  assert.equal(await may({ verb: "create", resource: "secrets", namespace: "default" }), false);
  assert.equal(await may({ verb: "list", resource: "secrets", namespace }), true);
  assert.equal(await may({ verb: "create", resource: "secrets", namespace }), true);
  assert.equal(await may({ verb: "delete", resource: "secrets", namespace }), false);
  // Its own API: read, status, finalizers (a patch of the Application); never creating or deleting them.
  assert.equal(await may({ verb: "watch", group: "fjord.dev", resource: "imageupdateautomations" }), true);
  assert.equal(await may({ verb: "patch", group: "fjord.dev", resource: "applications", subresource: "status", namespace: "default" }), true);
  assert.equal(await may({ verb: "patch", group: "fjord.dev", resource: "applications", namespace: "default" }), true);
  assert.equal(await may({ verb: "create", group: "fjord.dev", resource: "applications", namespace: "default" }), false);
  assert.equal(await may({ verb: "delete", group: "fjord.dev", resource: "gitrepositories", namespace: "default" }), false);
  // Its CRDs, no others.
  assert.equal(await may({ verb: "patch", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: APPLICATION_CRD_NAME }), true);
  assert.equal(await may({ verb: "patch", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: "widgets.example.com" }), false);
  assert.equal(await may({ verb: "delete", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: APPLICATION_CRD_NAME }), false);
  // Events; impersonation only where `fjord tenant create` binds it; Leases only in its namespace.
  assert.equal(await may({ verb: "create", resource: "events", namespace: "default" }), true);
  assert.equal(await may({ verb: "impersonate", resource: "serviceaccounts", namespace: "default", name: "deployer" }), false);
  assert.equal(await may({ verb: "impersonate", resource: "users", name: "admin" }), false);
  assert.equal(await may({ verb: "update", group: "coordination.k8s.io", resource: "leases", namespace, name: "fjord-controller" }), true);
  assert.equal(await may({ verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: "default" }), false);
  // No writes outside fjord.dev: those go through an Application's serviceAccountName.
  assert.equal(await may({ verb: "create", group: "apps", resource: "deployments", namespace: "default" }), false);
  assert.equal(await may({ verb: "delete", resource: "configmaps", namespace }), false);
  assert.equal(await may({ verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings" }), false);

  const wide = await install("--cluster-admin");
  assert.equal(wide.code, 0, wide.stderr);
  assert.match(wide.stdout, /ClusterRoleBinding\.rbac\.authorization\.k8s\.io\/fjord-controller-cluster-admin (created|configured)/);
  assert.match(wide.stdout, /ClusterRoleBinding\.rbac\.authorization\.k8s\.io\/fjord-controller deleted/);
  assert.equal(await may({ verb: "create", group: "apps", resource: "deployments", namespace: "default" }), true);
  assert.equal(await may({ verb: "create", group: "rbac.authorization.k8s.io", resource: "clusterrolebindings" }), true);
  assert.equal(await exists(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/roles/fjord-controller-leader-election`), false);
});

test("users get view and edit of fjord.dev objects through the aggregated roles", async () => {
  const has = async (role: string, verb: string) =>
    (await client.request<{ rules?: Array<{ verbs: string[]; apiGroups?: string[] }> }>("GET", `/apis/rbac.authorization.k8s.io/v1/clusterroles/${role}`)).rules?.some(
      (rule) => rule.apiGroups?.includes("fjord.dev") && rule.verbs.includes(verb),
    ) || undefined;
  // kube-controller-manager copies labelled rules into the built-in roles, a moment after the install.
  await eventually(() => has("view", "list"), { timeoutMs: 30_000 });
  await eventually(() => has("edit", "patch"), { timeoutMs: 30_000 });
  assert.equal(await has("view", "patch"), undefined);
});

test("tenant create makes the namespace, its ServiceAccount and bindings, leaves an existing namespace as it is, and changes nothing the second time", async (t) => {
  const tenant = `tenant-${Date.now().toString(36)}`;
  t.after(() => client.request("DELETE", `/api/v1/namespaces/${tenant}`).catch(() => undefined));
  const create = (...extra: string[]) => runFjord(["tenant", "create", tenant, "--kubeconfig", kubeconfig, "--controller-namespace", "gitops", ...extra]);
  const first = await create();
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, new RegExp(`Namespace/${tenant} created`));
  assert.match(first.stderr, new RegExp(`tenant ${tenant} ready: its Applications apply as ServiceAccount ${tenant}/fjord \\(ClusterRole admin in ${tenant} only\\)`));
  const binding = await client.request<KubeObject & { roleRef: { name: string }; subjects: Array<{ name: string; namespace: string }> }>("GET", `/apis/rbac.authorization.k8s.io/v1/namespaces/${tenant}/rolebindings/fjord-controller-impersonate`);
  assert.equal(binding.roleRef.name, "fjord-impersonator");
  assert.deepEqual(binding.subjects.map((subject) => `${subject.namespace}/${subject.name}`), ["gitops/fjord-controller"]);
  const admin = await client.request<KubeObject & { roleRef: { name: string } }>("GET", `/apis/rbac.authorization.k8s.io/v1/namespaces/${tenant}/rolebindings/fjord-admin`);
  assert.equal(admin.roleRef.name, "admin");
  assert.ok(await exists(`/api/v1/namespaces/${tenant}/serviceaccounts/fjord`));

  // An existing namespace keeps its labels; a second run changes nothing.
  await client.request("PATCH", `/api/v1/namespaces/${tenant}`, { body: { metadata: { labels: { team: "shop" } } }, contentType: "application/merge-patch+json" });
  const second = await create();
  assert.equal(second.code, 0, second.stderr);
  assert.doesNotMatch(second.stdout, /created|configured/);
  assert.match(second.stderr, /the namespace existed and was left as it is/);
  const namespace = await client.request<KubeObject>("GET", `/api/v1/namespaces/${tenant}`);
  assert.equal(namespace.metadata.labels?.team, "shop");

  const bad = await runFjord(["tenant", "create", "Team_A", "--export"]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /namespace: "Team_A" is not a namespace name/);
  const badAccount = await runFjord(["tenant", "create", "team-a", "--service-account", "../admin", "--export"]);
  assert.match(badAccount.stderr, /--service-account: "\.\.\/admin" is not a Kubernetes object name/);
});
