import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { RenderError } from "./errors.ts";

/** Repository-relative path with forward slashes, as users see it in Git ("." for the root). */
export function relativeToRoot(rootReal: string, absolute: string): string {
  const relative = path.relative(rootReal, absolute);
  return relative === "" ? "." : relative.split(path.sep).join("/");
}

/** Joins repository-relative parts, keeping "." out of the result. */
export function joinRelative(...parts: string[]): string {
  return path.posix.join(...parts.filter((part) => part !== "" && part !== "."));
}

export function isInside(rootReal: string, absolute: string): boolean {
  const relative = path.relative(rootReal, absolute);
  return relative === "" || (!relative.startsWith(`..${path.sep}`) && relative !== ".." && !path.isAbsolute(relative));
}

/** The real path of `absolute`, or undefined when it does not exist. */
export async function realPathIfExists(absolute: string): Promise<string | undefined> {
  try {
    return await realpath(absolute);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "ENOTDIR") return undefined;
    throw error;
  }
}

export interface RenderDirectory {
  /** The repository root with symlinks resolved; every containment check compares against it. */
  rootReal: string;
  /** The directory to render, symlinks resolved. */
  dirReal: string;
  /** The directory to render as the user named it, relative to the root ("." for the root). */
  dirRel: string;
}

/**
 * Resolves the directory to render inside the checkout. It must exist, be a directory and stay
 * inside the root even after symlinks, since a repository could otherwise point fjord at any
 * file on the controller's disk.
 */
export async function resolveRenderDirectory(root: string, dir: string): Promise<RenderDirectory> {
  const rootReal = await realPathIfExists(path.resolve(root));
  if (!rootReal) throw new RenderError("path-missing", `repository root ${root} does not exist`);
  const lexical = path.resolve(rootReal, dir);
  if (path.isAbsolute(dir) || !isInside(rootReal, lexical)) {
    throw new RenderError("path-outside-root", `path ${dir} is outside the repository`, {
      fix: "give the path relative to the repository root, without leading ../",
    });
  }
  const dirRel = relativeToRoot(rootReal, lexical);
  const dirReal = await realPathIfExists(lexical);
  if (!dirReal) {
    throw new RenderError("path-missing", `path ${dirRel} does not exist in the repository`, {
      fix: "check the path and the revision: the directory must be committed at that revision",
    });
  }
  if (!isInside(rootReal, dirReal)) {
    throw new RenderError("path-outside-root", `path ${dirRel} is a symlink to a place outside the repository`, {
      fix: "point at a directory inside the repository",
    });
  }
  if (!(await stat(dirReal)).isDirectory()) {
    throw new RenderError("path-missing", `path ${dirRel} is a file, not a directory`, { fix: "point at the directory that holds the manifests" });
  }
  return { rootReal, dirReal, dirRel };
}

/** Shows tool messages with repository-relative paths instead of the checkout's location on disk. */
export function withoutRoot(text: string, rootReal: string): string {
  return text.split(`${rootReal}${path.sep}`).join("").split(rootReal).join(".");
}
