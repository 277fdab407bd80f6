import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { TestenvError } from "./errors.ts";

export interface ManagedProcessSpec {
  component: string;
  binary: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
}

export interface ReadinessCheck {
  /** Resolves true once the component serves. */
  ready: () => Promise<boolean>;
  timeoutMs: number;
  /** What the user should do when the timeout passes. */
  timeoutHint: string;
}

function tailOf(file: string, lines = 12): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/**
 * One control-plane binary: started with its output in a log file, watched for early exit,
 * and stopped with SIGTERM then SIGKILL. Every failure is reported with the component name
 * and log file, since that is where the real reason is.
 */
export class ManagedProcess {
  readonly component: string;
  readonly logFile: string;
  private readonly child: ChildProcess;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;
  private stopping = false;
  private spawnError: Error | undefined;

  private constructor(spec: ManagedProcessSpec) {
    this.component = spec.component;
    this.logFile = spec.logFile;
    const fd = openSync(spec.logFile, "a");
    try {
      this.child = spawn(spec.binary, spec.args, { stdio: ["ignore", fd, fd], env: spec.env ?? process.env });
    } finally {
      closeSync(fd);
    }
    this.exited = new Promise((resolve) => {
      this.child.once("error", (error) => {
        this.exit = { code: -1, signal: null };
        this.spawnError = error;
        resolve();
      });
      this.child.once("exit", (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
    });
  }

  static start(spec: ManagedProcessSpec): ManagedProcess {
    return new ManagedProcess(spec);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Polls the readiness check until it passes, the process dies, or the timeout runs out. */
  async waitReady(check: ReadinessCheck): Promise<void> {
    const deadline = Date.now() + check.timeoutMs;
    for (;;) {
      if (this.exit) throw this.crashError();
      if (await check.ready()) return;
      if (this.exit) throw this.crashError();
      if (Date.now() > deadline) {
        throw new TestenvError(
          this.component,
          `not ready after ${Math.round(check.timeoutMs / 1000)}s; last log lines:\n${tailOf(this.logFile)}`,
          check.timeoutHint,
          this.logFile,
        );
      }
      await sleep(200);
    }
  }

  private crashError(): TestenvError {
    const log = tailOf(this.logFile);
    if (this.spawnError) {
      return new TestenvError(this.component, `could not be started: ${this.spawnError.message}`, "check that the binary exists and is executable for this machine", this.logFile);
    }
    const how = this.exit?.signal ? `was killed by ${this.exit.signal}` : `exited with code ${this.exit?.code}`;
    const portClash = /address already in use|bind: address/i.test(log);
    const hint = portClash
      ? "a port it needs is taken by another process: stop that process (see `ss -ltnp`) or let fjord pick free ports"
      : "read the log for the reason; if the binary is broken, delete it from the cache to rebuild it";
    return new TestenvError(this.component, `${how} during start-up${portClash ? " (port already in use)" : ""}; last log lines:\n${log}`, hint, this.logFile);
  }

  /** Graceful stop; escalates to SIGKILL so a wedged process never outlives the control plane. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exit || this.stopping) return this.exited;
    this.stopping = true;
    this.child.kill("SIGTERM");
    const timedOut = await Promise.race([this.exited.then(() => false), sleep(graceMs).then(() => true)]);
    if (timedOut) {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }

  /** For process 'exit' handlers, where nothing asynchronous can run any more. */
  killNow(): void {
    if (!this.exit) this.child.kill("SIGKILL");
  }
}
