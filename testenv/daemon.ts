import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, readSync, rmSync, statSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { loadClusterAccess } from "../src/kube/cluster-access.ts";
import { isProcessAlive } from "../src/util/process-alive.ts";
import { createLogger } from "../src/util/logger.ts";
import { ControlPlane } from "./control-plane.ts";
import { probe } from "./https-probe.ts";
import { daemonStateFile } from "./paths.ts";

/** What the background control plane tells the shell commands about itself. */
export interface DaemonState {
  status: "starting" | "ready" | "failed";
  pid: number;
  logFile: string;
  kubeconfig?: string;
  server?: string;
  dir?: string;
  nodes?: string[];
  error?: string;
}

export async function readDaemonState(file = daemonStateFile()): Promise<DaemonState | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as DaemonState;
  } catch {
    return undefined;
  }
}

async function writeState(state: DaemonState, file = daemonStateFile()): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(state, null, 2));
  await rename(temporary, file);
}

/** Runs in the detached child: starts the control plane and keeps it up until signalled. */
export async function serveControlPlane(logFile: string): Promise<void> {
  const log = createLogger("testenv");
  const stateFile = daemonStateFile();
  await writeState({ status: "starting", pid: process.pid, logFile });
  process.on("exit", () => {
    // Only remove the state while it is still ours and not a failure report `up` must read.
    try {
      const state = JSON.parse(readFileSync(stateFile, "utf8")) as DaemonState;
      if (state.pid === process.pid && state.status !== "failed") rmSync(stateFile, { force: true });
    } catch {
      // nothing to clean up
    }
  });
  try {
    const plane = await ControlPlane.start({ progress: (message) => log.info(message) });
    await writeState({ status: "ready", pid: process.pid, logFile, kubeconfig: plane.kubeconfigPath, server: plane.server, dir: plane.dir, nodes: plane.nodeNames });
    log.info({ kubeconfig: plane.kubeconfigPath }, "control plane ready");
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log.error(message);
    await writeState({ status: "failed", pid: process.pid, logFile, error: message });
    process.exit(1);
  }
  // Stay alive; the signal handlers installed by ControlPlane stop everything and exit.
  setInterval(() => {}, 1 << 30);
}

/** Prints the child's structured log lines as plain progress while it starts. */
function followLog(logFile: string, print: (line: string) => void): () => void {
  let offset = 0;
  const drain = () => {
    let size: number;
    try {
      size = statSync(logFile).size;
    } catch {
      return;
    }
    if (size <= offset) return;
    const buffer = Buffer.alloc(size - offset);
    const fd = openSync(logFile, "r");
    try {
      readSync(fd, buffer, 0, buffer.length, offset);
    } finally {
      closeSync(fd);
    }
    offset = size;
    for (const line of buffer.toString("utf8").split("\n").filter(Boolean)) {
      try {
        print((JSON.parse(line) as { msg: string }).msg);
      } catch {
        print(line);
      }
    }
  };
  const timer = setInterval(drain, 250);
  return () => {
    clearInterval(timer);
    drain();
  };
}

export interface UpResult {
  kubeconfig: string;
  server: string;
  alreadyRunning: boolean;
}

/**
 * `npm run cluster -- up`: starts the control plane in a detached process that outlives this
 * command, relays its progress, and returns once it is ready.
 */
export async function startDaemon(entry: { command: string; args: string[] }, print: (line: string) => void): Promise<UpResult> {
  const existing = await readDaemonState();
  if (existing?.status === "ready" && isProcessAlive(existing.pid) && existing.kubeconfig && existing.server) {
    return { kubeconfig: existing.kubeconfig, server: existing.server, alreadyRunning: true };
  }
  if (existing && isProcessAlive(existing.pid) && existing.status === "starting") {
    throw new Error(`a control plane is already starting (pid ${existing.pid}); wait for it or run \`npm run cluster -- down\``);
  }
  const stateFile = daemonStateFile();
  await rm(stateFile, { force: true });
  await mkdir(path.dirname(stateFile), { recursive: true });
  const logFile = path.join(path.dirname(stateFile), "control-plane.log");
  await writeFile(logFile, "");
  const fd = openSync(logFile, "a");
  const child = spawn(entry.command, [...entry.args, "--log-file", logFile], { detached: true, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  child.unref();
  const stopFollowing = followLog(logFile, print);
  try {
    for (;;) {
      const state = await readDaemonState();
      const ours = state !== undefined && state.pid === child.pid;
      if (ours && state.status === "ready" && state.kubeconfig && state.server) {
        return { kubeconfig: state.kubeconfig, server: state.server, alreadyRunning: false };
      }
      if (ours && state.status === "failed") {
        await rm(stateFile, { force: true });
        throw new Error(state.error ?? "the control plane failed to start");
      }
      if (child.pid === undefined || !isProcessAlive(child.pid)) {
        throw new Error(`the control plane process exited before it was ready; see ${logFile}`);
      }
      await sleep(250);
    }
  } finally {
    stopFollowing();
  }
}

/** `npm run cluster -- down`: stops the background control plane and waits until it is gone. */
export async function stopDaemon(): Promise<"stopped" | "not-running"> {
  const state = await readDaemonState();
  if (!state || !isProcessAlive(state.pid)) {
    await rm(daemonStateFile(), { force: true });
    if (state?.dir) await rm(state.dir, { recursive: true, force: true });
    return "not-running";
  }
  process.kill(state.pid, "SIGTERM");
  const deadline = Date.now() + 30_000;
  while (isProcessAlive(state.pid) && Date.now() < deadline) await sleep(100);
  if (isProcessAlive(state.pid)) process.kill(state.pid, "SIGKILL");
  while (isProcessAlive(state.pid)) await sleep(100);
  await rm(daemonStateFile(), { force: true });
  // The control plane removes its directory itself; this only matters after a SIGKILL.
  if (state.dir) await rm(state.dir, { recursive: true, force: true });
  return "stopped";
}

export interface DaemonStatus {
  running: boolean;
  ready: boolean;
  state?: DaemonState;
}

/** `npm run cluster -- status`: is the background control plane alive and serving? */
export async function daemonStatus(): Promise<DaemonStatus> {
  const state = await readDaemonState();
  if (!state || !isProcessAlive(state.pid)) return { running: false, ready: false, ...(state ? { state } : {}) };
  if (state.status !== "ready" || !state.server || !state.kubeconfig) return { running: true, ready: false, state };
  const { ca, cert, key } = await loadClusterAccess({ kubeconfig: state.kubeconfig }).credentials.connection();
  const text = (data: Buffer | undefined) => data?.toString("utf8");
  const result = await probe(`${state.server}/readyz`, { ca: text(ca), cert: text(cert), key: text(key) });
  return { running: true, ready: result.status === 200, state };
}
