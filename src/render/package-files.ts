import { stat } from "node:fs/promises";
import path from "node:path";
import { formatBytes } from "../input/limits.ts";
import { FileTooLargeError, readBoundedFile } from "../input/read-file.ts";
import { RenderError } from "./errors.ts";
import { MAX_TOOL_CONFIG_BYTES } from "./tool-config.ts";

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

/** A kustomization or Chart.yaml, which fjord parses itself (tool-config.ts): refused unread above its limit. */
export async function readPackageFile(absolute: string, shown: string): Promise<Buffer> {
  try {
    return await readBoundedFile(absolute, MAX_TOOL_CONFIG_BYTES);
  } catch (error) {
    if (!(error instanceof FileTooLargeError)) throw error;
    throw new RenderError("tool-config", `the file is ${formatBytes(error.size)}; fjord reads configuration files of at most ${formatBytes(MAX_TOOL_CONFIG_BYTES)}`, {
      file: shown,
      fix: "split it, or move large content into the files it refers to",
    });
  }
}
