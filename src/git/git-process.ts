import { spawn } from "node:child_process";

export interface GitResult {
  code: number;
  stdout: string;
  /** Standard output as git wrote it: paths in it need not be UTF-8. */
  stdoutBytes: Buffer;
  stderr: string;
  timedOut: boolean;
  /** Set when `signal` aborted the command (its process tree is killed, as on a timeout). */
  aborted?: boolean;
}

export interface RunOptions {
  env: Readonly<Record<string, string>>;
  /** Epoch milliseconds after which the command's whole process tree is killed. */
  deadline: number;
  cwd?: string;
  /** Kills the command's whole process tree at once when it fires, as a timeout does. */
  signal?: AbortSignal;
  /** Written to git's standard input, which is then closed; without it git reads end-of-file at once. */
  input?: string | Buffer;
}

/**
 * Runs the git CLI without a shell and never throws for git's own failures: callers map the
 * exit code and stderr to errors that mean something to them.
 *
 * git runs in a process group of its own (detached), so a timeout kills not only git but the
 * helpers it started (git-remote-https, ssh), which would otherwise keep a dead connection open.
 */
export function runGit(args: readonly string[], options: RunOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const remaining = options.deadline - Date.now();
    if (remaining <= 0) {
      resolve({ code: -1, stdout: "", stdoutBytes: Buffer.alloc(0), stderr: "", timedOut: true });
      return;
    }
    if (options.signal?.aborted) {
      resolve({ code: -1, stdout: "", stdoutBytes: Buffer.alloc(0), stderr: "", timedOut: false, aborted: true });
      return;
    }
    const child = spawn("git", args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    // git may exit (killed, or failing) before reading everything: its exit code tells, not EPIPE.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));

    let timedOut = false;
    let aborted = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, remaining);
    const onAbort = () => {
      aborted = true;
      killGroup(child.pid);
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });

    child.once("error", (error) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      const stdoutBytes = Buffer.concat(stdout);
      resolve({
        code: code ?? (signal ? 128 : -1),
        stdout: stdoutBytes.toString("utf8"),
        stdoutBytes,
        stderr: Buffer.concat(stderr).toString("utf8"),
        timedOut,
        ...(aborted ? { aborted } : {}),
      });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
