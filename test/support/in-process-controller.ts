/** The controller running inside a test process, scoped to one test file's objects by a label. */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runController } from "../../src/controller/controller.ts";
import { KubeClient } from "../../src/kube/client.ts";
import { createLogger } from "../../src/util/logger.ts";
import { useCluster } from "./cluster.ts";

export interface InProcessController {
  client: KubeClient;
  stop(): Promise<void>;
}

/** The label each object of a suite carries; its controller reconciles nothing else. */
export function suiteLabels(suite: string): Record<string, string> {
  return { "fjord.dev/test-suite": suite };
}

/** Controllers of test files running at the same time never touch each other's objects: each watches only its suite's label. */
export async function startInProcessController(suite: string): Promise<InProcessController> {
  const cluster = await useCluster();
  const client = KubeClient.load({ kubeconfig: cluster.kubeconfigPath });
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), `fjord-${suite}-cache-`));
  const logger = createLogger("controller");
  logger.level = "warn";
  const abort = new AbortController();
  const running = runController({ client, logger, cacheDir, watchLabelSelector: `fjord.dev/test-suite=${suite}` }, abort.signal);
  return {
    client,
    async stop() {
      abort.abort();
      await running;
      client.close();
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
}
