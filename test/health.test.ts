/**
 * Health evaluation against objects as a real control plane writes them: the fixtures in
 * src/health/fixtures were captured from it, and this keeps them honest as Kubernetes moves.
 */
import assert from "node:assert/strict";
import https from "node:https";
import { test, type TestContext } from "node:test";
import { evaluateHealth } from "../src/health/evaluate.ts";
import { worst, type Health } from "../src/health/status.ts";
import type { KubeObject } from "../src/model/object.ts";
import { createTestNamespace, eventually, useCluster, type TestCluster } from "./support/cluster.ts";

/** Plain JSON in and out: typed clients turn timestamps into Dates, which live objects never are. */
async function request(cluster: TestCluster, method: string, path: string, body?: unknown, contentType = "application/json"): Promise<KubeObject> {
  const server = cluster.kubeConfig.getCurrentCluster()?.server ?? "";
  const options: https.RequestOptions = { method, headers: { accept: "application/json", "content-type": contentType } };
  await cluster.kubeConfig.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(path, server), options, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        if ((response.statusCode ?? 500) >= 300) reject(new Error(`${method} ${path}: ${response.statusCode} ${text}`));
        else resolve(JSON.parse(text) as KubeObject);
      });
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

function podTemplate(app: string, extra: Record<string, unknown> = {}) {
  return { metadata: { labels: { app } }, spec: { containers: [{ name: app, image: `registry.example/shop/${app}:1.0.0` }], ...extra } };
}

/** Creates each object, then polls until `expect` holds for every one's health. */
async function createAndWatch(cluster: TestCluster, objects: { path: string; body: KubeObject }[], expect: (health: Health[]) => boolean) {
  for (const { path, body } of objects) await request(cluster, "POST", path, body);
  const read = () => Promise.all(objects.map(({ path, body }) => request(cluster, "GET", `${path}/${body.metadata.name}`).then(evaluateHealth)));
  return eventually(async () => {
    const health = await read();
    return expect(health) ? health : undefined;
  }, { timeoutMs: 90_000, describe: async () => JSON.stringify(await read(), null, 2) });
}

test("workloads that can run become Current", async (t: TestContext) => {
  const cluster = await useCluster();
  const ns = await createTestNamespace(cluster, t);
  const selector = (app: string) => ({ matchLabels: { app } });
  const health = await createAndWatch(
    cluster,
    [
      { path: `/apis/apps/v1/namespaces/${ns}/deployments`, body: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec: { replicas: 2, selector: selector("web"), template: podTemplate("web") } } },
      { path: `/apis/apps/v1/namespaces/${ns}/statefulsets`, body: { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "db" }, spec: { replicas: 2, serviceName: "db", selector: selector("db"), template: podTemplate("db") } } },
      { path: `/apis/apps/v1/namespaces/${ns}/daemonsets`, body: { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "agent" }, spec: { selector: selector("agent"), template: podTemplate("agent") } } },
      { path: `/apis/batch/v1/namespaces/${ns}/jobs`, body: { apiVersion: "batch/v1", kind: "Job", metadata: { name: "migrate" }, spec: { backoffLimit: 0, template: podTemplate("migrate", { restartPolicy: "Never" }) } } },
      { path: `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`, body: { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "web" }, spec: { minAvailable: 1, selector: selector("web") } } },
      { path: `/api/v1/namespaces/${ns}/services`, body: { apiVersion: "v1", kind: "Service", metadata: { name: "web" }, spec: { selector: { app: "web" }, ports: [{ port: 80 }] } } },
      { path: `/api/v1/namespaces/${ns}/configmaps`, body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings" }, data: { LOG_LEVEL: "info" } } },
    ],
    (all) => worst(...all.map((item) => item.status)) === "Current",
  );
  assert.match(health[0]?.message ?? "", /^Deployment\.apps\/.+\/web: 2 of 2 replicas available$/);
  assert.match(health[3]?.message ?? "", /job complete: 1 of 1 succeeded/);
});

