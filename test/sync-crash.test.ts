import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, test } from "node:test";
import { stringify } from "yaml";
import { KubeClient } from "../src/kube/client.ts";
import { loadInventory } from "../src/inventory/configmap-store.ts";
import type { KubeObject } from "../src/model/object.ts";
import { peerToolPath, runFjord } from "./support/cli.ts";
import { createTestNamespace, useCluster, type TestCluster } from "./support/cluster.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";

const root = path.resolve(import.meta.dirname, "..");
const OBJECTS = 120;

let git: GitServer;
let cluster: TestCluster;
let client: KubeClient;

before(async () => {
  cluster = await useCluster();
  client = KubeClient.load({ kubeconfig: cluster.kubeconfigPath });
  git = await startGitServer({});
});
after(async () => {
  client.close();
  await git.close();
});

const configMaps = (names: string[]) => names.map((name) => stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { name } })).join("---\n");

async function appliedConfigMaps(namespace: string): Promise<string[]> {
  const list = await client.request<{ items: KubeObject[] }>("GET", `/api/v1/namespaces/${namespace}/configmaps`);
  return list.items.map((item) => item.metadata.name ?? "").filter((name) => name !== "kube-root-ca.crt" && !name.startsWith("fjord-inventory")).sort();
}

test("regression: a sync killed mid-apply leaves what it created in the inventory, so the next commit prunes it", async (t) => {
  const namespace = await createTestNamespace(cluster, t);
  const repo = `crash-${process.pid}`;
  await git.createRepo(repo);
  const doomed = Array.from({ length: OBJECTS }, (_, index) => `doomed-${String(index).padStart(3, "0")}`);
  await git.commitFiles(repo, { "app/config.yaml": configMaps(doomed) }, { message: "many ConfigMaps" });
  const args = ["sync", "--repo", git.repoUrl(repo), "--path", "app", "-n", namespace, "--name", "crash", "--kubeconfig", cluster.kubeconfigPath];

  // One object at a time, so the kill lands in the middle of the apply phase.
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "src/cli/main.ts"), ...args, "--concurrency", "1"], {
    cwd: root,
    env: { ...process.env, PATH: await peerToolPath(), NO_COLOR: "1" },
    stdio: "ignore",
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  t.after(() => child.kill("SIGKILL"));
  for (;;) {
    if ((await appliedConfigMaps(namespace)).length >= 3) break;
    if (child.exitCode !== null) assert.fail(`fjord sync exited (${child.exitCode}) before it was killed`);
    await sleep(20);
  }
  child.kill("SIGKILL");
  await exited;
  const created = await appliedConfigMaps(namespace);
  assert.ok(created.length > 0 && created.length < OBJECTS, `killed mid-apply: ${created.length} of ${OBJECTS} created`);

  const { inventory } = await loadInventory(client, { name: "crash", namespace });
  const recorded = inventory.entries.map((entry) => entry.name).sort();
  for (const name of created) assert.ok(recorded.includes(name), `${name} was created but is not in the inventory`);

  await git.commitFiles(repo, { "app/config.yaml": configMaps(["kept"]) }, { message: "one ConfigMap left" });
  const next = await runFjord([...args, "--prune"]);
  assert.equal(next.code, 0, next.stderr);
  assert.deepEqual(await appliedConfigMaps(namespace), ["kept"], "every ConfigMap of the killed sync was pruned");
});
