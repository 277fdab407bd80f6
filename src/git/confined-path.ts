import { lstat, readlink, realpath } from "node:fs/promises";
import path from "node:path";
import { GitSourceError } from "./errors.ts";

/** The kernel's own limit (ELOOP); a cycle of links must end with an error, not a hang. */
const MAX_SYMLINKS = 40;

/** Why a path was refused, with the symlink to blame when there is one (repository-relative). */
export type Escape =
  | { kind: "nul-byte" }
  | { kind: "absolute-path" }
  | { kind: "climbs-out"; via?: { link: string; target: string } }
  | { kind: "absolute-link"; link: string; target: string }
  | { kind: "too-many-links" };

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
  const resolved = await resolveConfined(await realpath(root), relative);
  if ("path" in resolved) return resolved.path;
  throw new GitSourceError("path-escape", `path "${relative}" is not allowed: ${describeEscape(resolved.escape)}`);
}

function describeEscape(escape: Escape): string {
  switch (escape.kind) {
    case "nul-byte":
      return "it contains a NUL byte";
    case "absolute-path":
      return "it is absolute; give a path relative to the repository root";
    case "climbs-out":
      return escape.via ? `symlink "${escape.via.link}" points to "${escape.via.target}", outside the repository` : "it leads outside the repository";
    case "absolute-link":
      return `symlink "${escape.link}" points to the absolute path "${escape.target}", outside the repository`;
    case "too-many-links":
      return `more than ${MAX_SYMLINKS} symlinks along it (a loop?)`;
  }
}

/**
 * The walk behind confinedPath, for callers that word their own errors (a render must name a
 * link without quoting its target). `realRoot` must already be a real path.
 */
export async function resolveConfined(realRoot: string, relative: string): Promise<{ path: string } | { escape: Escape }> {
  if (relative.includes("\0")) return { escape: { kind: "nul-byte" } };
  if (path.isAbsolute(relative)) return { escape: { kind: "absolute-path" } };

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
      if (current === realRoot) return { escape: via ? { kind: "climbs-out", via } : { kind: "climbs-out" } };
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
    if (symlinks > MAX_SYMLINKS) return { escape: { kind: "too-many-links" } };
    const target = await readlink(next);
    const link = shown(next);
    if (path.isAbsolute(target)) return { escape: { kind: "absolute-link", link, target } };
    // The target is walked from the link's own directory, which is `current`.
    pending.push(
      ...target
        .split("/")
        .reverse()
        .map((targetPart) => ({ part: targetPart, via: { link, target } })),
    );
  }
  return { path: current };
}

interface Step {
  part: string;
  via?: { link: string; target: string };
}
