/**
 * Runs a render tool (helm, kustomize) on a repository with every confinement fjord has: a
 * throw-away home, an environment with nothing of the controller's in it, no helpers to run and
 * no usable proxy (unless the caller needs the network), and the strongest namespace sandbox
 * the platform offers (tool-sandbox.ts).
 */
import { chmod } from "node:fs/promises";
import { makePrivateTempDir } from "../util/private-temp.ts";
import { RenderError } from "./errors.ts";
import { isolatedEnv, runTool, type ToolResult } from "./run-tool.ts";
import { resolveToolBinary, sandboxCommand, type SandboxLevel } from "./tool-sandbox.ts";

/**
 * Where proxies point when a tool must not reach the network: the discard port on loopback, so
 * a request fails at once. (Go sends loopback requests direct, whatever the proxy: those are
 * stopped by the network namespace, or by the reference scan where there is none.)
 */
export const DEAD_PROXY = "http://127.0.0.1:9";
const PROXY_VARIABLES = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"];

let emptyDir: Promise<string> | undefined;

/** An empty, read-only directory: the tools' PATH, so kustomize finds no git or ssh to fetch with. */
function emptySearchPath(): Promise<string> {
  emptyDir ??= makePrivateTempDir("empty-path", { emptyUntilExit: true }).then(async (dir) => {
    await chmod(dir, 0o500);
    return dir;
  });
  return emptyDir;
}

/** Proxy settings of the controller, passed on only to a tool allowed to use the network. */
function proxyEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...PROXY_VARIABLES, "NO_PROXY", "no_proxy"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function offlineEnv(searchPath: string): Record<string, string> {
  const env: Record<string, string> = { PATH: searchPath, NO_PROXY: "", no_proxy: "" };
  for (const name of PROXY_VARIABLES) env[name] = DEAD_PROXY;
  return env;
}

export interface ConfinedToolRun {
  /** As configured: a path, or a name looked up on the controller's PATH. */
  binary: string;
  /** Flags first, then `--`, then positional arguments. */
  args: string[];
  /** Real path of the repository root, the only tree the tool is meant to read. */
  repo: string;
  /** Real path of a scratch home from withScratchHome. */
  home: string;
  /** Tool-specific variables, pointing into `home`. */
  env?: Record<string, string>;
  /** Only for kustomize with remote bases allowed: keeps PATH and proxies, and no namespaces. */
  network: boolean;
  timeoutMs: number;
  /** The tool is stopped once its standard output passes this (default: the render limit). */
  maxOutputBytes?: number;
  missingFix: string;
}

export async function runConfinedTool(run: ConfinedToolRun): Promise<ToolResult & { sandbox: SandboxLevel }> {
  const binary = await resolveToolBinary(run.binary);
  if (!binary) throw new RenderError("binary-missing", `${run.binary} not found`, { fix: run.missingFix });
  const base = run.network ? proxyEnv() : offlineEnv(await emptySearchPath());
  const env = isolatedEnv(run.home, { ...base, ...run.env });
  const command = await sandboxCommand({ binary, args: run.args, repo: run.repo, home: run.home, network: run.network });
  const result = await runTool({
    binary: command.binary,
    args: command.args,
    cwd: run.repo,
    env,
    timeoutMs: run.timeoutMs,
    ...(run.maxOutputBytes !== undefined ? { maxOutputBytes: run.maxOutputBytes } : {}),
    missingFix: run.missingFix,
  });
  return { ...result, sandbox: command.level };
}
