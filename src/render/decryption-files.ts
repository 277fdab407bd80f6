import { stat } from "node:fs/promises";
import path from "node:path";
import { kustomizationReferences } from "./kustomization-references.ts";
import { findKustomizationFile, hasChart, readPackageFile } from "./package-files.ts";
import { isInside, realPathIfExists, relativeToRoot, type RenderDirectory } from "./paths.ts";
import { listManifestFiles } from "./plain.ts";
import { isRemoteReference } from "./remote-reference.ts";
import { KUSTOMIZATION } from "./tool-config-shapes.ts";
import { readToolConfig } from "./tool-config.ts";

async function collectKustomization(rootReal: string, kustomizationFile: string, visited: Set<string>, files: Set<string>): Promise<void> {
  if (visited.has(kustomizationFile)) return;
  visited.add(kustomizationFile);
  const file = relativeToRoot(rootReal, kustomizationFile);
  const content = readToolConfig(await readPackageFile(kustomizationFile, file), file, KUSTOMIZATION);
  for (const reference of kustomizationReferences(content)) {
    // What leaves the checkout or the network is refused by the kustomization scan, not here.
    if (isRemoteReference(reference.value) || path.isAbsolute(reference.value)) continue;
    const real = await realPathIfExists(path.resolve(path.dirname(kustomizationFile), reference.value));
    if (!real || !isInside(rootReal, real)) continue;
    if ((await stat(real)).isDirectory()) {
      const nested = reference.kind === "base" ? await findKustomizationFile(real) : undefined;
      if (nested) await collectKustomization(rootReal, nested, visited, files);
    } else files.add(real);
  }
}

/**
 * The files a render reads (real paths): a plain directory's manifests, or every resource,
 * patch and generator input of a kustomization and the bases it pulls in. Only these are
 * decrypted, so an encrypted file the render does not use (say, another cluster's secrets,
 * for keys this one lacks) does not fail it.
 */
export async function filesReadByRender(dir: RenderDirectory, ignore: readonly string[]): Promise<string[]> {
  const kustomizationFile = await findKustomizationFile(dir.dirReal);
  if (kustomizationFile) {
    const files = new Set<string>();
    await collectKustomization(dir.rootReal, kustomizationFile, new Set(), files);
    return [...files];
  }
  if (await hasChart(dir.dirReal)) return [];
  return listManifestFiles(dir, ignore);
}