test("workloads that cannot run fail or keep waiting, and say why", async (t: TestContext) => {
  const cluster = await useCluster();
  const ns = await createTestNamespace(cluster, t);
  const nowhere = { nodeSelector: { pool: "does-not-exist" } };
  const [deployment, job, service, claim] = await createAndWatch(
    cluster,
    [
      { path: `/apis/apps/v1/namespaces/${ns}/deployments`, body: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "api" }, spec: { replicas: 1, progressDeadlineSeconds: 3, selector: { matchLabels: { app: "api" } }, template: podTemplate("api", nowhere) } } },
      { path: `/apis/batch/v1/namespaces/${ns}/jobs`, body: { apiVersion: "batch/v1", kind: "Job", metadata: { name: "backfill" }, spec: { backoffLimit: 0, activeDeadlineSeconds: 2, template: podTemplate("backfill", { ...nowhere, restartPolicy: "Never" }) } } },
      { path: `/api/v1/namespaces/${ns}/services`, body: { apiVersion: "v1", kind: "Service", metadata: { name: "public" }, spec: { type: "LoadBalancer", selector: { app: "api" }, ports: [{ port: 80 }] } } },
      { path: `/api/v1/namespaces/${ns}/persistentvolumeclaims`, body: { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } } },
    ],
    ([first, second]) => first?.status === "Failed" && second?.status === "Failed",
  );
  assert.match(deployment?.message ?? "", /rollout exceeded its progress deadline \(ProgressDeadlineExceeded\)/);
  assert.match(job?.message ?? "", /job failed \(DeadlineExceeded\)/);
  assert.equal(service?.status, "InProgress", service?.message);
  assert.equal(claim?.status, "InProgress", claim?.message);
  assert.match(claim?.message ?? "", /PVC phase Pending/);
});

test("a CustomResourceDefinition becomes Current once established", async () => {
  const cluster = await useCluster();
  const suffix = Math.random().toString(36).slice(2, 8);
  const group = `health-${suffix}.fjord.test`;
  const name = `gadgets.${group}`;
  const crd = {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name },
    spec: {
      group,
      scope: "Namespaced",
      names: { kind: "Gadget", plural: "gadgets", singular: "gadget", listKind: "GadgetList" },
      versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
    },
  };
  try {
    const [health] = await createAndWatch(cluster, [{ path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body: crd }], ([only]) => only?.status === "Current");
    assert.equal(health?.message, `CustomResourceDefinition.apiextensions.k8s.io/${name}: established; serving ${name}`);
  } finally {
    await request(cluster, "DELETE", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`).catch(() => undefined);
  }
});

test("a namespace held by a finalizer is Terminating and names what holds it", async (t: TestContext) => {
  const cluster = await useCluster();
  const ns = await createTestNamespace(cluster, t);
  const configMapPath = `/api/v1/namespaces/${ns}/configmaps/held`;
  await request(cluster, "POST", `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "held", finalizers: ["fjord.test/hold"] } });
  t.after(() => request(cluster, "PATCH", configMapPath, { metadata: { finalizers: null } }, "application/merge-patch+json").catch(() => undefined));
  await request(cluster, "DELETE", `/api/v1/namespaces/${ns}`);

  const namespace = await eventually(async () => {
    const health = evaluateHealth(await request(cluster, "GET", `/api/v1/namespaces/${ns}`));
    return /NamespaceFinalizersRemaining/.test(health.message) ? health : undefined;
  });
  assert.equal(namespace.status, "Terminating");
  assert.match(namespace.message, /fjord\.test\/hold in 1 resource instances/);
  const configMap = evaluateHealth(await request(cluster, "GET", configMapPath));
  assert.equal(configMap.status, "Terminating");
  assert.match(configMap.message, /waiting for finalizers fjord\.test\/hold/);
});
