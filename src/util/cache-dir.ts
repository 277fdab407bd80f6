import os from "node:os";
import path from "node:path";

/** fjord's cache root: $FJORD_CACHE_DIR, else $XDG_CACHE_HOME/fjord, else ~/.cache/fjord. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FJORD_CACHE_DIR) return path.resolve(env.FJORD_CACHE_DIR);
  const xdg = env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(xdg, "fjord");
}
