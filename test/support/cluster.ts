import { randomBytes } from "node:crypto";
import { after, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { ControlPlane } from "../../testenv/control-plane.ts";

export interface TestCluster {
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
}

let shared: Promise<TestCluster> | undefined;
let ownPlane: ControlPlane | undefined;

// Registered at import time so it belongs to the file's root suite, not to whichever test
// happened to ask for the cluster first.
after(() => ownPlane?.stop());

/**
 * The control plane for this test run. `scripts/run-tests.ts` starts one for the whole run
 * and passes its kubeconfig in FJORD_TEST_KUBECONFIG; a test file run on its own starts its own.
 */
export function useCluster(): Promise<TestCluster> {
  shared ??= (async () => {
    let kubeconfigPath = process.env.FJORD_TEST_KUBECONFIG;
    if (!kubeconfigPath) {
      ownPlane = await ControlPlane.start({ progress: (message) => process.stderr.write(`testenv: ${message}\n`) });
      kubeconfigPath = ownPlane.kubeconfigPath;
    }
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    return { kubeconfigPath, kubeConfig };
  })();
  return shared;
}

/** A fresh namespace for one test, deleted afterwards, so tests never see each other's objects. */
export async function createTestNamespace(cluster: TestCluster, t: TestContext): Promise<string> {
  const slug = t.name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40);
  const name = `${slug}-${randomBytes(3).toString("hex")}`.replace(/^-/, "t-");
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name, labels: { "fjord.dev/test": "true" } } } });
  t.after(() => core.deleteNamespace({ name }).then(() => undefined, () => undefined));
  return name;
}

/** Polls until `check` returns a value, failing with `describe()` of the last state on timeout. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  options: { timeoutMs?: number; intervalMs?: number; describe?: () => Promise<string> | string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      const state = options.describe ? await options.describe() : "";
      throw new Error(`condition not met within ${options.timeoutMs ?? 60_000} ms${state ? `: ${state}` : ""}`);
    }
    await sleep(options.intervalMs ?? 250);
  }
}
