/**
 * `npm run bench -- history [--count 1000] [--entries 100]`: the cost of Application history on
 * a fresh local control plane. `count` Applications each get a full history of `entries`
 * realistic sync entries (random commit SHAs, a few changed objects), then every Application
 * records one more sync through the controller's HistoryRecorder three ways: as a running
 * controller (its own copy of what it wrote), as a controller just restarted (no copy), and an
 * idle reconcile (nothing to add). Prints the bytes per entry, the storage for all histories,
 * the API requests per recorded reconcile and the append latency.
 */
import { createHash } from "node:crypto";
import { syncEntry } from "../src/controller/application-history.ts";
import { installCustomResourceDefinitions } from "../src/controller/crd-install.ts";
import { DEFAULT_HISTORY_BOUNDS, type HistoryEntry } from "../src/history/entry.ts";
import { HistoryRecorder } from "../src/history/recorder.ts";
import { appendHistory, HISTORY_DATA_KEY, listHistories } from "../src/history/store.ts";
import { KubeClient } from "../src/kube/client.ts";
import { mapLimit } from "../src/util/map-limit.ts";
import { ControlPlane } from "../testenv/control-plane.ts";
import { logRequests } from "../test/support/request-log.ts";
import { benchAppName, percentile, waitForFjordApi } from "./bench-support.ts";

const NAMESPACE = "bench-history";
const CONCURRENCY = 16;

export async function benchHistory(count: number, entries: number): Promise<void> {
  const plane = await ControlPlane.start({ progress: (message) => process.stderr.write(`testenv: ${message}\n`) });
  const client = KubeClient.load({ kubeconfig: plane.kubeconfigPath });
  try {
    await installCustomResourceDefinitions(client);
    await waitForFjordApi(client);
    await client.request("POST", "/api/v1/namespaces", { body: { metadata: { name: NAMESPACE } } });
    const owners = await mapLimit(Array.from({ length: count }, (_, index) => index), CONCURRENCY, async (index) => {
      const app = await client.request<{ metadata: { uid: string } }>("POST", `/apis/fjord.dev/v1alpha1/namespaces/${NAMESPACE}/applications`, {
        body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: benchAppName(index) }, spec: { sourceRef: { kind: "GitRepository", name: "none" }, path: "./", suspend: true } },
      });
      return { namespace: NAMESPACE, name: benchAppName(index), uid: app.metadata.uid };
    });
    // A full history per Application: one create holding `entries` entries, as if recorded over time.
    const start = Date.now() - entries * 3600_000;
    await mapLimit(owners, CONCURRENCY, (owner, index) =>
      appendHistory(client, owner, Array.from({ length: entries }, (_, n) => entry(index, n, new Date(start + n * 3600_000))), DEFAULT_HISTORY_BOUNDS, new Date(), null),
    );
    const stored = await listHistories(client, NAMESPACE);
    const bytes = stored.reduce((sum, configMap) => sum + (configMap.binaryData?.[HISTORY_DATA_KEY]?.length ?? 0), 0);
    // What etcd holds per history: the whole ConfigMap (metadata, owner reference, managedFields), not only the data.
    const objectBytes = stored.reduce((sum, configMap) => sum + Buffer.byteLength(JSON.stringify(configMap)), 0);
    console.log(`histories: ${stored.length} Applications x ${entries} entries; stored ${(bytes / 1024 / 1024).toFixed(2)} MiB (gzip+base64), ${(bytes / (stored.length * entries)).toFixed(0)} bytes per entry`);
    console.log(`whole ConfigMaps as served (what etcd stores): ${(objectBytes / 1024 / 1024).toFixed(2)} MiB, ${(objectBytes / stored.length / 1024).toFixed(1)} KiB per Application`);

    // One more sync per Application, three ways.
    const now = new Date();
    const restarted = new HistoryRecorder(DEFAULT_HISTORY_BOUNDS);
    const afterRestart = await measure(client, owners, (owner, index, log) => restarted.record(owner, [entry(index, entries, now)], log));
    const running = await measure(client, owners, (owner, index, log) => restarted.record(owner, [entry(index, entries + 1, new Date(now.getTime() + 1000))], log));
    const idle = await measure(client, owners, (owner, _index, log) => restarted.record(owner, [], log));
    for (const [label, figures] of [
      ["running controller (its own copy)", running],
      ["first reconcile after a restart", afterRestart],
      ["idle reconcile (nothing to add)", idle],
    ] as const) {
      console.log(`${label.padEnd(36)} ${figures.requestsPerApp.toFixed(2)} requests per Application (${figures.summary}); append p50 ${figures.p50.toFixed(1)} ms, p95 ${figures.p95.toFixed(1)} ms`);
    }
  } finally {
    client.close();
    await plane.stop();
  }
}

/** A typical deploy entry: random SHAs do not compress, so the figure does not flatter. */
function entry(app: number, n: number, at: Date): HistoryEntry {
  return syncEntry({
    revision: `main@sha1:${createHash("sha1").update(`${app}/${n}`).digest("hex")}`,
    artifact: { author: "Ada Lovelace <ada@example.com>", committer: "GitHub <noreply@github.com>", message: `deploy ${benchAppName(app)} v1.${n}\n\nbody` },
    startedAt: new Date(at.getTime() - 2000).toISOString(),
    finishedAt: at.toISOString(),
    changes: [
      { action: "configured", kind: "Deployment", namespace: NAMESPACE, name: benchAppName(app) },
      { action: "configured", kind: "ConfigMap", namespace: NAMESPACE, name: `${benchAppName(app)}-config-${n}` },
      { action: "created", kind: "Service", namespace: NAMESPACE, name: `${benchAppName(app)}-canary-${n}` },
    ],
    driftReverts: [],
  });
}

interface Figures {
  requestsPerApp: number;
  summary: string;
  p50: number;
  p95: number;
}

async function measure(client: KubeClient, owners: ReadonlyArray<{ namespace: string; name: string; uid: string }>, record: (owner: { namespace: string; name: string; uid: string }, index: number, client: KubeClient) => Promise<void>): Promise<Figures> {
  const log = logRequests(client);
  const timings = await mapLimit(owners, CONCURRENCY, async (owner, index) => {
    const started = performance.now();
    await record(owner, index, log.client);
    return performance.now() - started;
  });
  const byMethod = new Map<string, number>();
  for (const request of log.requests) byMethod.set(request.method, (byMethod.get(request.method) ?? 0) + 1);
  const summary = [...byMethod].map(([method, n]) => `${(n / owners.length).toFixed(2)} ${method}`).join(" + ") || "none";
  const sorted = [...timings].sort((a, b) => a - b);
  return { requestsPerApp: log.requests.length / owners.length, summary, p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
}
