import type { Dirent } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import type { RenderedObject } from "../model/object.ts";
import { RenderError } from "./errors.ts";
import { compileIgnorePatterns, type IgnoreMatcher } from "./ignore-patterns.ts";
import { FileTooLargeError, readBoundedText } from "../input/read-file.ts";
import { readObjects } from "./manifest-objects.ts";
import { isPackageFile } from "./package-files.ts";
import { isInside, joinRelative, realPathIfExists, relativeToRoot, type RenderDirectory } from "./paths.ts";
import { RenderBudget } from "./render-budget.ts";
import { isDocumentation, noteUnrendered, unrenderedFilesWarning, type RenderWarning, type UnrenderedFiles } from "./warnings.ts";

const MANIFEST_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

interface Walk {
  rootReal: string;
  top: RenderDirectory;
  ignore: IgnoreMatcher;
  /** Real paths of directories already walked, so symlink loops end. */
  seen: Set<string>;
  files: string[];
  /** Files skipped for their extension (documentation aside), named in a warning. */
  unrendered: UnrenderedFiles;
}

/** Byte order, as Go's filepath.Walk (and so `kubectl apply -R`) visits entries; never locale order. */
function byName(a: Dirent, b: Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Follows a symlink only when it stays inside the checkout. */
async function resolveEntry(walk: Walk, absolute: string, entry: Dirent): Promise<{ real: string; isDirectory: boolean } | undefined> {
  if (!entry.isSymbolicLink()) {
    if (!entry.isDirectory() && !entry.isFile()) return undefined;
    return { real: absolute, isDirectory: entry.isDirectory() };
  }
  const real = await realPathIfExists(absolute);
  if (!real) return undefined; // a dangling link is not a manifest
  if (!isInside(walk.rootReal, real)) {
    throw new RenderError("path-outside-root", "symlink points outside the repository", {
      file: relativeToRoot(walk.rootReal, absolute),
      fix: "replace the symlink with the file itself, or add it to ignore",
    });
  }
  return { real, isDirectory: (await stat(real)).isDirectory() };
}

async function walkDirectory(walk: Walk, absolute: string, real: string, relative: string): Promise<void> {
  if (walk.seen.has(real)) return;
  walk.seen.add(real);
  const entries = (await readdir(absolute, { withFileTypes: true })).sort(byName);
  for (const entry of entries) {
    if (entry.name.startsWith(".")) continue;
    const childAbsolute = path.join(absolute, entry.name);
    const childRelative = relative ? `${relative}/${entry.name}` : entry.name;
    const resolved = await resolveEntry(walk, childAbsolute, entry);
    if (!resolved || walk.ignore.ignores(childRelative, resolved.isDirectory)) continue;
    if (resolved.isDirectory) {
      await walkDirectory(walk, childAbsolute, resolved.real, childRelative);
    } else if (relative && isPackageFile(entry.name)) {
      // A kustomization or chart below a plain directory would be read as broken manifests.
      const dir = joinRelative(walk.top.dirRel, relative);
      throw new RenderError("nested-package", `${dir} holds ${entry.name}, which a plain directory of manifests cannot contain`, {
        file: joinRelative(walk.top.dirRel, childRelative),
        fix: `render ${dir} on its own, or add ${relative}/ to ignore`,
      });
    } else if (MANIFEST_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) {
      walk.files.push(childAbsolute);
    } else if (!isDocumentation(entry.name)) {
      noteUnrendered(walk.unrendered, joinRelative(walk.top.dirRel, childRelative));
    }
  }
}

async function scanPlainDirectory(dir: RenderDirectory, ignore: readonly string[]): Promise<Walk> {
  const walk: Walk = { rootReal: dir.rootReal, top: dir, ignore: compileIgnorePatterns(ignore), seen: new Set(), files: [], unrendered: { count: 0, names: [] } };
  await walkDirectory(walk, dir.dirReal, dir.dirReal, "");
  return walk;
}

/** The manifest files of a plain directory, in the order they are applied. */
export async function listManifestFiles(dir: RenderDirectory, ignore: readonly string[]): Promise<string[]> {
  return (await scanPlainDirectory(dir, ignore)).files;
}

/**
 * A directory of plain manifests: every .yaml, .yml and .json file below it (dot-files and
 * ignored paths left out), each document one object, lists flattened. Sizes are checked before
 * any file is read, and files are parsed one at a time. Other files (documentation aside) are
 * named in one warning: a directory of Jsonnet or templates must not look like an empty one.
 */
export async function renderPlainDirectory(
  dir: RenderDirectory,
  ignore: readonly string[],
  budget: RenderBudget = new RenderBudget(),
  onWarning: (warning: RenderWarning) => void = () => {},
): Promise<RenderedObject[]> {
  const { files, unrendered } = await scanPlainDirectory(dir, ignore);
  const warning = unrenderedFilesWarning(dir.dirRel, unrendered);
  if (warning) onWarning(warning);
  // Sources name the file by where it sits in the checkout, not where a symlink leads.
  const shown = files.map((absolute) => joinRelative(dir.dirRel, relativeToRoot(dir.dirReal, absolute)));
  const sizes = await Promise.all(files.map(async (absolute) => (await stat(absolute)).size));
  sizes.forEach((size, index) => budget.file(shown[index]!, size));
  const where = dir.dirRel === "." ? "the rendered directory" : dir.dirRel;
  budget.output({ file: dir.dirRel, what: where }, sizes.reduce((sum, size) => sum + size, 0));
  const fix = `add apiVersion and kind, or move the file out of ${where} or add it to ignore`;
  const objects: RenderedObject[] = [];
  for (const [index, absolute] of files.entries()) {
    const file = shown[index]!;
    const text = await readManifestText(absolute, file, budget);
    for (const object of await readObjects(text, { file }, { file, linesRefer: true, notAnObjectFix: fix }, budget)) objects.push(object);
  }
  return objects;
}

async function readManifestText(absolute: string, file: string, budget: RenderBudget): Promise<string> {
  try {
    return await readBoundedText(absolute, budget.limits.maxFileBytes);
  } catch (error) {
    // Grown since it was measured; the checkout is not supposed to change under a render.
    if (error instanceof FileTooLargeError) budget.file(file, error.size);
    throw error;
  }
}
