import { writeFile } from "node:fs/promises";
import path from "node:path";
import { formatBytes } from "../input/limits.ts";
import type { RenderedObject } from "../model/object.ts";
import { RenderError } from "./errors.ts";
import { helmErrorLocation, splitHelmOutput, templateFile } from "./helm-source.ts";
import { readObjects } from "./manifest-objects.ts";
import { CHART_FILE_NAME } from "./package-files.ts";
import { isInside, joinRelative, realPathIfExists, withoutRoot, type RenderDirectory } from "./paths.ts";
import { runConfinedTool } from "./confined-tool.ts";
import { readPackageFile } from "./package-files.ts";
import { MAX_RELEASE_NAME_LENGTH, releaseNameProblem } from "./release-name.ts";
import { RenderBudget } from "./render-budget.ts";
import { formatDuration, withScratchHome } from "./run-tool.ts";
import { CHART_METADATA } from "./tool-config-shapes.ts";
import { readToolConfig } from "./tool-config.ts";

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

/** The chart's name, read from Chart.yaml exactly as helm reads it (tool-config.ts). */
async function chartName(dir: RenderDirectory): Promise<string> {
  const file = joinRelative(dir.dirRel, CHART_FILE_NAME);
  const chart = readToolConfig(await readPackageFile(path.join(dir.dirReal, CHART_FILE_NAME), file), file, CHART_METADATA) as { name?: unknown } | null;
  const name = chart?.name;
  return typeof name === "string" && name !== "" ? name : path.basename(dir.dirReal);
}

function shown(value: string): string {
  const quoted = JSON.stringify(value);
  return quoted.length > 80 ? `${quoted.slice(0, 76)}..."` : quoted;
}

/**
 * The release name, checked with helm's own rule before it goes on helm's command line. From
 * the settings when given (`--helm-release`), else the chart's name.
 */
function releaseName(dir: RenderDirectory, settings: HelmSettings, chart: string): string {
  if (settings.releaseName !== undefined) {
    const problem = releaseNameProblem(settings.releaseName);
    if (problem) {
      throw new RenderError("helm-settings", `the helm release name ${shown(settings.releaseName)} ${problem}`, {
        file: joinRelative(dir.dirRel, CHART_FILE_NAME),
        fix: `give a release name (--helm-release) of lowercase letters, digits, '-' and '.', at most ${MAX_RELEASE_NAME_LENGTH} characters`,
      });
    }
    return settings.releaseName;
  }
  const problem = releaseNameProblem(chart);
  if (problem) {
    throw new RenderError("helm-settings", `the chart's name ${shown(chart)}, used as the helm release name, ${problem}`, {
      file: joinRelative(dir.dirRel, CHART_FILE_NAME),
      fix: `rename the chart in Chart.yaml (\`name\`), or give a release name (--helm-release): lowercase letters, digits, '-' and '.', at most ${MAX_RELEASE_NAME_LENGTH} characters`,
    });
  }
  return chart;
}

/** A Kubernetes namespace name: a DNS-1123 label. */
function checkNamespace(dir: RenderDirectory, namespace: string): void {
  if (namespace.length <= 63 && /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/.test(namespace)) return;
  throw new RenderError("helm-settings", `the helm namespace ${shown(namespace)} is not a valid namespace name`, {
    file: joinRelative(dir.dirRel, CHART_FILE_NAME),
    fix: "give a namespace of lowercase letters, digits and '-', at most 63 characters",
  });
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
  const release = releaseName(dir, settings, chart);
  if (settings.namespace) checkNamespace(dir, settings.namespace);
  const valuesFiles = await resolveValuesFiles(dir, settings.valuesFiles ?? []);
  const result = await withScratchHome(async (home) => {
    // Flags first, each with its value in the same argument; then `--`: nothing after it is read as a flag.
    const flags = ["--include-crds", "--skip-tests"];
    if (settings.namespace) flags.push(`--namespace=${settings.namespace}`);
    for (const file of valuesFiles) flags.push(`--values=${file}`);
    if (settings.values && Object.keys(settings.values).length > 0) {
      // A values file, not --set-json: keys with dots or brackets arrive exactly as given.
      const inline = path.join(home, "values.json");
      await writeFile(inline, JSON.stringify(settings.values));
      flags.push(`--values=${inline}`);
    }
    return runConfinedTool({
      binary: input.helmBinary,
      args: ["template", ...flags, "--", release, dir.dirReal],
      repo: dir.rootReal,
      home,
      env: {
        HELM_CONFIG_HOME: path.join(home, ".config", "helm"),
        HELM_CACHE_HOME: path.join(home, ".cache", "helm"),
        HELM_DATA_HOME: path.join(home, ".local", "share", "helm"),
        HELM_PLUGINS: path.join(home, "helm-plugins"),
      },
      network: false,
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
