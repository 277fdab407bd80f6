import { findOnPath } from "../util/executable.ts";
import path from "node:path";
import { formatBytes } from "../input/limits.ts";
import type { RenderedObject } from "../model/object.ts";
import { RenderError } from "./errors.ts";
import { scanKustomization } from "./kustomization-scan.ts";
import { readObjects } from "./manifest-objects.ts";
import { relativeToRoot, withoutRoot, type RenderDirectory } from "./paths.ts";
import { formatDuration, isolatedEnv, runTool, withScratchHome } from "./run-tool.ts";
import { RenderBudget } from "./render-budget.ts";

/** How to invoke kustomize: `kustomize build <dir>` or kubectl's built-in `kubectl kustomize <dir>`. */
export interface KustomizeTool {
  binary: string;
  args: string[];
}

/** The given kustomize binary, else `kustomize` on PATH, else kubectl's embedded kustomize. */
export function chooseKustomizeTool(
  options: { kustomizeBinary?: string; kubectlBinary?: string },
  searchPath: string = process.env.PATH ?? "",
): KustomizeTool {
  const kustomize = options.kustomizeBinary ?? findOnPath("kustomize", searchPath);
  if (kustomize) return { binary: kustomize, args: ["build"] };
  return { binary: options.kubectlBinary ?? "kubectl", args: ["kustomize"] };
}

/** Passed through only when remote bases are allowed, since fetching them may need a proxy. */
const PROXY_VARIABLES = ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"];

function proxyEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PROXY_VARIABLES) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

export interface KustomizeRender {
  dir: RenderDirectory;
  /** Absolute path of the kustomization file in `dir`. */
  kustomizationFile: string;
  tool: KustomizeTool;
  timeoutMs: number;
  allowRemoteBases: boolean;
  budget?: RenderBudget;
}

/**
 * Renders a kustomization with the real kustomize, after checking that it stays inside the
 * checkout. Every object's source is the kustomization file: kustomize does not say which
 * base or patch an object came from unless the kustomization itself asks for origin
 * annotations, and fjord does not rewrite users' kustomizations to ask.
 */
export async function renderKustomization(input: KustomizeRender): Promise<RenderedObject[]> {
  const { dir } = input;
  const budget = input.budget ?? new RenderBudget();
  const kustomization = relativeToRoot(dir.rootReal, input.kustomizationFile);
  await scanKustomization(dir.rootReal, input.kustomizationFile, { allowRemoteBases: input.allowRemoteBases });
  const command = [path.basename(input.tool.binary), ...input.tool.args].join(" ");
  const result = await withScratchHome((home) =>
    runTool({
      binary: input.tool.binary,
      // An absolute path: kustomize tries a relative one as a git URL first (`github.com/org/repo`).
      args: [...input.tool.args, dir.dirReal],
      cwd: dir.rootReal,
      env: isolatedEnv(home, input.allowRemoteBases ? proxyEnv() : {}),
      timeoutMs: input.timeoutMs,
      maxOutputBytes: budget.limits.maxRenderBytes,
      missingFix: "install kustomize, or set kustomizeBinary (or kubectlBinary for `kubectl kustomize`)",
    }),
  );
  if (result.timedOut || result.truncated || result.exitCode !== 0) {
    const problem = result.timedOut
      ? `${command} did not finish within ${formatDuration(input.timeoutMs)}`
      : result.truncated
        ? `${command} printed more than ${formatBytes(budget.limits.maxRenderBytes)} of manifests, fjord's limit per Application; it was stopped`
        : `${command} failed`;
    throw new RenderError("kustomize-failed", problem, {
      file: kustomization,
      output: withoutRoot(result.stderr.trim(), dir.rootReal),
      fix: `run \`kustomize build ${dir.dirRel}\` locally to reproduce`,
    });
  }
  budget.output({ file: kustomization, what: `the output of ${command}` }, result.stdoutBytes);
  return readObjects(result.stdout, { file: kustomization, renderedBy: command }, {
    file: kustomization,
    linesRefer: false,
    notAnObjectFix: "check the kustomization's generators and patches: its output must be Kubernetes objects",
  }, budget);
}
