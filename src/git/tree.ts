/**
 * Writing one commit's files into a fresh directory, through a private index so the shared
 * cache is never touched, and leaving out the paths a source's ignore rules match: those are
 * never written to disk, so nothing that renders from the tree can see them.
 */
import { mkdir, realpath, rm } from "node:fs/promises";
import path from "node:path";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { makePrivateTempDir } from "../util/private-temp.ts";
import type { GitError } from "./errors.ts";
import type { GitSession } from "./session.ts";
import type { Checkout, PathFilter } from "./types.ts";

/** Matching runs on the event loop; beyond this many milliseconds at a stretch it lets other work run. */
const MATCHING_SLICE_MS = 10;

/** Writes `commit` of the bare repository `gitDir` into a new private directory. */
export async function materializeTree<E extends GitError>(session: GitSession<E>, gitDir: string, commit: string, ignore?: PathFilter): Promise<Pick<Checkout, "dir" | "dispose">> {
  // Private and unguessable: a build of another tenant's repository must not find this tree.
  const base = await makePrivateTempDir("checkout");
  const dispose = () => rm(base, { recursive: true, force: true, maxRetries: 3 });
  try {
    const dir = path.join(base, "files");
    await mkdir(dir);
    const env = { GIT_INDEX_FILE: path.join(base, "index") };
    const place = { gitDir };
    await session.runOk(["read-tree", commit], "checking out", { in: place, env });
    if (ignore) {
      // Paths are bytes to git and need not be UTF-8: they go back to it exactly as it listed them.
      const listing = await session.run(["ls-files", "-z"], "checking out", { in: place, env });
      if (listing.code !== 0) throw session.failure(listing, "checking out");
      const listed = splitNul(listing.stdoutBytes);
      const ignored = await ignoredPaths(listed.map((bytes) => bytes.toString("utf8")), ignore);
      if (ignored.length > 0) {
        const input = Buffer.concat(ignored.flatMap((index) => [listed[index]!, NUL]));
        await session.runOk(["--work-tree", dir, "update-index", "--force-remove", "-z", "--stdin"], "checking out", { in: place, env, input });
      }
    }
    await session.runOk(["--work-tree", dir, "checkout-index", "--all", "--force"], "checking out", { in: place, env });
    await rm(env.GIT_INDEX_FILE, { force: true });
    return { dir: await realpath(dir), dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

const NUL = Buffer.from([0]);

function splitNul(bytes: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let end = bytes.indexOf(0); end >= 0; end = bytes.indexOf(0, start)) {
    parts.push(bytes.subarray(start, end));
    start = end + 1;
  }
  return parts;
}

/**
 * The indices of the files (repository-relative, `/`-separated) that `ignore` leaves out. As in
 * git, a directory that is ignored takes everything below it along, and nothing below it can be
 * taken back with `!`; each directory is judged once, however many files it holds.
 */
export async function ignoredPaths(files: readonly string[], ignore: PathFilter): Promise<number[]> {
  const directories = new Map<string, boolean>([["", false]]);
  const directoryIgnored = (dir: string): boolean => {
    let known = directories.get(dir);
    if (known === undefined) {
      const slash = dir.lastIndexOf("/");
      known = directoryIgnored(slash < 0 ? "" : dir.slice(0, slash)) || ignore.ignores(dir, true);
      directories.set(dir, known);
    }
    return known;
  };
  const ignored: number[] = [];
  let sliceStart = performance.now();
  for (const [index, file] of files.entries()) {
    const slash = file.lastIndexOf("/");
    if (directoryIgnored(slash < 0 ? "" : file.slice(0, slash)) || ignore.ignores(file, false)) ignored.push(index);
    if (performance.now() - sliceStart > MATCHING_SLICE_MS) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
  }
  return ignored;
}
