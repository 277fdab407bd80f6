import { findOnPath } from "../util/executable.ts";
import path from "node:path";
import { formatBytes } from "../input/limits.ts";
import type { RenderedObject } from "../model/object.ts";
import { RenderError } from "./errors.ts";
import { scanKustomization } from "./kustomization-scan.ts";
import { readObjects } from "./manifest-objects.ts";
import { relativeToRoot, withoutRoot, type RenderDirectory } from "./paths.ts";
import { runConfinedTool } from "./confined-tool.ts";
import { RenderBudget } from "./render-budget.ts";
import { formatDuration, withScratchHome } from "./run-tool.ts";

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

/** kustomize's default, stated so that no configuration or version can change it. */
const LOAD_RESTRICTOR = "LoadRestrictionsRootOnly";

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
  // The scan gives the friendly errors; buildKustomization's confinement holds without it.
  await scanKustomization(input.dir.rootReal, input.kustomizationFile, { allowRemoteBases: input.allowRemoteBases });
  return buildKustomization(input);
}

/**
 * Runs kustomize on a kustomization without scanning it first: root-only load restrictions
 * stated explicitly (a kustomization cannot load a file from outside its own directory, and no
 * plugins, exec functions or helm run without flags fjord never passes), no git or ssh on
 * PATH and a dead proxy (no remote bases), in the namespace sandbox where there is one (no
 * network, nothing but the repository on disk). With remote bases allowed, git, the
 * controller's proxy settings and the network stay available, so no namespaces either.
 */
export async function buildKustomization(input: KustomizeRender): Promise<RenderedObject[]> {
  const { dir } = input;
  const budget = input.budget ?? new RenderBudget();
  const kustomization = relativeToRoot(dir.rootReal, input.kustomizationFile);
  const command = [path.basename(input.tool.binary), ...input.tool.args].join(" ");
  const result = await withScratchHome((home) =>
    runConfinedTool({
      binary: input.tool.binary,
      // An absolute path: kustomize tries a relative one as a git URL first (`github.com/org/repo`).
      args: [...input.tool.args, `--load-restrictor=${LOAD_RESTRICTOR}`, "--", dir.dirReal],
      repo: dir.rootReal,
      home,
      network: input.allowRemoteBases,
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
