/**
 * `npm run bench -- apply [--objects 1000] [--namespaces 10] [--concurrency 16]`: on a fresh local control plane, syncs N objects (Namespaces, ConfigMaps, Services,
 * Deployments) with `fjord sync`, then applies the same objects into fresh namespaces with
 * `kubectl apply --server-side`, then runs a second, no-op `fjord sync`. Prints each time,
 * the persisted writes of the no-op run, and `ratio <fjord/kubectl>` last.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { ControlPlane } from "../testenv/control-plane.ts";
import { ensureBinaries } from "../testenv/ensure-binaries.ts";
import { buildCli, controlPlanePids, cpuReport, cpuSeconds, timed } from "./bench-support.ts";

const execFileAsync = promisify(execFile);
const root = path.resolve(import.meta.dirname, "..");

function manifests(prefix: string, total: number, namespaces: number): Record<string, string> {
  const files: Record<string, string> = {};
  const names = Array.from({ length: namespaces }, (_, i) => `${prefix}-${i}`);
  files["00-namespaces.yaml"] = names.map((name) => stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name } })).join("---\n");
  const perNamespace = Math.floor((total - namespaces) / namespaces);
  for (const namespace of names) {
    const docs: unknown[] = [];
    for (let i = 0; i < perNamespace; i++) {
      const name = `app-${i}`;
      const kind = i % 10 < 4 ? "ConfigMap" : i % 10 < 7 ? "Service" : "Deployment";
      if (kind === "ConfigMap") docs.push({ apiVersion: "v1", kind, metadata: { name, namespace }, data: { index: String(i), mode: "bench" } });
      if (kind === "Service") docs.push({ apiVersion: "v1", kind, metadata: { name, namespace }, spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] } });
      if (kind === "Deployment") {
        docs.push({
          apiVersion: "apps/v1",
          kind,
          metadata: { name, namespace },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: name } },
            template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "app", image: `registry.example/app:${i}`, ports: [{ containerPort: 8080 }] }] } },
          },
        });
      }
    }
    files[`${namespace}.yaml`] = docs.map((doc) => stringify(doc)).join("---\n");
  }
  return files;
}

async function writeTree(dir: string, files: Record<string, string>): Promise<number> {
  let count = 0;
  for (const [name, text] of Object.entries(files)) {
    await writeFile(path.join(dir, name), text);
    count += text.split(/^---$/m).length;
  }
  return count;
}

interface SyncJson {
  summary: string;
  requests: { reads: number; writes: number; dryRunWrites: number };
}

export async function benchApply(total: number, namespaces: number, concurrency: string): Promise<void> {
  const plane = await ControlPlane.start({ progress: (message) => process.stderr.write(`testenv: ${message}\n`) });
  const work = await mkdtemp(path.join(os.tmpdir(), "fjord-bench-"));
  try {
    const { kubectl } = await ensureBinaries(["kubectl"], (message) => process.stderr.write(`${message}\n`));
    const fjordDir = path.join(work, "fjord");
    const kubectlDir = path.join(work, "kubectl");
    await Promise.all([mkdir(fjordDir), mkdir(kubectlDir)]);
    const objects = await writeTree(fjordDir, manifests("bench-fjord", total, namespaces));
    await writeTree(kubectlDir, manifests("bench-kubectl", total, namespaces));
    await buildCli();
    const sync = () =>
      execFileAsync(process.execPath, ["bin/fjord.js", "sync", "--repo", fjordDir, "--kubeconfig", plane.kubeconfigPath, "--name", "bench", "--output", "json", "--concurrency", concurrency], {
        cwd: root,
        maxBuffer: 64 * 1024 * 1024,
      }).then((result) => JSON.parse(result.stdout) as SyncJson);

    // Warm the API server (its server-side apply type models are built lazily) so neither
    // side pays for a cold start the other does not.
    const warmDir = path.join(work, "warm");
    await mkdir(warmDir);
    await writeTree(warmDir, manifests("bench-warmup", 110, 1));
    await execFileAsync(kubectl, ["--kubeconfig", plane.kubeconfigPath, "apply", "--server-side", "-R", "-f", warmDir], { maxBuffer: 64 * 1024 * 1024 });
    console.log(`objects: ${objects} (${namespaces} namespaces; ConfigMaps, Services, Deployments)`);
    // Where the time goes: on a small machine the API server's CPU, not the client, is the limit.
    const pids = controlPlanePids(plane);
    const measured = async <T>(fn: () => Promise<T>) => {
      const before = await cpuSeconds(pids);
      const result = await timed(fn);
      return { ...result, cpu: cpuReport(before, await cpuSeconds(pids), result.seconds) };
    };
    const first = await measured(sync);
    console.log(`fjord sync (create):             ${first.seconds.toFixed(2)} s  [${first.value.summary}]`);
    console.log(`  ${first.cpu}`);
    const peer = await measured(() => execFileAsync(kubectl, ["--kubeconfig", plane.kubeconfigPath, "apply", "--server-side", "-R", "-f", kubectlDir], { maxBuffer: 64 * 1024 * 1024 }));
    console.log(`kubectl apply --server-side:     ${peer.seconds.toFixed(2)} s`);
    console.log(`  ${peer.cpu}`);
    const noop = await timed(sync);
    console.log(`fjord sync (no-op):              ${noop.seconds.toFixed(2)} s  [${noop.value.summary}]`);
    console.log(`no-op persisted writes: ${noop.value.requests.writes}, dry-run writes: ${noop.value.requests.dryRunWrites}, reads: ${noop.value.requests.reads}`);
    console.log(`ratio ${(first.seconds / peer.seconds).toFixed(2)}`);
  } finally {
    await rm(work, { recursive: true, force: true });
    await plane.stop();
  }
}

