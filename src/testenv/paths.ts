import os from "node:os";
import path from "node:path";
import { versionKey } from "./versions.ts";

/** fjord's cache root: $FJORD_CACHE_DIR, else $XDG_CACHE_HOME/fjord, else ~/.cache/fjord. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FJORD_CACHE_DIR) return path.resolve(env.FJORD_CACHE_DIR);
  const xdg = env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(xdg, "fjord");
}

/** Where built control-plane binaries live, keyed by the versions they were built from. */
export function binaryCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheRoot(env), "testenv", versionKey(), "bin");
}

/** Where the Go wrapper modules used to build them live. */
export function buildWorkDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheRoot(env), "testenv", versionKey(), "src");
}

/** State of the control plane started in the background by `fjord cluster up`. */
export function daemonStateFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheRoot(env), "cluster", "state.json");
}
