import { lstat, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { confinedPath } from "../../git/confined-path.ts";
import { formatBytes, MAX_FILE_BYTES, MAX_RENDER_BYTES } from "../../input/limits.ts";
import { FileTooLargeError, readBoundedFile } from "../../input/read-file.ts";
import type { ManifestFile } from "./apply-policies.ts";

const KUSTOMIZATION_NAMES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/** The kustomization file directly in `dir` (repository-relative), if there is one. */
export async function findKustomization(root: string, dir: string): Promise<string | undefined> {
  const absolute = await confinedPath(root, dir);
  for (const name of KUSTOMIZATION_NAMES) {
    const info = await lstat(path.join(absolute, name)).catch(() => undefined);
    if (info?.isFile()) return toRelative(root, path.join(absolute, name));
  }
  return undefined;
}

/**
 * Every YAML file under `dir`, repository-relative and sorted. Dot-files and dot-directories are
 * skipped, symlinks are not followed (a repository must not make fjord write outside it), and so
 * are a Helm chart's `templates/`, which hold Go templates rather than YAML.
 */
export async function listYamlFiles(root: string, dir: string): Promise<string[]> {
  const start = await confinedPath(root, dir);
  const info = await lstat(start).catch(() => undefined);
  if (!info) throw new Error(`path "${dir}" does not exist in the repository`);
  if (info.isFile()) return isYaml(start) ? [toRelative(root, start)] : [];
  const found: string[] = [];
  const walk = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true });
    const chart = entries.some((entry) => entry.isFile() && entry.name === "Chart.yaml");
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) {
        if (!(chart && entry.name === "templates")) await walk(full);
      } else if (entry.isFile() && isYaml(entry.name)) {
        found.push(toRelative(root, full));
      }
    }
  };
  await walk(start);
  return found.sort();
}

/**
 * The files' texts, one at a time and within the limits of a render (src/input/limits.ts): one
 * file at most MAX_FILE_BYTES, all of them together at most MAX_RENDER_BYTES.
 */
export async function readManifestFiles(root: string, paths: readonly string[]): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  let total = 0;
  for (const relative of paths) {
    const content = await readBoundedFile(await confinedPath(root, relative), MAX_FILE_BYTES).catch((error: unknown) => {
      if (error instanceof FileTooLargeError) throw new Error(`${relative} is ${formatBytes(error.size)}; fjord reads YAML files of at most ${formatBytes(MAX_FILE_BYTES)}`);
      throw error;
    });
    total += content.length;
    if (total > MAX_RENDER_BYTES) throw new Error(`the YAML files hold more than ${formatBytes(MAX_RENDER_BYTES)} (fjord's limit); narrow the path to the files that hold the images`);
    files.push({ path: relative, text: content.toString("utf8") });
  }
  return files;
}

export async function writeManifestFiles(root: string, files: readonly ManifestFile[]): Promise<void> {
  for (const file of files) await writeFile(await confinedPath(root, file.path), file.text);
}

function isYaml(name: string): boolean {
  return /\.ya?ml$/i.test(name);
}

function toRelative(root: string, absolute: string): string {
  return path.relative(root, absolute).split(path.sep).join("/");
}
