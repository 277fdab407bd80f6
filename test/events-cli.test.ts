import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { after, before, test } from "node:test";
import { KubeClient } from "../src/kube/client.ts";
import { runFjord } from "./support/cli.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";

const root = path.resolve(import.meta.dirname, "..");
let client: KubeClient;
let kubeconfig: string;

before(async () => {
  kubeconfig = (await useCluster()).kubeconfigPath;
  client = KubeClient.load({ kubeconfig });
});
after(() => client.close());

/** A core/v1 Event as the controller writes them (the contract: both component fields set). */
async function createEvent(namespace: string, options: { kind: string; apiVersion: string; name: string; reason: string; message: string; type?: string; at: Date; component?: string; count?: number }) {
  const time = options.at.toISOString().replace(/\.\d+Z$/, "Z");
  const component = options.component ?? "fjord-controller";
  await client.request("POST", `/api/v1/namespaces/${namespace}/events`, {
    body: {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `${options.name}.${options.at.getTime().toString(16)}${Math.random().toString(16).slice(2, 6)}`, namespace },
      involvedObject: { apiVersion: options.apiVersion, kind: options.kind, name: options.name, namespace },
      reason: options.reason,
      message: options.message,
      type: options.type ?? "Normal",
      count: options.count ?? 1,
      firstTimestamp: time,
      lastTimestamp: time,
      source: { component },
      reportingComponent: component,
      reportingInstance: "test-host",
    },
  });
}

test("events lists the controller's Events oldest first, filtered by object, across namespaces with -A", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const now = Date.now();
  await createEvent(namespace, { kind: "Application", apiVersion: "fjord.dev/v1alpha1", name: "web", reason: "ReconciliationSucceeded", message: "Applied revision: main@sha1:abc\n2 created", at: new Date(now - 120_000), count: 3 });
  await createEvent(namespace, { kind: "Deployment", apiVersion: "apps/v1", name: "web", reason: "DriftReverted", message: "Deployment/web was changed by kubectl-scale; reverted", type: "Warning", at: new Date(now - 10_000) });
  await createEvent(namespace, { kind: "Application", apiVersion: "fjord.dev/v1alpha1", name: "api", reason: "ValidationFailed", message: "ConfigMap/x: invalid", type: "Warning", at: new Date(now - 600_000) });
  // Someone else's Event about the same object is not fjord's to show.
  await createEvent(namespace, { kind: "Application", apiVersion: "fjord.dev/v1alpha1", name: "web", reason: "Other", message: "from another component", at: new Date(now - 5_000), component: "someone-else" });

  const all = await runFjord(["events", "-n", namespace, "--kubeconfig", kubeconfig]);
  assert.equal(all.code, 0, all.stderr);
  const lines = all.stdout.trimEnd().split("\n");
  assert.match(lines[0] ?? "", /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/);
  assert.equal(lines.length, 4, all.stdout);
  assert.match(lines[1] ?? "", /^10m\s+Warning\s+ValidationFailed\s+Application\/api\s+ConfigMap\/x: invalid$/);
  assert.match(lines[2] ?? "", /^2m \(x3\)\s+Normal\s+ReconciliationSucceeded\s+Application\/web\s+Applied revision: main@sha1:abc 2 created$/);
  assert.match(lines[3] ?? "", /^\d+s\s+Warning\s+DriftReverted\s+Deployment\/web\s+Deployment\/web was changed by kubectl-scale; reverted$/);
  assert.doesNotMatch(all.stdout, /another component/);

  const forApp = await runFjord(["events", "-n", namespace, "--for", "Application/web", "--kubeconfig", kubeconfig]);
  assert.equal(forApp.code, 0, forApp.stderr);
  assert.deepEqual(forApp.stdout.trimEnd().split("\n").slice(1).map((line) => line.split(/\s{3,}/)[2]), ["ReconciliationSucceeded"]);
  const forShortName = await runFjord(["events", "-n", namespace, "--for", "app/web", "--kubeconfig", kubeconfig]);
  assert.equal(forShortName.stdout, forApp.stdout);

  const everywhere = await runFjord(["events", "-A", "--kubeconfig", kubeconfig]);
  assert.equal(everywhere.code, 0, everywhere.stderr);
  assert.match(everywhere.stdout, /^NAMESPACE\s+LAST SEEN/);
  assert.match(everywhere.stdout, new RegExp(`^${namespace}\\s+.*DriftReverted`, "m"));

  const none = await runFjord(["events", "-n", namespace, "--for", "Application/missing", "--kubeconfig", kubeconfig]);
  assert.equal(none.code, 0);
  assert.equal(none.stdout, "");
  assert.match(none.stderr, /no fjord events/);
  const bad = await runFjord(["events", "-n", namespace, "--for", "web", "--kubeconfig", kubeconfig]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--for takes Kind\/name/);
});

test("events --watch prints new Events as they are written, until interrupted", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  await createEvent(namespace, { kind: "Application", apiVersion: "fjord.dev/v1alpha1", name: "web", reason: "ReconciliationSucceeded", message: "first", at: new Date() });
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "events", "-n", namespace, "--watch", "--kubeconfig", kubeconfig], {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  await eventually(() => Promise.resolve(output.includes("first")), { timeoutMs: 20_000, describe: () => output });
  await createEvent(namespace, { kind: "Application", apiVersion: "fjord.dev/v1alpha1", name: "web", reason: "DriftReverted", message: "second", type: "Warning", at: new Date() });
  await eventually(() => Promise.resolve(output.includes("second")), { timeoutMs: 10_000, describe: () => output });
  assert.equal(output.match(/first/g)?.length, 1, "an Event is printed once");
  child.kill("SIGINT");
  assert.equal(await exited, 0);
});
