/**
 * Where fjord keeps tenants' trees on disk: checkouts, decrypted copies, tools' scratch homes,
 * git's credential files. They all live under one parent directory per process that its own
 * user can enter and create entries in but not list (mode 0311), each under a name with 128
 * random bits. A kustomize build or a helm chart that names another tree by path
 * (`../other-team`, `/tmp/fjord-.../files`) therefore has nothing to find: the directory cannot
 * be listed, and its entries cannot be guessed.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp } from "node:fs/promises";
import { rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** Write and search for the owner only: entries can be made and entered, never listed. */
export const PRIVATE_PARENT_MODE = 0o311;

let parent: Promise<string> | undefined;
/** Empty directories kept for the whole process (sandbox roots, an empty PATH), removed at exit. */
const processDirs: string[] = [];

async function createParent(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "fjord-"));
  await chmod(dir, PRIVATE_PARENT_MODE);
  // Only an empty parent can go; a crash leaves it behind like any other temp directory.
  process.once("exit", () => {
    for (const child of processDirs) {
      try {
        rmdirSync(child);
      } catch {
        // not empty after all, or already gone
      }
    }
    try {
      rmdirSync(dir);
    } catch {
      // still in use by a tree someone did not dispose of, or already gone
    }
  });
  return dir;
}

/** The per-process parent of every private directory (created on first use). */
export function privateTempParent(): Promise<string> {
  parent ??= createParent().catch((error: unknown) => {
    parent = undefined;
    throw error;
  });
  return parent;
}

/**
 * A fresh directory (mode 0700) under the private parent, named `<label>-<32 hex digits>`. The
 * label says what it holds, for whoever looks at the disk; it adds nothing guessable.
 */
export async function makePrivateTempDir(label: string, options: { emptyUntilExit?: boolean } = {}): Promise<string> {
  const dir = path.join(await privateTempParent(), `${label}-${randomBytes(16).toString("hex")}`);
  await mkdir(dir, { mode: 0o700 });
  // The caller keeps it empty and never removes it: it goes when the process exits.
  if (options.emptyUntilExit) processDirs.push(dir);
  return dir;
}
