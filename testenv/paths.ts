import path from "node:path";
import { cacheRoot } from "../src/util/cache-dir.ts";
import { COMPONENTS, PEER_VERSIONS, versionKey, type Binary, type PeerTool } from "./versions.ts";

export { cacheRoot };

/** Where built control-plane binaries live, keyed by the versions they were built from. */
export function binaryCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheRoot(env), "testenv", versionKey(), "bin");
}

/** Each peer tool has a directory of its own, keyed by its version. */
export function peerCacheDir(tool: PeerTool, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheRoot(env), "tools", `${tool}-${PEER_VERSIONS[tool]}`);
}

/** The cache directory a binary is built into. */
export function cachedBinaryDir(binary: Binary, env: NodeJS.ProcessEnv = process.env): string {
  return (COMPONENTS as readonly string[]).includes(binary) ? binaryCacheDir(env) : peerCacheDir(binary as PeerTool, env);
}

/** Where the Go wrapper modules used to build them live. */
export function buildWorkDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheRoot(env), "build");
}

/** State of the control plane started in the background by `npm run cluster -- up`. */
export function daemonStateFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheRoot(env), "cluster", "state.json");
}
