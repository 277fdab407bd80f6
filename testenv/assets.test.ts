import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { locateAssets, testAssetVariable } from "./assets.ts";
import { binaryCacheDir } from "./paths.ts";

async function executable(file: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, "#!/bin/sh\n");
  await chmod(file, 0o755);
  return file;
}

test("TEST_ASSET_<NAME> wins over KUBEBUILDER_ASSETS, which wins over the cache", async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), "fjord-assets-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const env = { FJORD_CACHE_DIR: path.join(root, "cache"), KUBEBUILDER_ASSETS: path.join(root, "kb") } as NodeJS.ProcessEnv;
  const explicit = await executable(path.join(root, "custom", "my-etcd"));
  env.TEST_ASSET_ETCD = explicit;
  await executable(path.join(root, "kb", "etcd"));
  await executable(path.join(root, "kb", "kube-apiserver"));
  await executable(path.join(binaryCacheDir(env), "kube-apiserver"));
  await executable(path.join(binaryCacheDir(env), "kwok"));

  const { found, missing } = locateAssets(["etcd", "kube-apiserver", "kwok", "kube-scheduler"], env);
  assert.deepEqual(found.get("etcd"), { component: "etcd", path: explicit, source: "TEST_ASSET" });
  assert.equal(found.get("kube-apiserver")?.source, "KUBEBUILDER_ASSETS");
  assert.equal(found.get("kwok")?.source, "cache");
  assert.deepEqual(missing, ["kube-scheduler"]);
});

test("a TEST_ASSET variable pointing at nothing is an error, not a silent fallback", () => {
  assert.throws(
    () => locateAssets(["kube-apiserver"], { TEST_ASSET_KUBE_APISERVER: "/nonexistent/kube-apiserver" }),
    /TEST_ASSET_KUBE_APISERVER=\/nonexistent\/kube-apiserver is not an executable file/,
  );
});

test("variable names follow the envtest convention", () => {
  assert.equal(testAssetVariable("kube-controller-manager"), "TEST_ASSET_KUBE_CONTROLLER_MANAGER");
  assert.equal(testAssetVariable("etcd"), "TEST_ASSET_ETCD");
});
