import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { KubeClient } from "../src/kube/client.ts";
import type { KubeObject } from "../src/model/object.ts";
import { TestenvError } from "./errors.ts";
import { ensureBinaries } from "./ensure-binaries.ts";
import { formatDuration, type Progress } from "./go-build.ts";
import { probe } from "./https-probe.ts";
import { KWOK_STAGES } from "./kwok-stages.ts";
import { renderKubeconfig } from "./kubeconfig.ts";
import { ManagedProcess } from "./managed-process.ts";
import { cacheRoot } from "./paths.ts";
import { generateControlPlanePki } from "./pki.ts";
import { freePort, isPortFree } from "./ports.ts";
import { COMPONENTS, type Component } from "./versions.ts";
import { isProcessAlive } from "../src/util/process-alive.ts";

export interface ControlPlaneOptions {
  /** Fake kwok Nodes to register (default 2). */
  nodes?: number;
  /** Human progress lines (binary builds, start-up steps). */
  progress?: Progress;
  /** Build missing binaries from Go modules (default true). */
  build?: boolean;
  /** Fixed ports; by default free loopback ports are picked. */
  ports?: { etcd?: number; apiServer?: number };
  /** Per-component start-up timeout (default 60 s). */
  startTimeoutMs?: number;
  /** Overrides the located binary of a component (used to test failure handling). */
  binaries?: Partial<Record<Component, string>>;
  /** More kube-apiserver flags (the idle benchmark turns on its audit log to count requests). */
  apiServerArgs?: readonly string[];
}

const SERVICE_CIDR = "10.96.0.0/16";
const KUBERNETES_SERVICE_IP = "10.96.0.1";
const NODE_ANNOTATION = "kwok.x-k8s.io/node";

/** Control planes alive in this process, so signal and exit handlers can stop them. */
const live = new Set<ControlPlane>();
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // 'exit' can only run synchronous code: kill outright and remove the directories.
  process.on("exit", () => {
    for (const plane of live) plane.killNow();
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      void Promise.allSettled([...live].map((plane) => plane.stop())).finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
    });
  }
}

/**
 * A real Kubernetes control plane on loopback: etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler and a kwok controller with fake Nodes, so workloads really roll out.
 */
export class ControlPlane {
  readonly processes: ManagedProcess[] = [];
  server = "";
  kubeconfigPath = "";
  nodeNames: string[] = [];
  private stopped = false;
  /** How kube-apiserver was started, so a fault test can restart it the same way. */
  private apiServerLaunch: { binary: string; args: string[]; ready: () => Promise<boolean> } | undefined;

