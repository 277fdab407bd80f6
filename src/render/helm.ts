import { writeFile } from "node:fs/promises";
import path from "node:path";
import { formatBytes } from "../input/limits.ts";
import type { RenderedObject } from "../model/object.ts";
import { RenderError } from "./errors.ts";
import { helmErrorLocation, splitHelmOutput, templateFile } from "./helm-source.ts";
import { readObjects } from "./manifest-objects.ts";
import { CHART_FILE_NAME } from "./package-files.ts";
import { isInside, joinRelative, realPathIfExists, withoutRoot, type RenderDirectory } from "./paths.ts";
import { formatDuration, isolatedEnv, runTool, withScratchHome } from "./run-tool.ts";
import { readPackageFile } from "./package-files.ts";
import { RenderBudget } from "./render-budget.ts";
import { parseYamlStream } from "./yaml-stream.ts";

export interface HelmSettings {
  /** Default: the chart's name from Chart.yaml. */
  releaseName?: string;
  /** Default: helm's own ("default"). */
  namespace?: string;
  /** Relative to the chart directory, applied in order. */
  valuesFiles?: string[];
  /** Applied last, over the values files. */
  values?: Record<string, unknown>;
}

export interface HelmRender {
  dir: RenderDirectory;
  helmBinary: string;
  timeoutMs: number;
  settings: HelmSettings;
  budget?: RenderBudget;
}

async function chartName(dir: RenderDirectory): Promise<string> {
  const file = joinRelative(dir.dirRel, CHART_FILE_NAME);
  const [chart] = parseYamlStream(await readPackageFile(path.join(dir.dirReal, CHART_FILE_NAME), file), { file });
  const name = (chart?.value as { name?: unknown } | undefined)?.name;
  return typeof name === "string" && name !== "" ? name : path.basename(dir.dirReal);
}

/** Values files must exist inside the checkout; a path out of it could read any file on the controller. */
async function resolveValuesFiles(dir: RenderDirectory, files: readonly string[]): Promise<string[]> {
  const resolved: string[] = [];
  for (const file of files) {
    const shown = joinRelative(dir.dirRel, file);
    const target = path.resolve(dir.dirReal, file);
    if (path.isAbsolute(file) || !isInside(dir.rootReal, target)) {
      throw new RenderError("path-outside-root", `values file ${file} is outside the repository`, { fix: "give values files relative to the chart directory, inside the repository" });
    }
    const real = await realPathIfExists(target);
    if (!real) throw new RenderError("path-missing", `values file ${shown} does not exist`, { fix: "check valuesFiles: paths are relative to the chart directory" });
    if (!isInside(dir.rootReal, real)) throw new RenderError("path-outside-root", `values file ${shown} is a symlink to a place outside the repository`);
    resolved.push(real);
  }
  return resolved;
}

/**
 * Renders a chart directory with `helm template`: CRDs from crds/ included (a GitOps engine
 * installs them like everything else), chart tests left out (they are run on demand, not
 * applied). Hooks are rendered as ordinary objects carrying their helm.sh/hook annotations.
 * Nothing is fetched: dependencies must already be vendored in charts/.
 */
export async function renderHelmChart(input: HelmRender): Promise<RenderedObject[]> {
  const { dir, settings } = input;
  const budget = input.budget ?? new RenderBudget();
  const chart = await chartName(dir);
  const release = settings.releaseName ?? chart;
  const valuesFiles = await resolveValuesFiles(dir, settings.valuesFiles ?? []);
  const result = await withScratchHome(async (home) => {
    const args = ["template", release, dir.dirReal, "--include-crds", "--skip-tests"];
    if (settings.namespace) args.push("--namespace", settings.namespace);
    for (const file of valuesFiles) args.push("--values", file);
    if (settings.values && Object.keys(settings.values).length > 0) {
      // A values file, not --set-json: keys with dots or brackets arrive exactly as given.
      const inline = path.join(home, "values.json");
      await writeFile(inline, JSON.stringify(settings.values));
      args.push("--values", inline);
    }
    return runTool({
      binary: input.helmBinary,
      args,
      cwd: dir.rootReal,
      env: isolatedEnv(home, {
        HELM_CONFIG_HOME: path.join(home, ".config", "helm"),
        HELM_CACHE_HOME: path.join(home, ".cache", "helm"),
        HELM_DATA_HOME: path.join(home, ".local", "share", "helm"),
        HELM_PLUGINS: path.join(home, "helm-plugins"),
      }),
      timeoutMs: input.timeoutMs,
      maxOutputBytes: budget.limits.maxRenderBytes,
      missingFix: "install helm, or set helmBinary",
    });
  });
  const chartFile = joinRelative(dir.dirRel, CHART_FILE_NAME);
  if (result.timedOut || result.truncated || result.exitCode !== 0) {
    const problem = result.timedOut
      ? `helm template did not finish within ${formatDuration(input.timeoutMs)}`
      : result.truncated
        ? `helm template printed more than ${formatBytes(budget.limits.maxRenderBytes)} of manifests, fjord's limit per Application; it was stopped`
        : "helm template failed";
    const stderr = withoutRoot(result.stderr.trim(), dir.rootReal);
    throw new RenderError("helm-failed", problem, {
      ...(helmErrorLocation(stderr, chart, dir.dirRel) ?? { file: chartFile }),
      output: stderr,
      fix: `run \`helm template ${release} ${dir.dirRel}\` with the same values locally to reproduce`,
    });
  }
  budget.output({ file: chartFile, what: "the output of helm template" }, result.stdoutBytes);
  const objects: RenderedObject[] = [];
  for (const manifest of splitHelmOutput(result.stdout)) {
    const file = manifest.template ? templateFile(dir.dirRel, manifest.template) : chartFile;
    const origin = { file, linesRefer: false, notAnObjectFix: "fix the template: every document it renders must be a Kubernetes object" };
    for (const object of await readObjects(manifest.text, { file, renderedBy: "helm template" }, origin, budget)) objects.push(object);
  }
  return objects;
}
