import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { ControlPlane } from "../testenv/control-plane.ts";
import { TestenvError } from "../testenv/errors.ts";
import { childProcessesOf } from "./support/processes.ts";

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "..");

async function fakeBinary(t: { after: (fn: () => Promise<void>) => void }, script: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "fjord-fake-bin-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, "fake");
  await writeFile(file, `#!/bin/sh\n${script}\n`);
  await chmod(file, 0o755);
  return file;
}

async function testenvDirs(): Promise<string[]> {
  // Other test files run control planes at the same time; ours carry this process's pid.
  return (await readdir(os.tmpdir())).filter((name) => name.startsWith(`fjord-testenv-${process.pid}-`));
}

/** Start-up must fail with a TestenvError for `component` whose log file exists, leaving nothing running. */
async function assertCleanFailure(start: () => Promise<unknown>, component: string, problem: RegExp): Promise<TestenvError> {
  const before = new Set(await testenvDirs());
  // tsx keeps an esbuild service as a child of its own; only new children matter.
  const childrenBefore = new Set(childProcessesOf(process.pid));
  const error = await start().then(
    () => assert.fail("the control plane should not have started"),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof TestenvError, `expected a TestenvError, got ${String(error)}`);
  assert.equal(error.component, component);
  assert.match(error.message, problem);
  assert.match(error.message, /fix: /, "the error says what to do");
  if (error.logFile) {
    assert.ok(error.message.includes(error.logFile), "the error names its log file");
    assert.ok(existsSync(error.logFile), "the log file is kept for diagnosis");
  }
  const newChildren = childProcessesOf(process.pid).filter((pid) => !childrenBefore.has(pid));
  assert.deepEqual(newChildren, [], "no component is left running");
  const leaked = (await testenvDirs()).filter((name) => !before.has(name));
  assert.deepEqual(leaked, [], "no temp directory is left behind");
  return error;
}

test("a binary that crashes on start is named with its exit code and log", async (t) => {
  const crashing = await fakeBinary(t, 'echo "fatal: cannot load configuration" >&2\nexit 3');
  const error = await assertCleanFailure(
    () => ControlPlane.start({ binaries: { "kube-apiserver": crashing } }),
    "kube-apiserver",
    /exited with code 3 during start-up[\s\S]*cannot load configuration/,
  );
  assert.ok(error.logFile?.endsWith("kube-apiserver.log"));
});

test("a component that never becomes ready fails after its timeout", async (t) => {
  const hanging = await fakeBinary(t, "exec sleep 600");
  await assertCleanFailure(
    () => ControlPlane.start({ binaries: { etcd: hanging }, startTimeoutMs: 3000 }),
    "etcd",
    /not ready after 3s/,
  );
});

test("a port that is already taken is reported before anything starts on it", async (t) => {
  const squatter = net.createServer();
  await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const port = (squatter.address() as net.AddressInfo).port;
  const error = await assertCleanFailure(() => ControlPlane.start({ ports: { apiServer: port } }), "kube-apiserver", new RegExp(`port 127.0.0.1:${port} is already in use`));
  assert.match(error.message, /leave the port unset/);
});

test("a crash caused by a port clash says so", async (t) => {
  const clashing = await fakeBinary(t, 'echo "listen tcp 127.0.0.1:2379: bind: address already in use" >&2\nexit 1');
  const error = await assertCleanFailure(() => ControlPlane.start({ binaries: { etcd: clashing } }), "etcd", /port already in use/);
  assert.match(error.message, /ss -ltnp/);
});

test("without binaries and without Go, the error says how to get them", async () => {
  const cache = await mkdtemp(path.join(os.tmpdir(), "fjord-empty-cache-"));
  try {
    const env = { PATH: "/usr/bin:/bin", HOME: os.homedir(), FJORD_CACHE_DIR: cache };
    const goDir = path.dirname((await execFileAsync("sh", ["-c", "command -v go"])).stdout.trim());
    assert.ok(!env.PATH.split(":").includes(goDir), "this test needs a PATH without go");
    const result = await execFileAsync(process.execPath, ["--import", "tsx", "scripts/cluster.ts", "up"], { cwd: repoRoot, env }).then(
      () => assert.fail("cluster up should fail"),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /go toolchain: not found on PATH/);
    assert.match(result.stderr, /KUBEBUILDER_ASSETS/);
    assert.match(result.stderr, /etcd, kube-apiserver/);
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
});