  private constructor(
    /** Temporary directory with certificates, etcd data and kubeconfigs; removed on stop. */
    readonly dir: string,
    /** Component logs; removed on a clean stop, kept when start-up fails so errors can point at them. */
    readonly logDir: string,
    private readonly progress: Progress,
  ) {}

  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const progress = options.progress ?? (() => {});
    const binaries = await ensureBinaries(COMPONENTS, progress, { build: options.build !== false, overrides: options.binaries ?? {} });
    const dir = await mkdtemp(path.join(os.tmpdir(), `fjord-testenv-${process.pid}-`));
    // Named so pruning can tell which runs are over: start time, then the owning pid.
    const logDir = path.join(cacheRoot(), "testenv", "logs", `${Date.now()}-${process.pid}-${path.basename(dir)}`);
    await mkdir(logDir, { recursive: true });
    const plane = new ControlPlane(dir, logDir, progress);
    live.add(plane);
    installExitHandlers();
    try {
      await plane.boot(binaries, options);
      return plane;
    } catch (error) {
      await plane.stop({ keepLogs: true });
      throw error;
    }
  }

  private logFile(component: string): string {
    return path.join(this.logDir, `${component}.log`);
  }

  private async boot(binaries: Record<Component, string>, options: ControlPlaneOptions): Promise<void> {
    const started = Date.now();
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    const pkiDir = path.join(this.dir, "pki");
    await mkdir(pkiDir, { recursive: true });
    const pki = await generateControlPlanePki(KUBERNETES_SERVICE_IP);
    const files = {
      ca: path.join(pkiDir, "ca.crt"),
      apiCert: path.join(pkiDir, "apiserver.crt"),
      apiKey: path.join(pkiDir, "apiserver.key"),
      saKey: path.join(pkiDir, "sa.key"),
      saPub: path.join(pkiDir, "sa.pub"),
    };
    await Promise.all([
      writeFile(files.ca, pki.ca.certificatePem),
      writeFile(files.apiCert, pki.apiServer.certificatePem),
      writeFile(files.apiKey, pki.apiServer.privateKeyPem, { mode: 0o600 }),
      writeFile(files.saKey, pki.serviceAccount.privateKeyPem, { mode: 0o600 }),
      writeFile(files.saPub, pki.serviceAccount.publicKeyPem),
    ]);

    // etcd
    const etcdPort = await this.pickPort("etcd", options.ports?.etcd);
    const etcdPeerPort = await freePort();
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcd = this.spawn("etcd", binaries.etcd, [
      "--name=fjord",
      `--data-dir=${path.join(this.dir, "etcd")}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=fjord=http://127.0.0.1:${etcdPeerPort}`,
      "--unsafe-no-fsync=true",
      "--log-level=warn",
    ]);
    await etcd.waitReady({
      ready: async () => {
        const { status, body } = await probe(`${etcdUrl}/health`);
        return status === 200 && body.includes('"health":"true"');
      },
      timeoutMs,
      timeoutHint: "etcd did not report healthy; check free disk space in the temp directory and the log",
    });
    this.progress(`etcd ready on ${etcdUrl}`);

    // kube-apiserver
    const apiPort = await this.pickPort("kube-apiserver", options.ports?.apiServer);
    this.server = `https://127.0.0.1:${apiPort}`;
    const apiServerArgs = [
      `--etcd-servers=${etcdUrl}`,
      `--secure-port=${apiPort}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--cert-dir=${pkiDir}`,
      `--tls-cert-file=${files.apiCert}`,
      `--tls-private-key-file=${files.apiKey}`,
      `--client-ca-file=${files.ca}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      "--allow-privileged=true",
      "--authorization-mode=RBAC",
      `--service-account-issuer=${this.server}`,
      `--service-account-key-file=${files.saPub}`,
      `--service-account-signing-key-file=${files.saKey}`,
      "--enable-priority-and-fairness=false",
      "--profiling=false",
      "--v=1",
      ...(options.apiServerArgs ?? []),
    ];
    const apiServer = this.spawn("kube-apiserver", binaries["kube-apiserver"], apiServerArgs);
    const adminTls = { ca: pki.ca.certificatePem, cert: pki.admin.certificatePem, key: pki.admin.privateKeyPem };
    const apiServerReady = async () => (await probe(`${this.server}/readyz`, adminTls)).status === 200;
    this.apiServerLaunch = { binary: binaries["kube-apiserver"], args: apiServerArgs, ready: apiServerReady };
    await apiServer.waitReady({
      ready: apiServerReady,
      timeoutMs,
      timeoutHint: "kube-apiserver did not become ready; the log usually names the failing post-start hook or etcd problem",
    });
    this.progress(`kube-apiserver ready on ${this.server}`);

    // Kubeconfigs: one for the admin (handed to users), one per component identity.
    const kubeconfig = (name: string, user: { certificatePem: string; privateKeyPem: string }, userName: string) => {
      const file = path.join(this.dir, `${name}.kubeconfig`);
      return writeFile(file, renderKubeconfig(this.server, pki.ca.certificatePem, { name: userName, ...user }), { mode: 0o600 }).then(() => file);
    };
    const [adminConfig, kcmConfig, schedulerConfig] = await Promise.all([
      kubeconfig("admin", pki.admin, "fjord-admin"),
      kubeconfig("controller-manager", pki.controllerManager, "system:kube-controller-manager"),
      kubeconfig("scheduler", pki.scheduler, "system:kube-scheduler"),
    ]);
    this.kubeconfigPath = adminConfig;

    // kube-controller-manager, kube-scheduler and kwok start together: they only need the API.
    const [kcmPort, schedulerPort, kwokPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const controllerManager = this.spawn("kube-controller-manager", binaries["kube-controller-manager"], [
      `--kubeconfig=${kcmConfig}`,
      `--authentication-kubeconfig=${kcmConfig}`,
      `--authorization-kubeconfig=${kcmConfig}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${kcmPort}`,
      `--cert-dir=${path.join(this.dir, "kcm-serving")}`,
      "--leader-elect=false",
      "--use-service-account-credentials=true",
      `--service-account-private-key-file=${files.saKey}`,
      `--root-ca-file=${files.ca}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      "--controllers=*",
      "--profiling=false",
      "--v=1",
    ]);
    const scheduler = this.spawn("kube-scheduler", binaries["kube-scheduler"], [
      `--kubeconfig=${schedulerConfig}`,
      `--authentication-kubeconfig=${schedulerConfig}`,
      `--authorization-kubeconfig=${schedulerConfig}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${schedulerPort}`,
      `--cert-dir=${path.join(this.dir, "scheduler-serving")}`,
      "--leader-elect=false",
      "--profiling=false",
      "--v=1",
    ]);
    const kwokConfig = path.join(this.dir, "kwok.yaml");
    await writeFile(kwokConfig, KWOK_STAGES);
    const kwok = this.spawn("kwok", binaries.kwok, [
      `--kubeconfig=${adminConfig}`,
      `--config=${kwokConfig}`,
      "--manage-all-nodes=false",
      `--manage-nodes-with-annotation-selector=${NODE_ANNOTATION}=fake`,
      `--server-address=127.0.0.1:${kwokPort}`,
      "--node-ip=10.0.1.1",
      "--cidr=10.244.0.1/16",
      "--node-lease-duration-seconds=40",
    ]);
    await Promise.all([
      controllerManager.waitReady({
        ready: async () => (await probe(`https://127.0.0.1:${kcmPort}/healthz`, { insecure: true })).status === 200,
        timeoutMs,
        timeoutHint: "kube-controller-manager did not report healthy; see its log",
      }),
      scheduler.waitReady({
        ready: async () => (await probe(`https://127.0.0.1:${schedulerPort}/healthz`, { insecure: true })).status === 200,
        timeoutMs,
        timeoutHint: "kube-scheduler did not report healthy; see its log",
      }),
      kwok.waitReady({
        ready: async () => (await probe(`http://127.0.0.1:${kwokPort}/healthz`)).status === 200,
        timeoutMs,
        timeoutHint: "the kwok controller did not report healthy; see its log",
      }),
    ]);

    const client = KubeClient.load({ kubeconfig: this.kubeconfigPath });
    try {
      this.nodeNames = await registerNodes(client, options.nodes ?? 2);
      await Promise.all([
        waitFor(
          controllerManager,
          async () => client.request("GET", "/api/v1/namespaces/default/serviceaccounts/default").then(() => true, () => false),
          timeoutMs,
          "the default ServiceAccount was never created; the serviceaccount controller in kube-controller-manager is not working",
        ),
        waitFor(
          kwok,
          async () => {
            const nodes = await client.request<{ items: FakeNode[] }>("GET", "/api/v1/nodes", { query: { labelSelector: "type=kwok" } }).catch(() => undefined);
            return (nodes?.items ?? []).filter(isNodeReady).length >= this.nodeNames.length;
          },
          timeoutMs,
          "the fake Nodes never became Ready; kwok's Stages did not apply",
        ),
      ]);
    } finally {
      client.close();
    }
    this.progress(`control plane ready with ${this.nodeNames.length} nodes in ${formatDuration(Date.now() - started)}`);
  }

  private async pickPort(component: string, requested: number | undefined): Promise<number> {
    if (requested === undefined) return freePort();
    if (!(await isPortFree(requested))) {
      throw new TestenvError(
        component,
        `port 127.0.0.1:${requested} is already in use`,
        `stop the process listening on ${requested} (\`ss -ltnp 'sport = :${requested}'\`) or leave the port unset so a free one is picked`,
      );
    }
    return requested;
  }

  private spawn(component: string, binary: string, args: string[]): ManagedProcess {
    const child = ManagedProcess.start({ component, binary, args, logFile: this.logFile(component) });
    this.processes.push(child);
    return child;
  }

  /**
   * Stops kube-apiserver and starts it again, same port and etcd, after `downtimeMs`: what a
   * control-plane upgrade or crash looks like to clients (fault tests use it).
   */
  async restartApiServer(downtimeMs = 0): Promise<void> {
    const launch = this.apiServerLaunch;
    const index = this.processes.findIndex((child) => child.component === "kube-apiserver");
    const current = this.processes[index];
    if (!launch || !current) throw new Error("the control plane has no kube-apiserver to restart");
    await current.stop();
    if (downtimeMs > 0) await new Promise((resolve) => setTimeout(resolve, downtimeMs));
    const next = ManagedProcess.start({ component: "kube-apiserver", binary: launch.binary, args: launch.args, logFile: this.logFile("kube-apiserver") });
    this.processes[index] = next;
    await next.waitReady({ ready: launch.ready, timeoutMs: 120_000, timeoutHint: "kube-apiserver did not come back after a restart; see its log" });
  }

  /** Stops every component (newest first) and removes the temporary directories. */
  async stop(options: { keepLogs?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const child of [...this.processes].reverse()) await child.stop();
    await rm(this.dir, { recursive: true, force: true });
    if (!options.keepLogs) await rm(this.logDir, { recursive: true, force: true });
    await pruneOldLogs(path.dirname(this.logDir));
    live.delete(this);
  }

  killNow(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const child of this.processes) child.killNow();
    rmSync(this.dir, { recursive: true, force: true });
    rmSync(this.logDir, { recursive: true, force: true });
  }
}

