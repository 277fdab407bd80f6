import { realpath } from "node:fs/promises";
import path from "node:path";
import { confinedPath } from "./confined-path.ts";
import type { WorkTree } from "./push.ts";

/**
 * Restoring one directory of a repository to its content at an earlier commit, inside a
 * commitAndPush edit: the rollback of one Application in a monorepo, which must leave every other
 * path (other Applications, shared bases) as the branch tip has it. git does the tree work
 * (`checkout --no-overlay <commit> -- <path>`, never following a symlink in the work tree); pathspecs are
 * literal, so a hostile `spec.path` such as `:(glob)**` or `:!x` means only that file name.
 */

/** How many commits of the branch are fetched to find the target among its ancestors. */
export const ANCESTRY_DEPTH = 1000;
/** Commits named in a rollback's message; the rest are counted. */
const MAX_UNDONE_LISTED = 20;

/** The rollback cannot be made as asked (the target is not an ancestor, the path is a link...); nothing was changed. */
export class RestoreRefused extends Error {
  override readonly name = "RestoreRefused";
}

/**
 * A repository-relative directory from an Application's `spec.path`: `./apps/web/` is `apps/web`,
 * `./` and `.` are the root (`.`). Refuses what leaves the repository lexically (`..`, absolute
 * paths, NUL); symlinks are checked against the clone by restorePath.
 */
export function repositoryDirectory(specPath: string): string {
  if (specPath.includes("\0")) throw new RestoreRefused(`path ${JSON.stringify(specPath)} holds a NUL byte`);
  const normalized = path.posix.normalize(specPath || ".").replace(/\/+$/, "") || "/";
  if (path.posix.isAbsolute(normalized)) throw new RestoreRefused(`path ${JSON.stringify(specPath)} is absolute; an Application's path is relative to the repository root`);
  if (normalized === ".." || normalized.startsWith("../")) throw new RestoreRefused(`path ${JSON.stringify(specPath)} leads outside the repository`);
  return normalized;
}

/** `apps/web/x.yaml` is under `apps/web`; everything is under the root. */
export const isUnder = (file: string, directory: string): boolean => directory === "." || file === directory || file.startsWith(`${directory}/`);

export interface AncestorCommit {
  commit: string;
  subject: string;
}

/**
 * The commit `wanted` (a full SHA or a prefix of at least 7 hex digits) among the last
 * ANCESTRY_DEPTH commits of the clone's HEAD, fetching that much history first (the clone is
 * shallow). A commit that is not an ancestor of the tip (another branch, a rewritten history, a
 * made-up SHA from a tampered history) is refused, as is an ambiguous prefix.
 */
export async function findAncestor(workTree: WorkTree, wanted: string, branch: string): Promise<AncestorCommit> {
  if (!/^[0-9a-f]{7,40}$/.test(wanted)) throw new RestoreRefused(`"${wanted}" is not a commit SHA (7 to 40 hex digits)`);
  const tip = (await workTree.git(["rev-parse", "--verify", "HEAD^{commit}"])).trim();
  await workTree.fetch(tip, ANCESTRY_DEPTH);
  const matches = (await commitLog(workTree, [tip, "--"])).filter((candidate) => candidate.commit.startsWith(wanted));
  const [first, second] = matches;
  if (first === undefined) throw new RestoreRefused(`commit ${wanted} is not among the last ${ANCESTRY_DEPTH} commits of branch "${branch}"; only an earlier commit of the branch can be rolled back to`);
  if (second !== undefined) throw new RestoreRefused(`commit prefix ${wanted} is ambiguous on branch "${branch}" (${first.commit.slice(0, 12)}, ${second.commit.slice(0, 12)}...); give more digits`);
  return first;
}

/** Up to ANCESTRY_DEPTH commits of `git log <args>`, newest first, with their subjects (pathspecs literal). */
async function commitLog(workTree: WorkTree, args: readonly string[]): Promise<AncestorCommit[]> {
  const log = await workTree.git(["--literal-pathspecs", "log", "--no-color", `--max-count=${ANCESTRY_DEPTH}`, "--format=%H%x09%s", ...args]);
  return log
    .split("\n")
    .filter(Boolean)
    .map((line) => ({ commit: line.slice(0, 40), subject: line.slice(41) }));
}

export interface PathRestore {
  /** Files the restore changed, repository-relative (what the commit will hold). */
  changedFiles: string[];
  /** The change as a unified diff against the tip. */
  diff: string;
  /** Commits after the target that touched the directory, newest first (what the rollback undoes). */
  undone: AncestorCommit[];
  /** Such commits beyond the ones listed. */
  undoneOmitted: number;
  /** Files outside the directory that changed since the target: they stay as they are, which the user should know. */
  changedOutside: string[];
}

/**
 * Makes `directory` in the clone's work tree and index hold exactly what it held at `target` (an
 * ancestor found by findAncestor): files changed since are restored, files added since deleted,
 * nothing outside it touched. A directory that is, or passes through, a symlink in the tip or in
 * the target is refused: the controller renders what the link points to, which restoring the link
 * would not roll back.
 */
export async function restorePath(workTree: WorkTree, directory: string, target: string): Promise<PathRestore> {
  const root = await realpath(workTree.dir);
  if (directory !== ".") {
    // confinedPath refuses a symlink leading out of the clone; one inside it is refused below.
    const resolved = await confinedPath(root, directory);
    if (resolved !== path.join(root, directory)) throw new RestoreRefused(`path "${directory}" is or passes through a symlink on the branch; fjord rollback restores the files of a directory and does not follow links`);
    const entry = await workTree.git(["--literal-pathspecs", "ls-tree", "-z", "--full-tree", target, "--", directory]);
    const [mode] = entry.split(" ");
    if (entry === "") throw new RestoreRefused(`path "${directory}" does not exist at ${target.slice(0, 12)}, so that revision cannot be restored for it`);
    if (mode !== "040000") throw new RestoreRefused(`path "${directory}" is ${mode === "120000" ? "a symlink" : "a file"} at ${target.slice(0, 12)}, not a directory; fjord rollback restores the files of a directory`);
  }
  const tip = (await workTree.git(["rev-parse", "--verify", "HEAD^{commit}"])).trim();
  // --no-overlay: files under the directory that the target does not have are deleted too.
  await workTree.git(["--literal-pathspecs", "checkout", "--no-overlay", "--quiet", target, "--", directory]);

  const changedFiles = (await workTree.git(["diff", "--cached", "--name-only", "-z", "--no-renames", tip])).split("\0").filter(Boolean);
  const diff = changedFiles.length === 0 ? "" : await workTree.git(["diff", "--cached", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames", tip]);
  // The work tree keeps the restored files and the index goes back to the tip, so that
  // commitAndPush stages what the edit reports, deletions included (`add -A` of a path that is in
  // neither the index nor the work tree would fail).
  await workTree.git(["--literal-pathspecs", "reset", "--quiet", tip, "--", directory]);
  const undone = await commitLog(workTree, [`${target}..${tip}`, "--", directory]);
  const since = (await workTree.git(["diff", "--name-only", "-z", "--no-renames", target, tip])).split("\0").filter(Boolean);
  return {
    changedFiles,
    diff,
    undone: undone.slice(0, MAX_UNDONE_LISTED),
    undoneOmitted: Math.max(0, undone.length - MAX_UNDONE_LISTED),
    changedOutside: since.filter((file) => !isUnder(file, directory)),
  };
}
