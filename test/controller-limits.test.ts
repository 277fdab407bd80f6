// Issue 13, attack 9: a repository built to exhaust the controller's memory. The compiled
// controller runs as its Deployment runs it (the same node flags, the default concurrency)
// against a real Git server; hostile Applications fail with the limit they hit, a normal one
// keeps reconciling, and the controller's peak memory stays under the Deployment's limit.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import type { Application } from "../src/api/types.ts";
import { installOptions } from "../src/install/options.ts";
import { CONTROLLER_NODE_FLAGS, deployment } from "../src/install/workload.ts";
import { KubeClient } from "../src/kube/client.ts";
import { isNotFound } from "../src/kube/errors.ts";
import type { KubeObject } from "../src/model/object.ts";
import { peerToolPath } from "./support/cli.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";
import { startControllerProcess, type ControllerProcess } from "./support/controller-process.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";
import { requestReconcile } from "./support/reconcile-request.ts";

const root = path.resolve(import.meta.dirname, "..");
const SUITE = "limits";

let client: KubeClient;
let kubeconfig: string;
let work: string;
let git: GitServer;
let controller: ControllerProcess | undefined;

before(async () => {
  const cluster = await useCluster();
  kubeconfig = cluster.kubeconfigPath;
  client = KubeClient.load({ kubeconfig });
  work = await mkdtemp(path.join(os.tmpdir(), "fjord-limits-"));
  git = await startGitServer();
  // The compiled CLI is what the Deployment runs; build it from this checkout.
  await promisify(execFile)(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: root });
});
after(async () => {
  await controller?.stop("SIGKILL");
  client.close();
  await git.close();
  await rm(work, { recursive: true, force: true });
});

/** The memory limit of the controller's container in the Deployment `fjord install` applies, in MiB. */
function deploymentMemoryLimitMiB(): number {
  const spec = deployment(installOptions()).spec as { template: { spec: { containers: Array<{ resources: { limits: { memory: string } } }> } } };
  const limit = spec.template.spec.containers[0]!.resources.limits.memory;
  const match = /^(\d+)(Mi|Gi)$/.exec(limit);
  assert.ok(match, `unexpected memory limit ${limit}`);
  return Number(match[1]) * (match[2] === "Gi" ? 1024 : 1);
}

