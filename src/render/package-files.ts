import { stat } from "node:fs/promises";
import path from "node:path";
import { formatBytes, MAX_FILE_BYTES } from "../input/limits.ts";
import { FileTooLargeError, readBoundedText } from "../input/read-file.ts";
import { RenderError } from "./errors.ts";

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

/** A kustomization or Chart.yaml, which fjord parses itself: refused unread above the file limit. */
export async function readPackageFile(absolute: string, shown: string): Promise<string> {
  try {
    return await readBoundedText(absolute, MAX_FILE_BYTES);
  } catch (error) {
    if (!(error instanceof FileTooLargeError)) throw error;
    throw new RenderError("limit-exceeded", `file is ${formatBytes(error.size)}; fjord reads files of at most ${formatBytes(MAX_FILE_BYTES)}`, { file: shown, fix: "make it smaller" });
  }
}
