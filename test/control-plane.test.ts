import assert from "node:assert/strict";
import { test } from "node:test";
import { AppsV1Api, BatchV1Api, CoreV1Api } from "@kubernetes/client-node";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";

test("a Deployment with 2 replicas becomes Available with its pods Running on kwok nodes", async (t) => {
  const cluster = await useCluster();
  const namespace = await createTestNamespace(cluster, t);
  const apps = cluster.kubeConfig.makeApiClient(AppsV1Api);
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const labels = { app: "web" };
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name: "web" },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [{ name: "web", image: "registry.example/web:1.0.0" }] } },
      },
    },
  });

  const deployment = await eventually(
    async () => {
      const current = await apps.readNamespacedDeployment({ name: "web", namespace });
      const available = current.status?.conditions?.find((condition) => condition.type === "Available");
      return available?.status === "True" && current.status?.availableReplicas === 2 ? current : undefined;
    },
    { describe: async () => JSON.stringify((await apps.readNamespacedDeployment({ name: "web", namespace })).status) },
  );
  assert.equal(deployment.status?.readyReplicas, 2);

  const pods = await core.listNamespacedPod({ namespace, labelSelector: "app=web" });
  const running = pods.items.filter((pod) => pod.status?.phase === "Running" && pod.metadata?.deletionTimestamp === undefined);
  assert.equal(running.length, 2);
  for (const pod of running) {
    assert.match(pod.spec?.nodeName ?? "", /^kwok-node-\d+$/, "pods are scheduled onto the fake nodes");
    assert.ok(pod.status?.podIP, "kwok gives each pod an IP");
  }
});

test("a Job runs to Complete", async (t) => {
  const cluster = await useCluster();
  const namespace = await createTestNamespace(cluster, t);
  const batch = cluster.kubeConfig.makeApiClient(BatchV1Api);
  await batch.createNamespacedJob({
    namespace,
    body: {
      metadata: { name: "migrate" },
      spec: {
        backoffLimit: 0,
        template: { spec: { restartPolicy: "Never", containers: [{ name: "migrate", image: "registry.example/migrate:1.0.0" }] } },
      },
    },
  });
  const job = await eventually(
    async () => {
      const current = await batch.readNamespacedJob({ name: "migrate", namespace });
      return current.status?.conditions?.some((condition) => condition.type === "Complete" && condition.status === "True") ? current : undefined;
    },
    { describe: async () => JSON.stringify((await batch.readNamespacedJob({ name: "migrate", namespace })).status) },
  );
  assert.equal(job.status?.succeeded, 1);
});
