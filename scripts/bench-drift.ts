/**
 * `npm run bench -- drift [--events 20]`: on a fresh local control plane, `fjord controller`
 * (compiled, out-of-cluster) syncs one Application (a Deployment, a ConfigMap, a Service);
 * then drift is made the way people make it, cycling `kubectl scale` (replicas), `kubectl
 * edit` (a ConfigMap value) and `kubectl delete` (the Service), each as the API request those
 * commands send, under their field-manager names. For each, the time from the change being
 * accepted to fjord's revert arriving on a watch. Prints every event, then p50 and max.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { KubeClient } from "../src/kube/client.ts";
import { watchUntil } from "../src/kube/watch-until.ts";
import type { KubeObject } from "../src/model/object.ts";
import { ControlPlane } from "../testenv/control-plane.ts";
import { buildCli, servedGitRepository, percentile, waitForFjordApi, waitForReadyApplications } from "./bench-support.ts";
import { startControllerProcess } from "../test/support/controller-process.ts";
import { CONTROLLER_NODE_FLAGS } from "../src/install/workload.ts";

const NAMESPACE = "drift-bench";
const REPLICAS = 2;

interface DriftKind {
  name: string;
  collection: string;
  object: string;
  /** Makes the change, as the kubectl command does. */
  change(client: KubeClient): Promise<unknown>;
  /** True once the object is back as Git has it. */
  reverted(object: KubeObject | undefined): boolean;
}

const kinds: DriftKind[] = [
  {
    name: "kubectl scale deployment web --replicas=1",
    collection: `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`,
    object: "web",
    change: (client) =>
      client.request("PATCH", `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/web/scale`, {
        query: { fieldManager: "kubectl-scale" },
        body: { spec: { replicas: 1 } },
        contentType: "application/merge-patch+json",
      }),
    reverted: (object) => (object?.spec as { replicas?: number } | undefined)?.replicas === REPLICAS,
  },
  {
    name: "kubectl edit configmap settings (mode: edited)",
    collection: `/api/v1/namespaces/${NAMESPACE}/configmaps`,
    object: "settings",
    change: (client) =>
      client.request("PATCH", `/api/v1/namespaces/${NAMESPACE}/configmaps/settings`, {
        query: { fieldManager: "kubectl-edit" },
        body: { data: { mode: "edited" } },
        contentType: "application/merge-patch+json",
      }),
    reverted: (object) => (object?.data as Record<string, string> | undefined)?.mode === "gitops",
  },
  {
    name: "kubectl delete service web",
    collection: `/api/v1/namespaces/${NAMESPACE}/services`,
    object: "web",
    change: (client) => client.request("DELETE", `/api/v1/namespaces/${NAMESPACE}/services/web`),
    reverted: (object) => object !== undefined && object.metadata.deletionTimestamp === undefined,
  },
];

function manifests(): Record<string, string> {
  const docs = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } },
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: NAMESPACE }, data: { mode: "gitops" } },
    { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: NAMESPACE }, spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] } },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: NAMESPACE },
      spec: {
        replicas: REPLICAS,
        selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "registry.example/web:1" }] } },
      },
    },
  ];
  return { "app/manifests.yaml": docs.map((doc) => stringify(doc)).join("---\n") };
}

/** Milliseconds from the change being accepted to the reverted object showing on a watch. */
async function measure(client: KubeClient, kind: DriftKind): Promise<number> {
  const stop = new AbortController();
  let changedAt = 0;
  let reverted = false;
  let listed!: () => void;
  const ready = new Promise<void>((resolve) => (listed = resolve));
  const revert = watchUntil(client, { path: kind.collection, fieldSelector: `metadata.name=${kind.object}`, signal: AbortSignal.any([stop.signal, AbortSignal.timeout(60_000)]) }, (objects, change) => {
    if (!change) {
      listed();
      return false;
    }
    reverted = changedAt > 0 && change.type !== "DELETED" && kind.reverted(objects.get(`${NAMESPACE}/${kind.object}`));
    return reverted;
  });
  await ready;
  await kind.change(client);
  changedAt = performance.now();
  await revert;
  if (!reverted) throw new Error(`"${kind.name}" was not reverted within 60 s; see the controller log`);
  return performance.now() - changedAt;
}

export async function benchDrift(events: number): Promise<void> {
  const plane = await ControlPlane.start({ progress: (message) => process.stderr.write(`testenv: ${message}\n`) });
  const work = await mkdtemp(path.join(os.tmpdir(), "fjord-bench-drift-"));
  const client = KubeClient.load({ kubeconfig: plane.kubeconfigPath });
  await buildCli();
  const controller = await startControllerProcess({ kubeconfig: plane.kubeconfigPath, logFile: path.join(work, "controller.log"), cacheDir: path.join(work, "cache"), compiled: true, nodeArgs: [...CONTROLLER_NODE_FLAGS] });
  const repository = await servedGitRepository(manifests());
  try {
    await waitForFjordApi(client);
    const api = "/apis/fjord.dev/v1alpha1/namespaces/default";
    await client.request("POST", `${api}/gitrepositories`, { body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "drift" }, spec: { url: repository.url, interval: "1h" } } });
    await client.request("POST", `${api}/applications`, {
      body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "drift" }, spec: { sourceRef: { kind: "GitRepository", name: "drift" }, path: "./app", interval: "1h" } },
    });
    await waitForReadyApplications(client, 1, 120_000);
    // Let the watches settle after the first sync, as they would in a running cluster.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const timings: number[] = [];
    for (let i = 0; i < events; i++) {
      const kind = kinds[i % kinds.length] as DriftKind;
      const ms = await measure(client, kind);
      timings.push(ms);
      console.log(`${String(i + 1).padStart(2)}. ${kind.name.padEnd(48)} reverted in ${ms.toFixed(0)} ms`);
      // Separate events, so each is its own revert rather than part of the previous debounce.
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const sorted = [...timings].sort((a, b) => a - b);
    console.log(`drift events: ${events}; p50 ${percentile(sorted, 50).toFixed(0)} ms, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms (target: p50 under 1000 ms)`);
  } finally {
    client.close();
    await controller.stop();
    await repository.close();
    await plane.stop();
    await rm(work, { recursive: true, force: true });
  }
}
