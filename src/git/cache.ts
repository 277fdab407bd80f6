import { createHash, randomBytes } from "node:crypto";
import { access, mkdir, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { cacheRoot } from "../util/cache-dir.ts";

export interface CacheLocation {
  /** The bare repository holding everything fetched from one URL. */
  repository: string;
  /** Held while the repository is written or read, across processes. */
  lock: string;
}

export function defaultGitCacheDir(): string {
  return path.join(cacheRoot(), "git");
}

/**
 * One bare repository per URL, named by a hash of the URL. The URL given here must already be
 * stripped of credentials: two users of one repository share its cache, and a credential must
 * never end up in a file name.
 */
export function cacheLocation(cacheDir: string, credentialFreeUrl: string): CacheLocation {
  const key = createHash("sha256").update(credentialFreeUrl).digest("hex").slice(0, 32);
  return { repository: path.join(cacheDir, `${key}.git`), lock: path.join(cacheDir, `${key}.lock`) };
}

/**
 * Creates the bare repository when missing. It is initialised beside its final path and renamed
 * into place, so a process killed half-way leaves no repository that looks usable but is not.
 * `init` runs git with the given arguments in the given directory.
 */
export async function ensureCacheRepository(
  repository: string,
  init: (directory: string) => Promise<void>,
): Promise<void> {
  if (await exists(path.join(repository, "HEAD"))) return;
  await mkdir(path.dirname(repository), { recursive: true });
  const staging = `${repository}.init-${randomBytes(4).toString("hex")}`;
  try {
    await init(staging);
    await rm(repository, { recursive: true, force: true });
    await rename(staging, repository);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Deletes git's own `*.lock` files (shallow.lock, refs/.../x.lock, packed-refs.lock). Only call
 * this while holding the cache lock: then no git process can be using the repository, and any
 * such file was left by a git killed mid-fetch (a timeout), which would fail every later fetch
 * with "Another git process seems to be running".
 */
export async function removeStaleGitLocks(repository: string): Promise<string[]> {
  const stale: string[] = [];
  for (const dir of [repository, path.join(repository, "refs")]) {
    const entries = await readdir(dir, { recursive: dir !== repository, withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (entry.isFile() && entry.name.endsWith(".lock")) stale.push(path.join(entry.parentPath, entry.name));
    }
  }
  await Promise.all(stale.map((file) => rm(file, { force: true })));
  return stale;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
