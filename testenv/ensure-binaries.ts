import { locateAssets } from "./assets.ts";
import { TestenvError } from "./errors.ts";
import { buildBinaries, type Progress } from "./go-build.ts";
import type { Binary } from "./versions.ts";

/**
 * Paths of the named binaries: located if present, otherwise built from Go modules
 * (unless `build` is false). Missing binaries that cannot be had are one clear error.
 */
export async function ensureBinaries<T extends Binary>(
  names: readonly T[],
  progress: Progress,
  options: { build?: boolean; overrides?: Partial<Record<T, string>> } = {},
): Promise<Record<T, string>> {
  const wanted = names.filter((name) => options.overrides?.[name] === undefined);
  let lookup = locateAssets(wanted);
  if (lookup.missing.length > 0 && options.build !== false) {
    await buildBinaries(lookup.missing, progress);
    lookup = locateAssets(wanted);
  }
  if (lookup.missing.length > 0) {
    throw new TestenvError(
      lookup.missing.join(", "),
      "binary not found",
      "set KUBEBUILDER_ASSETS or TEST_ASSET_<NAME>, or allow fjord to build them from Go modules",
    );
  }
  const result = {} as Record<T, string>;
  for (const name of names) {
    const path = options.overrides?.[name] ?? lookup.found.get(name)?.path;
    if (path) result[name] = path;
  }
  return result;
}
