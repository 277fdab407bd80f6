/**
 * `npm run bench -- idle [--count 200] [--interval 30] [--intervals 3]`: what Applications cost
 * the API server when nothing changes. On a fresh local control plane, `count` Applications of
 * 5 objects each (a ConfigMap, a Secret, a ServiceAccount, a Service and a Deployment, with
 * `wait: true`) resync every `interval` seconds; once all are Ready and have resynced once, the
 * API server's audit log counts every request the controller makes over `intervals` intervals.
 * Prints requests per verb (and per resource) per Application per interval, and the CPU seconds
 * the API server and the controller used meanwhile.
 *
 * The controller runs as its own user (impersonated through its kubeconfig), so its requests
 * are told apart from the control plane's own in the audit log.
 */
import { mkdtemp, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { KubeClient } from "../src/kube/client.ts";
import { ControlPlane } from "../testenv/control-plane.ts";
import { benchAppManifests, createBenchApplications, createBenchSources, buildCli, controlPlanePids, cpuSeconds, servedGitRepository, waitForFjordApi, waitForReadyApplications } from "./bench-support.ts";
import { startControllerProcess } from "../test/support/controller-process.ts";
import { CONTROLLER_NODE_FLAGS } from "../src/install/workload.ts";

const NAMESPACES = 10;
/** Who the controller is in the audit log. */
const CONTROLLER_USER = "fjord-bench-controller";
const namespaceOf = (index: number) => `bench-idle-${index % NAMESPACES}`;


/** Every request at Metadata level, without the RequestReceived stage (a watch still shows when it starts). */
const AUDIT_POLICY = { apiVersion: "audit.k8s.io/v1", kind: "Policy", omitStages: ["RequestReceived"], rules: [{ level: "Metadata" }] };

/** The admin kubeconfig, acting as CONTROLLER_USER (in system:masters, so no RBAC is needed). */
async function controllerKubeconfig(adminKubeconfig: string, file: string): Promise<string> {
  const config = parse(await readFile(adminKubeconfig, "utf8")) as { users: Array<{ user: Record<string, unknown> }> };
  for (const entry of config.users) Object.assign(entry.user, { as: CONTROLLER_USER, "as-groups": ["system:masters"] });
  await writeFile(file, stringify(config), { mode: 0o600 });
  return file;
}

interface AuditEvent {
  auditID?: string;
  verb?: string;
  user?: { username?: string };
  impersonatedUser?: { username?: string };
  objectRef?: { resource?: string; subresource?: string };
}

/** The controller's requests in the audit log from byte `offset` on, each counted once (a watch logs two stages). */
async function controllerRequests(logPath: string, offset: number): Promise<AuditEvent[]> {
  const handle = await open(logPath, "r");
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(size - offset);
    await handle.read(buffer, 0, buffer.length, offset);
    const seen = new Set<string>();
    const events: AuditEvent[] = [];
    for (const line of buffer.toString("utf8").split("\n")) {
      if (!line.includes(CONTROLLER_USER)) continue;
      const event = JSON.parse(line) as AuditEvent;
      if (event.impersonatedUser?.username !== CONTROLLER_USER || !event.auditID || seen.has(event.auditID)) continue;
      seen.add(event.auditID);
      events.push(event);
    }
    return events;
  } finally {
    await handle.close();
  }
}

function tally(keys: readonly string[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function benchIdle(count: number, intervalSeconds: number, intervals: number): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), "fjord-bench-idle-"));
  const auditLog = path.join(work, "audit.log");
  const policy = path.join(work, "audit-policy.yaml");
  await writeFile(policy, stringify(AUDIT_POLICY));
  const plane = await ControlPlane.start({
    progress: (message) => process.stderr.write(`testenv: ${message}\n`),
    apiServerArgs: [`--audit-policy-file=${policy}`, `--audit-log-path=${auditLog}`, "--audit-log-format=json", "--audit-log-mode=blocking"],
  });
  const client = KubeClient.load({ kubeconfig: plane.kubeconfigPath });
  await buildCli();
  const repository = await servedGitRepository(benchAppManifests(count, "data"));
  const controller = await startControllerProcess({
    kubeconfig: await controllerKubeconfig(plane.kubeconfigPath, path.join(work, "controller.kubeconfig")),
    logFile: path.join(work, "controller.log"),
    cacheDir: path.join(work, "cache"),
    compiled: true,
    nodeArgs: [...CONTROLLER_NODE_FLAGS],
    env: { FJORD_LOG_LEVEL: "warn" },
  });
  try {
    await waitForFjordApi(client);
    // The sources do not fetch during the measurement: only the Applications' resyncs are counted.
    await createBenchSources(client, Array.from({ length: NAMESPACES }, (_, index) => namespaceOf(index)), repository.url, "1h");
    console.log(`applications: ${count} (5 objects each, wait: true) in ${NAMESPACES} namespaces, interval ${intervalSeconds}s; nothing changes`);
    const allReady = waitForReadyApplications(client, count, 30 * 60_000, (ready) => process.stderr.write(`  ${ready}/${count} Ready\n`));
    await createBenchApplications(client, count, namespaceOf, { interval: `${intervalSeconds}s`, prune: true, wait: true });
    await allReady;
    // Every Application resyncs at least once after it was Ready: what is measured is the steady state.
    process.stderr.write(`all Ready; settling for ${Math.round(intervalSeconds * 1.5)} s\n`);
    await sleep(intervalSeconds * 1500);

    const pids = { ...controlPlanePids(plane), "fjord controller": controller.child.pid };
    const offset = (await stat(auditLog)).size;
    const cpuBefore = await cpuSeconds(pids);
    const windowSeconds = intervalSeconds * intervals;
    process.stderr.write(`counting the controller's requests for ${windowSeconds} s\n`);
    await sleep(windowSeconds * 1000);
    const cpuAfter = await cpuSeconds(pids);
    const requests = await controllerRequests(auditLog, offset);

    const per = (n: number) => (n / count / intervals).toFixed(3);
    console.log(`requests per Application per interval (${requests.length} requests in ${intervals} intervals of ${intervalSeconds}s):`);
    const byVerb = tally(requests.map((event) => event.verb ?? "?"));
    for (const [verb, n] of byVerb) console.log(`  ${verb.padEnd(8)} ${per(n).padStart(7)}   (${n})`);
    console.log(`  ${"total".padEnd(8)} ${per(requests.length).padStart(7)}`);
    const statusPatches = requests.filter((event) => event.verb === "patch" && event.objectRef?.resource === "applications" && event.objectRef.subresource === "status").length;
    console.log(`  without Application status patches: ${per(requests.length - statusPatches)}`);
    console.log("by verb and resource:");
    for (const [what, n] of tally(requests.map((event) => `${event.verb ?? "?"} ${event.objectRef?.resource ?? "?"}${event.objectRef?.subresource ? `/${event.objectRef.subresource}` : ""}`))) {
      console.log(`  ${what.padEnd(40)} ${per(n).padStart(7)}   (${n})`);
    }
    const used = (name: string) => (cpuAfter[name] ?? 0) - (cpuBefore[name] ?? 0);
    const perMinute = (seconds: number) => ((seconds / windowSeconds) * 60).toFixed(2);
    console.log(`CPU seconds per minute while idle: kube-apiserver ${perMinute(used("kube-apiserver"))}, etcd ${perMinute(used("etcd"))}, fjord controller ${perMinute(used("fjord controller"))} (${os.cpus().length} cores)`);
  } finally {
    client.close();
    await controller.stop();
    await repository.close();
    await plane.stop();
    await rm(work, { recursive: true, force: true });
  }
}
