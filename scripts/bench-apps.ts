/**
 * `npm run bench -- apps [--count 1000] [--concurrency 8]`: on a fresh local control plane,
 * one Git repository holds `count` application directories of 5 objects each (a ConfigMap, a
 * Secret, a ServiceAccount, a Service and a Deployment), spread over 10 namespaces with a
 * GitRepository each. `fjord controller` (compiled, out-of-cluster) starts cold; then all
 * Applications are created at once. Prints the time until every one is Ready and the
 * controller's peak RSS, next to Flux's published figure for the same shape of work.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { KubeClient } from "../src/kube/client.ts";
import { ControlPlane } from "../testenv/control-plane.ts";
import { benchAppManifests, createBenchApplications, createBenchSources, buildCli, controlPlanePids, cpuReport, cpuSeconds, servedGitRepository, timed, waitForFjordApi, waitForReadyApplications } from "./bench-support.ts";
import { startControllerProcess } from "../test/support/controller-process.ts";
import { CONTROLLER_NODE_FLAGS } from "../src/install/workload.ts";

const NAMESPACES = 10;
const namespaceOf = (index: number) => `bench-apps-${index % NAMESPACES}`;


export async function benchApps(count: number, concurrency: string): Promise<void> {
  const plane = await ControlPlane.start({ progress: (message) => process.stderr.write(`testenv: ${message}\n`) });
  const work = await mkdtemp(path.join(os.tmpdir(), "fjord-bench-apps-"));
  const client = KubeClient.load({ kubeconfig: plane.kubeconfigPath });
  await buildCli();
  const repository = await servedGitRepository(benchAppManifests(count, "stringData"));
  const controller = await startControllerProcess({
    kubeconfig: plane.kubeconfigPath,
    logFile: path.join(work, "controller.log"),
    cacheDir: path.join(work, "cache"),
    compiled: true,
    args: ["--concurrency", concurrency],
    // As the installed Deployment runs it.
    nodeArgs: [...CONTROLLER_NODE_FLAGS],
    env: { FJORD_LOG_LEVEL: "warn" },
  });
  try {
    await waitForFjordApi(client);
    await createBenchSources(client, Array.from({ length: NAMESPACES }, (_, index) => namespaceOf(index)), repository.url, "10m");
    console.log(`applications: ${count} (5 objects each, ${count * 5} objects) in ${NAMESPACES} namespaces; controller concurrency ${concurrency}`);
    const pids = { ...controlPlanePids(plane), "fjord controller": controller.child.pid };
    const cpuBefore = await cpuSeconds(pids);
    const { seconds } = await timed(async () => {
      const allReady = waitForReadyApplications(client, count, 30 * 60_000, (ready) => process.stderr.write(`  ${ready}/${count} Ready\n`));
      await createBenchApplications(client, count, namespaceOf, { interval: "10m", prune: true });
      await allReady;
    });
    const cpuAfter = await cpuSeconds(pids);
    const peak = await controller.peakRssMiB();
    console.log(`all ${count} Applications Ready in ${seconds.toFixed(1)} s; controller peak RSS ${peak.toFixed(0)} MiB`);
    console.log(cpuReport(cpuBefore, cpuAfter, seconds));
    console.log(`machine: ${os.cpus().length} cores; Flux's published figure: 1,000 Kustomizations in 256 s with 175 MiB on 16 cores (target here: under 60 s and 150 MiB)`);
  } finally {
    client.close();
    await controller.stop();
    await repository.close();
    await plane.stop();
    await rm(work, { recursive: true, force: true });
  }
}
