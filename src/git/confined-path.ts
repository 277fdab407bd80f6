import { lstat, readlink, realpath } from "node:fs/promises";
import path from "node:path";
import { GitSourceError } from "./errors.ts";

/** The kernel's own limit (ELOOP); a cycle of links must end with an error, not a hang. */
const MAX_SYMLINKS = 40;

/**
 * Resolves `relative` inside `root` (a checkout) the way the kernel would, one component at a
 * time, and returns the real path (no symlinks left in it). Refuses an absolute path, a `..` that
 * climbs above root, and any symlink along the way whose target leaves root: a repository
 * controls its symlinks, so `deploy -> /etc` or `x -> ../../..` must not let a sync read the
 * host's files. Symlinks with absolute targets are refused outright, since a repository cannot
 * know where it will be checked out. Paths that do not exist (yet) resolve lexically from the
 * first missing component on.
 */
export async function confinedPath(root: string, relative: string): Promise<string> {
  const refuse = (why: string) => new GitSourceError("path-escape", `path "${relative}" is not allowed: ${why}`);
  if (relative.includes("\0")) throw refuse("it contains a NUL byte");
  if (path.isAbsolute(relative)) throw refuse("it is absolute; give a path relative to the repository root");

  const realRoot = await realpath(root);
  const shown = (absolute: string) => path.relative(realRoot, absolute) || ".";
  // Components still to walk, the next one last, so that a symlink's target can be pushed in
  // front of the rest. Each remembers the symlink it came from, to blame the right thing.
  const pending: Step[] = relative
    .split("/")
    .reverse()
    .map((part) => ({ part }));
  let current = realRoot;
  let symlinks = 0;
  let exists = true;

  for (let step = pending.pop(); step !== undefined; step = pending.pop()) {
    const { part, via } = step;
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (current === realRoot) {
        throw refuse(via ? `symlink "${via.link}" points to "${via.target}", outside the repository` : "it leads outside the repository");
      }
      current = path.dirname(current);
      continue;
    }
    const next = path.join(current, part);
    if (!exists) {
      current = next;
      continue;
    }
    const stats = await lstat(next).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
      throw error;
    });
    if (stats === undefined) {
      exists = false;
      current = next;
      continue;
    }
    if (!stats.isSymbolicLink()) {
      current = next;
      continue;
    }
    symlinks += 1;
    if (symlinks > MAX_SYMLINKS) throw refuse(`more than ${MAX_SYMLINKS} symlinks along it (a loop?)`);
    const target = await readlink(next);
    const link = shown(next);
    if (path.isAbsolute(target)) {
      throw refuse(`symlink "${link}" points to the absolute path "${target}", outside the repository`);
    }
    // The target is walked from the link's own directory, which is `current`.
    pending.push(
      ...target
        .split("/")
        .reverse()
        .map((targetPart) => ({ part: targetPart, via: { link, target } })),
    );
  }
  return current;
}

interface Step {
  part: string;
  via?: { link: string; target: string };
}
