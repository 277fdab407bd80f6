import { Worker, type WorkerOptions } from "node:worker_threads";

/**
 * A sibling module of `importMetaUrl` by base name, with the caller's own extension: `.ts`
 * when fjord runs from source (tests, `npm run fjord`), `.js` when compiled.
 */
export function siblingModule(importMetaUrl: string, baseName: string): URL {
  const extension = /\.[cm]?[jt]s$/.exec(new URL(importMetaUrl).pathname)?.[0] ?? ".js";
  return new URL(`./${baseName}${extension}`, importMetaUrl);
}

/**
 * Starts a module in a worker thread. Compiled, that is plain `new Worker(url)`. From source,
 * the worker registers tsx itself first: Node 20 does not hand the parent's `--import tsx`
 * loader hooks to worker threads.
 */
export function startModuleWorker(moduleUrl: URL, options: WorkerOptions = {}): Worker {
  if (!moduleUrl.pathname.endsWith(".ts")) return new Worker(moduleUrl, options);
  const tsx = import.meta.resolve("tsx/esm/api");
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(moduleUrl.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
