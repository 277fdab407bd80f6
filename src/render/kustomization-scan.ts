import { stat } from "node:fs/promises";
import path from "node:path";
import { RenderError } from "./errors.ts";
import { kustomizationReferences, type KustomizationReference } from "./kustomization-references.ts";
import { findKustomizationFile, readPackageFile } from "./package-files.ts";
import { isInside, realPathIfExists, relativeToRoot } from "./paths.ts";
import { isFileUrl, isRemoteReference, looksLikeHostPath } from "./remote-reference.ts";
import { KUSTOMIZATION } from "./tool-config-shapes.ts";
import { readToolConfig } from "./tool-config.ts";

export interface RemoteReferenceFound {
  /** The kustomization that names it, relative to the repository root. */
  kustomization: string;
  field: string;
  reference: string;
}

interface Scan {
  rootReal: string;
  allowRemoteBases: boolean;
  visited: Set<string>;
  remote: RemoteReferenceFound[];
}

function leavesRoot(kustomization: string, reference: KustomizationReference, how: string): RenderError {
  return new RenderError("path-outside-root", `${reference.field} entry "${reference.value}" ${how}`, {
    file: kustomization,
    fix: "keep every base and file a kustomization uses inside the repository; only the checkout is rendered",
  });
}

function remoteRefused(found: RemoteReferenceFound): RenderError {
  return new RenderError("remote-base", `${found.field} entry "${found.reference}" is remote: kustomize would fetch it over the network`, {
    file: found.kustomization,
    fix: "vendor it into this repository and refer to it by a relative path, or allow remote bases for this source",
  });
}

function unusablePath(kustomization: string, reference: KustomizationReference, how: string): RenderError {
  return new RenderError("tool-config", `${reference.field} entry ${JSON.stringify(reference.value)} ${how}`, {
    file: kustomization,
    fix: "name a file or directory of the repository by its relative path",
  });
}

/** A file system error, by its code only: its message holds the absolute path on the controller. */
function unreadable(kustomization: string, reference: KustomizationReference, error: unknown): RenderError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? "unknown error";
  return unusablePath(kustomization, reference, `cannot be read (${code}: a name too long, a symlink loop or no permission)`);
}

/** The entry's real path, undefined when it does not exist; any other failure (ELOOP, ENAMETOOLONG, EACCES) is the kustomization's error. */
async function resolveEntry(kustomization: string, reference: KustomizationReference, target: string): Promise<string | undefined> {
  try {
    return await realPathIfExists(target);
  } catch (error) {
    throw unreadable(kustomization, reference, error);
  }
}

async function isDirectory(file: string): Promise<boolean> {
  return (await stat(file)).isDirectory();
}

async function scanFile(scan: Scan, kustomizationFile: string): Promise<void> {
  if (scan.visited.has(kustomizationFile)) return;
  scan.visited.add(kustomizationFile);
  const kustomization = relativeToRoot(scan.rootReal, kustomizationFile);
  // A kustomization we cannot read exactly as kustomize does is one we cannot vouch for: fail rather than let it run.
  const content = readToolConfig(await readPackageFile(kustomizationFile, kustomization), kustomization, KUSTOMIZATION);
  const dir = path.dirname(kustomizationFile);
  for (const reference of kustomizationReferences(content)) {
    const remote: RemoteReferenceFound = { kustomization, field: reference.field, reference: reference.value };
    // A file: URL names a path on the controller; remote bases being allowed does not make that fine.
    if (isFileUrl(reference.value)) throw leavesRoot(kustomization, reference, "is a file: URL, which reads outside the repository");
    if (isRemoteReference(reference.value)) {
      if (!scan.allowRemoteBases) throw remoteRefused(remote);
      scan.remote.push(remote);
      continue;
    }
    if (path.isAbsolute(reference.value)) throw leavesRoot(kustomization, reference, "is an absolute path, outside the repository");
    // Node refuses such a path with a TypeError (quoting the controller's own directories) and no file system holds one.
    if (reference.value.includes("\0")) throw unusablePath(kustomization, reference, "holds a NUL character, which no path can hold");
    const target = path.resolve(dir, reference.value);
    if (!isInside(scan.rootReal, target)) throw leavesRoot(kustomization, reference, "points outside the repository");
    const real = await resolveEntry(kustomization, reference, target);
    if (!real) {
      // Not in the checkout: kustomize would try `host/org/repo` as a remote; otherwise it reports the missing path itself.
      if (looksLikeHostPath(reference.value)) {
        if (!scan.allowRemoteBases) throw remoteRefused(remote);
        scan.remote.push(remote);
      }
      continue;
    }
    if (!isInside(scan.rootReal, real)) throw leavesRoot(kustomization, reference, "is a symlink to a place outside the repository");
    if (reference.kind === "base" && (await isDirectory(real).catch((error: unknown) => { throw unreadable(kustomization, reference, error); }))) {
      const nested = await findKustomizationFile(real);
      if (nested) await scanFile(scan, nested);
    }
  }
}

/**
 * Checks a kustomization and every kustomization it pulls in before kustomize runs: nothing may
 * point outside the checkout, and remote bases are refused unless allowed. Returns the remote
 * references it let through.
 */
export async function scanKustomization(
  rootReal: string,
  kustomizationFile: string,
  options: { allowRemoteBases: boolean },
): Promise<RemoteReferenceFound[]> {
  const scan: Scan = { rootReal, allowRemoteBases: options.allowRemoteBases, visited: new Set(), remote: [] };
  await scanFile(scan, kustomizationFile);
  return scan.remote;
}
