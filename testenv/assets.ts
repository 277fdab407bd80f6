import path from "node:path";
import { isExecutable } from "../src/util/executable.ts";
import { cachedBinaryDir } from "./paths.ts";
import { COMPONENTS, type Binary } from "./versions.ts";

export type AssetSource = "TEST_ASSET" | "KUBEBUILDER_ASSETS" | "cache";

export interface LocatedAsset {
  component: Binary;
  path: string;
  source: AssetSource;
}

export interface AssetLookup {
  found: Map<Binary, LocatedAsset>;
  missing: Binary[];
}

/** `kube-apiserver` -> `TEST_ASSET_KUBE_APISERVER`, the envtest convention. */
export function testAssetVariable(component: Binary): string {
  return `TEST_ASSET_${component.toUpperCase().replace(/-/g, "_")}`;
}

/**
 * Finds each binary via TEST_ASSET_<NAME>, then $KUBEBUILDER_ASSETS/<name>, then fjord's
 * own cache. A TEST_ASSET variable that points at nothing is an error rather than a silent
 * fallback: the user asked for that exact binary.
 */
export function locateAssets(
  components: readonly Binary[] = COMPONENTS,
  env: NodeJS.ProcessEnv = process.env,
): AssetLookup {
  const found = new Map<Binary, LocatedAsset>();
  const missing: Binary[] = [];
  for (const component of components) {
    const variable = testAssetVariable(component);
    const explicit = env[variable];
    if (explicit) {
      if (!isExecutable(explicit)) {
        throw new Error(`${variable}=${explicit} is not an executable file; unset it or point it at a ${component} binary`);
      }
      found.set(component, { component, path: explicit, source: "TEST_ASSET" });
      continue;
    }
    const candidates: Array<[string, AssetSource]> = [];
    if (env.KUBEBUILDER_ASSETS) candidates.push([path.join(env.KUBEBUILDER_ASSETS, component), "KUBEBUILDER_ASSETS"]);
    candidates.push([path.join(cachedBinaryDir(component, env), component), "cache"]);
    const hit = candidates.find(([file]) => isExecutable(file));
    if (hit) found.set(component, { component, path: hit[0], source: hit[1] });
    else missing.push(component);
  }
  return { found, missing };
}