function configMaps(count: number, bytes: number, prefix: string): string {
  const filler = "x".repeat(Math.max(0, bytes - 80));
  return Array.from({ length: count }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${prefix}-${i}\ndata:\n  v: "${filler}"\n`).join("---\n");
}

/** Just under every limit: about 900,000 YAML nodes in 4,900 objects of a kind the server does not know. */
function nearLimit(part: number): string {
  const keys = Array.from({ length: 90 }, (_, k) => `  k${k}: v${k}-${"y".repeat(8)}`).join("\n");
  return Array.from({ length: 1225 }, (_, i) => `apiVersion: example.com/v1\nkind: Nope\nmetadata:\n  name: near-${part}-${i}\nspec:\n${keys}\n`).join("---\n");
}

function aliasBomb(): string {
  const lines = ["apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: bomb", "data:", '  l0: &l0 ["v", "v", "v", "v", "v", "v", "v", "v", "v", "v"]'];
  for (let level = 1; level < 9; level++) lines.push(`  l${level}: &l${level} [${Array(10).fill(`*l${level - 1}`).join(", ")}]`);
  return `${lines.join("\n")}\n`;
}

const normalConfig = (value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: normal\ndata:\n  value: "${value}"\n`;

/** Each hostile Application: its path, and the reason and message it must fail with. */
const HOSTILE: Record<string, { reason: string; message: RegExp }> = {
  huge: { reason: "RenderFailed", message: /huge\/huge\.yaml: file is 14\.6 MiB; fjord reads manifest files of at most 8 MiB/ },
  chart: { reason: "RenderFailed", message: /helm template printed more than 16 MiB of manifests, fjord's limit per Application/ },
  many: { reason: "RenderFailed", message: /more than 5,000 objects \(fjord's limit per Application\)/ },
  bomb: { reason: "RenderFailed", message: /grows beyond .* once its aliases are expanded \(fjord's limit\)/ },
  near: { reason: "ValidationFailed", message: /unknown kind Nope/ },
};

const api = (namespace: string) => `/apis/fjord.dev/v1alpha1/namespaces/${namespace}`;

async function get<T extends KubeObject>(apiPath: string): Promise<T | undefined> {
  return client.request<T>("GET", apiPath).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
}

function readyOf(app: Application | undefined) {
  return app?.status?.conditions?.find((condition) => condition.type === "Ready");
}

test("attack 9: a repository built to exhaust memory leaves the controller under its Deployment memory limit and every other Application reconciling", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  await git.createRepo("hostile");
  const chartTemplate = `{{- range $i := until 60000 }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{{ $i }}\ndata:\n  v: {{ $.Values.filler | quote }}\n{{- end }}\n`;
  await git.commitFiles(
    "hostile",
    {
      "huge/huge.yaml": configMaps(150, 100 * 1024, "huge"), // 15 MiB of YAML in one file
      "chart/Chart.yaml": "apiVersion: v2\nname: hostile\nversion: 0.1.0\n",
      "chart/values.yaml": `filler: ${"x".repeat(1000)}\n`,
      "chart/templates/all.yaml": chartTemplate, // prints 60 MB
      "many/many.yaml": configMaps(50_000, 80, "many"), // 50,000 small objects
      "bomb/bomb.yaml": aliasBomb(),
      ...Object.fromEntries(Array.from({ length: 4 }, (_, part) => [`near/part-${part}.yaml`, nearLimit(part)])),
      "normal/config.yaml": normalConfig("one"),
    },
    { message: "hostile and normal Applications" },
  );

  controller = await startControllerProcess({
    kubeconfig,
    logFile: path.join(work, "controller.log"),
    cacheDir: path.join(work, "cache"),
    compiled: true,
    nodeArgs: [...CONTROLLER_NODE_FLAGS],
    args: ["--watch-label-selector", `fjord.dev/test-suite=${SUITE}`],
    env: { PATH: await peerToolPath() },
  });
  await controller.ready();

  const labels = { "fjord.dev/test-suite": SUITE };
  await client.request("POST", `${api(namespace)}/gitrepositories`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "source", labels }, spec: { url: git.repoUrl("hostile"), interval: "1h" } },
  });
  for (const name of [...Object.keys(HOSTILE), "normal"]) {
    await client.request("POST", `${api(namespace)}/applications`, {
      body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name, labels }, spec: { sourceRef: { kind: "GitRepository", name: "source" }, path: `./${name}`, interval: "1h", retryInterval: "5s", prune: true } },
    });
  }

  const describe = async () => {
    const states = await Promise.all([...Object.keys(HOSTILE), "normal"].map(async (name) => `${name}: ${JSON.stringify(readyOf(await get<Application>(`${api(namespace)}/applications/${name}`)) ?? null).slice(0, 300)}`));
    return states.join("\n");
  };
  const normal = await eventually(async () => {
    const app = await get<Application>(`${api(namespace)}/applications/normal`);
    return readyOf(app)?.status === "True" ? app : undefined;
  }, { timeoutMs: 180_000, describe });
  for (const [name, expected] of Object.entries(HOSTILE)) {
    // Until the source has its artifact, the reason is SourceNotReady; then the limit's.
    const condition = await eventually(async () => {
      const ready = readyOf(await get<Application>(`${api(namespace)}/applications/${name}`));
      return ready?.status === "False" && ready.reason === expected.reason ? ready : undefined;
    }, { timeoutMs: 180_000, describe });
    assert.match(condition.message, expected.message, name);
  }
  const applied = await client.request<{ items: KubeObject[] }>("GET", `/api/v1/namespaces/${namespace}/configmaps`, { query: { labelSelector: "fjord.dev/name" } });
  assert.deepEqual(applied.items.map((item) => item.metadata.name), ["normal"], "nothing of the hostile Applications was applied");

  // The normal Application keeps reconciling while the hostile ones retry every few seconds.
  const next = await git.commitFiles("hostile", { "normal/config.yaml": normalConfig("two") }, { message: "normal: two" });
  await requestReconcile(client, `${api(namespace)}/gitrepositories/source`);
  await eventually(async () => (await get<Application>(`${api(namespace)}/applications/normal`))?.status?.lastAppliedRevision === `main@sha1:${next}`, { timeoutMs: 120_000, describe });
  assert.equal(((await get(`/api/v1/namespaces/${namespace}/configmaps/normal`))?.data as Record<string, string>).value, "two");
  assert.notEqual(normal.status?.lastAppliedRevision, `main@sha1:${next}`);

  const peak = await controller.peakRssMiB();
  const limit = deploymentMemoryLimitMiB();
  t.diagnostic(`controller peak RSS (VmHWM) ${peak.toFixed(0)} MiB; the Deployment's memory limit ${limit} MiB`);
  console.log(`controller peak RSS (VmHWM): ${peak.toFixed(0)} MiB of the Deployment's ${limit} MiB limit`);
  assert.ok(peak < limit, `peak RSS ${peak.toFixed(0)} MiB reached the Deployment's limit of ${limit} MiB`);
  assert.ok(peak > 50, "the figure is real");
});
