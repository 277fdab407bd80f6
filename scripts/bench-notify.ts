/**
 * `npm run bench -- notify [--events 20]`: on a fresh local control plane, `fjord controller`
 * (compiled, out-of-cluster) with a Slack Provider pointing at a local receiver and an Alert
 * for failures. Each event is a new Application whose source does not exist, so its first sync
 * fails; the figure is the time from the Application being accepted by the API server to the
 * Slack message about its failure arriving (an upper bound of failed sync to delivery: it
 * includes the watch event and the reconcile). Prints every event, then p50 and max.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { KubeClient } from "../src/kube/client.ts";
import { ControlPlane } from "../testenv/control-plane.ts";
import { buildCli, percentile, waitForFjordApi } from "./bench-support.ts";
import { startControllerProcess } from "../test/support/controller-process.ts";
import { CONTROLLER_NODE_FLAGS } from "../src/install/workload.ts";

export async function benchNotify(events: number): Promise<void> {
  const arrived = new Map<string, number>();
  const receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { attachments?: Array<{ author_name?: string }> };
      const subject = body.attachments?.[0]?.author_name ?? "";
      if (!arrived.has(subject)) arrived.set(subject, performance.now());
      response.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const port = (receiver.address() as AddressInfo).port;
  const plane = await ControlPlane.start({ progress: (message) => process.stderr.write(`testenv: ${message}\n`) });
  const work = await mkdtemp(path.join(os.tmpdir(), "fjord-bench-notify-"));
  const client = KubeClient.load({ kubeconfig: plane.kubeconfigPath });
  await buildCli();
  const controller = await startControllerProcess({ kubeconfig: plane.kubeconfigPath, logFile: path.join(work, "controller.log"), cacheDir: path.join(work, "cache"), compiled: true, nodeArgs: [...CONTROLLER_NODE_FLAGS] });
  try {
    // Each CRD is served on its own once Established: wait for the ones used here.
    for (const resource of ["applications", "providers", "alerts"]) await waitForFjordApi(client, 60_000, resource);
    const api = "/apis/fjord.dev/v1alpha1/namespaces/default";
    await client.request("POST", `${api}/providers`, { body: { apiVersion: "fjord.dev/v1alpha1", kind: "Provider", metadata: { name: "slack" }, spec: { type: "slack", address: `http://127.0.0.1:${port}/services/bench` } } });
    await client.request("POST", `${api}/alerts`, { body: { apiVersion: "fjord.dev/v1alpha1", kind: "Alert", metadata: { name: "failures" }, spec: { providerRef: { name: "slack" }, eventSeverity: "error", eventSources: [{ kind: "Application", name: "*" }] } } });
    // The Alert is matched from the controller's cache: wait until it says it is Ready.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const alert = await client.request<{ status?: { conditions?: Array<{ type: string; status: string }> } }>("GET", `${api}/alerts/failures`);
      if (alert.status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True")) break;
      if (Date.now() > deadline) throw new Error("the Alert did not become Ready within 60 s; see the controller log");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const timings: number[] = [];
    for (let i = 0; i < events; i++) {
      const name = `failing-${i}`;
      const subject = `Application/${name}.default`;
      await client.request("POST", `${api}/applications`, {
        body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name }, spec: { sourceRef: { kind: "GitRepository", name: "missing" }, path: "./", interval: "1h" } },
      });
      const created = performance.now();
      const until = Date.now() + 30_000;
      while (!arrived.has(subject)) {
        if (Date.now() > until) throw new Error(`no notification for ${name} within 30 s; see the controller log`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const ms = (arrived.get(subject) ?? created) - created;
      timings.push(ms);
      console.log(`${String(i + 1).padStart(2)}. ${name.padEnd(12)} failed sync delivered to Slack receiver in ${ms.toFixed(0)} ms`);
    }
    const sorted = [...timings].sort((a, b) => a - b);
    console.log(`notifications: ${events}; p50 ${percentile(sorted, 50).toFixed(0)} ms, max ${(sorted.at(-1) ?? 0).toFixed(0)} ms (target: under 2000 ms)`);
  } finally {
    client.close();
    await controller.stop();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await plane.stop();
    await rm(work, { recursive: true, force: true });
  }
}
