/** Runs `fjord controller` as a child process (tests, the demo, the benchmarks), its output in a log file. */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { freePort } from "../../testenv/ports.ts";

const root = path.resolve(import.meta.dirname, "..", "..");

export interface ControllerProcess {
  child: ChildProcess;
  logFile: string;
  /** Where it serves webhooks, /metrics, /healthz and /readyz. */
  url: string;
  /** Resolves once /readyz answers 200; rejects if the process exits first. */
  ready(timeoutMs?: number): Promise<void>;
  /** Peak resident memory so far (VmHWM), in MiB; Linux only. */
  peakRssMiB(): Promise<number>;
  /** SIGTERM (a clean stop) by default; SIGKILL for a crash. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startControllerProcess(options: {
  kubeconfig: string;
  logFile: string;
  cacheDir: string;
  compiled?: boolean;
  /** Off unless asked: each would otherwise hold sealing keys and unseal every SealedSecret in the cluster. */
  sealedSecrets?: boolean;
  args?: string[];
  /** Flags for node itself (V8 heap settings), placed before the script. */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
}): Promise<ControllerProcess> {
  const port = await freePort();
  // The compiled CLI is what a user runs; from source, tsx adds its own memory and start-up time.
  const entry = options.compiled ? [path.join(root, "bin/fjord.js")] : ["--import", "tsx", path.join(root, "src/cli/main.ts")];
  const log = createWriteStream(options.logFile);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...entry, "controller", "--kubeconfig", options.kubeconfig, "--bind-address", `127.0.0.1:${port}`, ...(options.sealedSecrets ? [] : ["--no-sealed-secrets"]), ...(options.args ?? [])], {
    cwd: root,
    env: { ...process.env, ...options.env, XDG_CACHE_HOME: options.cacheDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  process.on("exit", () => {
    if (child.exitCode === null) child.kill("SIGTERM");
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    child,
    logFile: options.logFile,
    url,
    async ready(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`fjord controller exited with code ${child.exitCode}; see ${options.logFile}`);
        const status = await fetch(`${url}/readyz`).then((response) => response.status, () => 0);
        if (status === 200) return;
        if (Date.now() > deadline) throw new Error(`fjord controller not ready after ${timeoutMs} ms; see ${options.logFile}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async peakRssMiB() {
      const status = await readFile(`/proc/${child.pid}/status`, "utf8");
      const kib = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? "0");
      return kib / 1024;
    },
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null) child.kill(signal);
      await exited;
      await new Promise((resolve) => log.end(resolve));
    },
  };
}
