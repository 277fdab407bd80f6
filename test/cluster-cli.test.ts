import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { locateAssets } from "../testenv/assets.ts";
import { binaryCacheDir } from "../testenv/paths.ts";
import type { DaemonState } from "../testenv/daemon.ts";
import { eventually } from "./support/cluster.ts";
import { processesMatching } from "./support/processes.ts";

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "..");
const cli = ["--import", "tsx", "scripts/cluster.ts"];

/** An isolated fjord cache for the CLI under test that still reuses the built binaries. */
async function isolatedEnv(t: { after: (fn: () => Promise<void>) => void }): Promise<NodeJS.ProcessEnv> {
  const cache = await mkdtemp(path.join(os.tmpdir(), "fjord-cli-cache-"));
  const env = { ...process.env, FJORD_CACHE_DIR: cache, KUBEBUILDER_ASSETS: process.env.KUBEBUILDER_ASSETS ?? binaryCacheDir() };
  t.after(async () => {
    await execFileAsync(process.execPath, [...cli, "down"], { cwd: repoRoot, env }).catch(() => undefined);
    await rm(cache, { recursive: true, force: true });
  });
  return env;
}

function kubectl(): string {
  const found = locateAssets(["kubectl"]).found.get("kubectl");
  assert.ok(found, "kubectl is part of the test assets");
  return found.path;
}

test("cluster up prints KUBECONFIG last, kubectl sees Ready nodes, cluster down leaves nothing behind", async (t) => {
  const env = await isolatedEnv(t);
  const up = await execFileAsync(process.execPath, [...cli, "up"], { cwd: repoRoot, env });
  const lastLine = up.stdout.trimEnd().split("\n").at(-1) ?? "";
  const match = /^KUBECONFIG=(.+)$/.exec(lastLine);
  assert.ok(match?.[1], `last line should be KUBECONFIG=<path>, got ${JSON.stringify(lastLine)}`);
  const kubeconfig = match[1];
  assert.match(up.stderr, /kube-apiserver ready/, "progress is shown while starting");

  const nodes = await execFileAsync(kubectl(), ["--kubeconfig", kubeconfig, "get", "nodes", "--no-headers"]);
  const ready = nodes.stdout.split("\n").filter((line) => /\sReady\s/.test(line));
  assert.equal(ready.length, 2, nodes.stdout);

  const status = await execFileAsync(process.execPath, [...cli, "status"], { cwd: repoRoot, env });
  assert.match(status.stderr, /control plane: ready/);
  assert.equal(status.stdout.trim(), `KUBECONFIG=${kubeconfig}`);

  const again = await execFileAsync(process.execPath, [...cli, "up"], { cwd: repoRoot, env });
  assert.match(again.stderr, /already running/);
  assert.equal(again.stdout.trim(), `KUBECONFIG=${kubeconfig}`);

  const state = JSON.parse(await readFile(path.join(env.FJORD_CACHE_DIR ?? "", "cluster", "state.json"), "utf8")) as DaemonState;
  const dir = state.dir ?? "";
  assert.ok(dir && existsSync(dir));
  assert.ok(processesMatching(dir).length >= 4, "etcd, kube-apiserver, controller-manager, scheduler, kwok run from the temp dir");

  const down = await execFileAsync(process.execPath, [...cli, "down"], { cwd: repoRoot, env });
  assert.match(down.stderr, /control plane stopped/);
  assert.deepEqual(processesMatching(dir), [], "no etcd / kube-apiserver / kwok process is left");
  assert.ok(!existsSync(dir), "the temp directory is removed");

  const after = await execFileAsync(process.execPath, [...cli, "status"], { cwd: repoRoot, env }).catch((error: { code: number; stderr: string }) => error);
  assert.equal((after as { code?: number }).code, 3);
  assert.match(after.stderr, /not running/);
});

test("SIGINT to a foreground control plane stops every component and removes its files", async (t) => {
  const env = await isolatedEnv(t);
  const logFile = path.join(env.FJORD_CACHE_DIR ?? "", "serve.log");
  const child = spawn(process.execPath, [...cli, "serve", "--log-file", logFile], { cwd: repoRoot, env, stdio: "ignore" });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const stateFile = path.join(env.FJORD_CACHE_DIR ?? "", "cluster", "state.json");
  const state = await eventually(
    async () => {
      const current = JSON.parse(await readFile(stateFile, "utf8").catch(() => "{}")) as Partial<DaemonState>;
      return current.status === "ready" ? current : undefined;
    },
    { timeoutMs: 90_000 },
  );
  const dir = state.dir ?? "";
  assert.ok(processesMatching(dir).length >= 4);
  child.kill("SIGINT");
  assert.equal(await exited, 130);
  assert.deepEqual(processesMatching(dir), []);
  assert.ok(!existsSync(dir));
  assert.ok(!existsSync(stateFile), "the state file goes with the control plane");
});