type FakeNode = KubeObject & { status?: { conditions?: { type: string; status: string }[] } };

function fakeNode(name: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { [NODE_ANNOTATION]: "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: {
        type: "kwok",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node-role.kubernetes.io/agent": "",
      },
    },
    status: {
      allocatable: { cpu: "64", memory: "256Gi", pods: "250" },
      capacity: { cpu: "64", memory: "256Gi", pods: "250" },
    },
  };
}

async function registerNodes(client: KubeClient, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, index) => `kwok-node-${index}`);
  await Promise.all(names.map((name) => client.request("POST", "/api/v1/nodes", { body: fakeNode(name) })));
  return names;
}

function isNodeReady(node: FakeNode): boolean {
  return node.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") ?? false;
}

async function waitFor(owner: ManagedProcess, check: () => Promise<boolean>, timeoutMs: number, problem: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (!owner.running || Date.now() > deadline) throw new TestenvError(owner.component, problem, "read its log", owner.logFile);
    await sleep(250);
  }
}

/**
 * Failed start-ups keep their logs for diagnosis; only the most recent few are worth keeping.
 * Directories of processes still alive belong to running control planes and are left alone.
 */
async function pruneOldLogs(logsRoot: string, keep = 5): Promise<void> {
  const entries = await readdir(logsRoot, { withFileTypes: true }).catch(() => []);
  const finished = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => ({ name: entry.name, started: Number(entry.name.split("-")[0]), pid: Number(entry.name.split("-")[1]) }))
    .filter((run) => Number.isFinite(run.started) && !(run.pid !== process.pid && isProcessAlive(run.pid)))
    .sort((a, b) => a.started - b.started);
  for (const stale of finished.slice(0, Math.max(0, finished.length - keep))) {
    await rm(path.join(logsRoot, stale.name), { recursive: true, force: true });
  }
}
