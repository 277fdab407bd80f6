import { spawn } from "node:child_process";
import { mkdir, realpath, rm } from "node:fs/promises";
import path from "node:path";
import { MAX_RENDER_BYTES, MAX_TOOL_STDERR_BYTES } from "../input/limits.ts";
import { makePrivateTempDir } from "../util/private-temp.ts";
import { RenderError } from "./errors.ts";

export interface ToolRun {
  binary: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** Shown when the binary cannot be started, e.g. which option names its path. */
  missingFix: string;
  /** Standard output beyond this stops the tool (`truncated`). Default: the limit on one render's output. */
  maxOutputBytes?: number;
}

export interface ToolResult {
  exitCode: number | null;
  stdout: string;
  stdoutBytes: number;
  /** The last MAX_TOOL_STDERR_BYTES of it: tools print the error last. */
  stderr: string;
  timedOut: boolean;
  /** The tool printed more than `maxOutputBytes` and was stopped; a chart looping forever must not exhaust memory. */
  truncated: boolean;
}

/** Kills the tool and anything it started (kustomize runs git, for instance). */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Runs an external tool to completion, capturing its output; never throws for a non-zero exit. */
export function runTool(run: ToolRun): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(run.binary, run.args, { cwd: run.cwd, env: run.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const maxOutputBytes = run.maxOutputBytes ?? MAX_RENDER_BYTES;
    let stdoutBytes = 0;
    let stderrBytes = 0;
    let timedOut = false;
    let truncated = false;
    child.stdout.on("data", (chunk: Buffer) => {
      if (truncated) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > maxOutputBytes) {
        truncated = true;
        stdout.length = 0;
        killGroup(child.pid);
        return;
      }
      stdout.push(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr.push(chunk);
      stderrBytes += chunk.length;
      while (stderr.length > 1 && stderrBytes - stderr[0]!.length >= MAX_TOOL_STDERR_BYTES) stderrBytes -= stderr.shift()!.length;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
      // A helper that left the process group could hold the pipes open; stop waiting for it.
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, 5_000).unref();
    }, run.timeoutMs);
    child.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const problem = error.code === "ENOENT" ? `${run.binary} not found` : `cannot run ${run.binary}: ${error.message}`;
      reject(new RenderError("binary-missing", problem, { fix: run.missingFix }));
    });
    child.once("close", (exitCode) => {
      clearTimeout(timer);
      const errors = Buffer.concat(stderr);
      resolve({
        exitCode,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stdoutBytes,
        stderr: errors.subarray(Math.max(0, errors.length - MAX_TOOL_STDERR_BYTES)).toString("utf8"),
        timedOut,
        truncated,
      });
    });
  });
}

/**
 * A throw-away home for one tool run, so no user or controller configuration (kubeconfig,
 * helm repositories, registry logins, git credentials) leaks into rendering. Removed afterwards.
 */
export async function withScratchHome<T>(use: (home: string) => Promise<T>): Promise<T> {
  // A real path: the namespace sandbox binds it into the tool's root at the same place.
  const home = await realpath(await makePrivateTempDir("tool-home"));
  try {
    await mkdir(path.join(home, "tmp"));
    return await use(home);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** The environment every tool gets: a PATH to find helpers, and everything else pointing into `home`. */
export function isolatedEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    TMPDIR: path.join(home, "tmp"),
    XDG_CONFIG_HOME: path.join(home, ".config"),
    XDG_CACHE_HOME: path.join(home, ".cache"),
    XDG_DATA_HOME: path.join(home, ".local", "share"),
    ...extra,
  };
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}
