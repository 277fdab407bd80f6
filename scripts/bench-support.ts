/** What the benchmarks share: timing, the compiled CLI, a Git repository on a Git server. */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { Application } from "../src/api/types.ts";
import type { KubeClient } from "../src/kube/client.ts";
import type { ControlPlane } from "../testenv/control-plane.ts";
import { watchUntil } from "../src/kube/watch-until.ts";
import { mapLimit } from "../src/util/map-limit.ts";
import { stringify } from "yaml";
import { startGitServer } from "../test/support/git-server.ts";

const execFileAsync = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..");

export async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const started = process.hrtime.bigint();
  const value = await fn();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, value };
}

/** The CLI as users run it: compiled (npm ci builds dist/; rebuilt here so it is current). */
export async function buildCli(): Promise<void> {
  await execFileAsync(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: root });
}

/**
 * The manifests committed to a repository on a Git server (git's smart HTTP backend on
 * loopback), as the controller fetches from a Git host: it refuses local paths.
 */
export async function servedGitRepository(files: Record<string, string>): Promise<{ url: string; close(): Promise<void> }> {
  const server = await startGitServer();
  try {
    await server.createRepo("bench");
    await server.commitFiles("bench", files, { message: "bench manifests", author: { name: "bench", email: "bench@fjord.invalid" } });
    return { url: server.repoUrl("bench"), close: () => server.close() };
  } catch (error) {
    await server.close();
    throw error;
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}

/** Resolves once `count` Applications (all namespaces) are Ready, watching rather than polling. */
export async function waitForReadyApplications(client: KubeClient, count: number, timeoutMs: number, onProgress?: (ready: number) => void): Promise<void> {
  let reported = -1;
  await watchUntil(client, { path: "/apis/fjord.dev/v1alpha1/applications", signal: AbortSignal.timeout(timeoutMs), transform: (object) => ({ ...object, metadata: { name: object.metadata.name, namespace: object.metadata.namespace }, spec: {} }) }, (apps) => {
    const ready = [...apps.values()].filter((app) => (app as Application).status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True")).length;
    if (onProgress && Math.floor(ready / 100) !== Math.floor(reported / 100)) onProgress(ready);
    reported = ready;
    return ready >= count;
  });
}

/** The controller installs its CRDs at start; resolves when they are served. */
export async function waitForFjordApi(client: KubeClient, timeoutMs = 60_000, resource = "applications"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const served = await client.request("GET", `/apis/fjord.dev/v1alpha1/${resource}`, { query: { limit: "1" } }).then(
      () => true,
      () => false,
    );
    if (served) return;
    if (Date.now() > deadline) throw new Error("the controller did not install its CRDs in time; see its log");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** CPU seconds (user + system) each named process has used so far; Linux /proc, clock ticks of 1/100 s. */
export async function cpuSeconds(pids: Record<string, number | undefined>): Promise<Record<string, number>> {
  const usage: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    if (pid === undefined) continue;
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    usage[name] = (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100;
  }
  return usage;
}

/** Where the CPU went between two `cpuSeconds` readings: the line that says which process was the bottleneck. */
export function cpuReport(before: Record<string, number>, after: Record<string, number>, seconds: number): string {
  const used = Object.entries(after).map(([name, total]) => [name, total - (before[name] ?? 0)] as const);
  const sum = used.reduce((acc, [, value]) => acc + value, 0);
  return `CPU seconds in ${seconds.toFixed(1)} s on ${os.cpus().length} cores: ${used.map(([name, value]) => `${name} ${value.toFixed(1)}`).join(", ")} (total ${sum.toFixed(1)})`;
}

export function controlPlanePids(plane: ControlPlane): Record<string, number | undefined> {
  return Object.fromEntries(plane.processes.map((process) => [process.component, process.pid]));
}

/** The benchmarks' Application names: app-0000, app-0001, ... */
export const benchAppName = (index: number) => `app-${String(index).padStart(4, "0")}`;

/**
 * `count` Applications' worth of manifests, one directory each (apps/<name>/): a ConfigMap, a
 * Secret, a ServiceAccount, a Service and a Deployment. The Secret is written with `stringData`
 * (as people write it) or `data` (which a resync can compare without a dry run).
 */
export function benchAppManifests(count: number, secretAs: "stringData" | "data"): Record<string, string> {
  const files: Record<string, string> = {};
  for (let index = 0; index < count; index++) {
    const name = benchAppName(index);
    const labels = { app: name };
    const secret = secretAs === "data" ? { data: { token: Buffer.from(`bench-${index}`).toString("base64") } } : { stringData: { token: `bench-${index}` } };
    const docs = [
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `${name}-settings` }, data: { index: String(index), mode: "bench" } },
      { apiVersion: "v1", kind: "Secret", metadata: { name: `${name}-credentials` }, ...secret },
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name } },
      { apiVersion: "v1", kind: "Service", metadata: { name }, spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] } },
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name },
        spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { serviceAccountName: name, containers: [{ name: "app", image: `registry.example/app:${index}` }] } } },
      },
    ];
    files[`apps/${name}/manifests.yaml`] = docs.map((doc) => stringify(doc)).join("---\n");
  }
  return files;
}

/** Creates `namespaces` Namespaces, each with a GitRepository `apps` on `url` resynced every `interval`. */
export async function createBenchSources(client: KubeClient, namespaces: readonly string[], url: string, interval: string): Promise<void> {
  for (const namespace of namespaces) {
    await client.request("POST", "/api/v1/namespaces", { body: { metadata: { name: namespace } } });
    await client.request("POST", `/apis/fjord.dev/v1alpha1/namespaces/${namespace}/gitrepositories`, {
      body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "apps" }, spec: { url, interval } },
    });
  }
}

/** Creates the benchmark's `count` Applications (16 requests at a time), each on its own apps/<name>/ of the sources' repository. */
export async function createBenchApplications(client: KubeClient, count: number, namespaceOf: (index: number) => string, spec: Record<string, unknown>): Promise<void> {
  await mapLimit(
    Array.from({ length: count }, (_, index) => index),
    16,
    (index) =>
      client.request("POST", `/apis/fjord.dev/v1alpha1/namespaces/${namespaceOf(index)}/applications`, {
        body: {
          apiVersion: "fjord.dev/v1alpha1",
          kind: "Application",
          metadata: { name: benchAppName(index) },
          spec: { sourceRef: { kind: "GitRepository", name: "apps" }, path: `./apps/${benchAppName(index)}`, ...spec },
        },
      }),
  );
}
