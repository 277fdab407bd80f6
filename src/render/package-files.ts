import { stat } from "node:fs/promises";
import path from "node:path";

/** The names kustomize accepts, in the order it looks for them. */
export const KUSTOMIZATION_FILE_NAMES = ["kustomization.yaml", "kustomization.yml", "Kustomization"] as const;
export const CHART_FILE_NAME = "Chart.yaml";

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** The kustomization file in `dir`, or undefined when there is none. */
export async function findKustomizationFile(dir: string): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILE_NAMES) {
    const candidate = path.join(dir, name);
    if (await isFile(candidate)) return candidate;
  }
  return undefined;
}

export async function hasChart(dir: string): Promise<boolean> {
  return isFile(path.join(dir, CHART_FILE_NAME));
}

/** Files whose presence makes a directory something other than plain manifests. */
export function isPackageFile(name: string): boolean {
  return (KUSTOMIZATION_FILE_NAMES as readonly string[]).includes(name) || name === CHART_FILE_NAME;
}
