/**
 * Refuses a repository holding a symlink that leads out of it. helm follows symlinks in a chart
 * (`.Files.Get "link"` would return /etc/passwd or the controller's service account token),
 * kustomize follows them for any file it loads, and both quote the files they fail to parse.
 * Every tool can reach every file of the checkout, so the whole tree is checked (as Argo CD
 * does), and only once per checkout: a checkout never changes, and a thousand Applications may
 * render from it.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { resolveConfined, type Escape } from "../git/confined-path.ts";
import { RenderError } from "./errors.ts";

/** Checked roots remembered; a controller holds a few checkouts per source at a time. */
const MEMO_SIZE = 256;
const checked = new Map<string, Promise<void>>();

/** Never quotes the target: it names a host file, and the link is what the user can fix. */
function escapeError(link: string, escape: Escape): RenderError {
  const how =
    escape.kind === "absolute-link"
      ? "points to an absolute path"
      : escape.kind === "too-many-links"
        ? "goes through too many symlinks (a loop?)"
        : "points outside the repository";
  return new RenderError("path-outside-root", `symlink ${link} ${how}; fjord renders only files inside the repository`, {
    file: link,
    fix: "replace the symlink with a copy of the file, or point it at a path inside the repository with a relative target",
  });
}

async function walk(rootReal: string, relativeDir: string): Promise<void> {
  const entries = await readdir(path.join(rootReal, relativeDir), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const relative = relativeDir === "" ? entry.name : `${relativeDir}/${entry.name}`;
    if (entry.isSymbolicLink()) {
      const resolved = await resolveConfined(rootReal, relative);
      if ("escape" in resolved) throw escapeError(relative, resolved.escape);
    } else if (entry.isDirectory() && !(relativeDir === "" && entry.name === ".git")) {
      // Links are checked, not followed: the tree they lead to is walked where it really is.
      await walk(rootReal, relative);
    }
  }
}

/**
 * Resolves when no symlink in the tree at `rootReal` (a real path; `.git` left out) is absolute
 * or resolves outside it, following links through other links like the kernel does. Links
 * that stay inside are fine. With `immutable` (a checkout) the answer is remembered per root,
 * failures included, and concurrent callers share one walk.
 */
export function assertSymlinksConfined(rootReal: string, options: { immutable: boolean }): Promise<void> {
  if (!options.immutable) return walk(rootReal, "");
  const remembered = checked.get(rootReal);
  if (remembered) {
    // Most recently used last, so the oldest entry is the one dropped.
    checked.delete(rootReal);
    checked.set(rootReal, remembered);
    return remembered;
  }
  const walked = walk(rootReal, "");
  // An unexpected I/O error is not remembered: it may not happen again.
  walked.catch((error: unknown) => {
    if (!(error instanceof RenderError) && checked.get(rootReal) === walked) checked.delete(rootReal);
  });
  checked.set(rootReal, walked);
  if (checked.size > MEMO_SIZE) checked.delete(checked.keys().next().value!);
  return walked;
}
