import assert from "node:assert/strict";
import path from "node:path";
import { before, test } from "node:test";
import type { KubeObject } from "../src/model/object.ts";
import { renderKustomization } from "../src/render/kustomize.ts";
import { scanKustomization } from "../src/render/kustomization-scan.ts";
import { resolveRenderDirectory } from "../src/render/paths.ts";
import { RenderError, render } from "../src/render/render.ts";
import { ensureBinaries } from "../testenv/ensure-binaries.ts";
import { rejection } from "./support/assertions.ts";

const fixtures = path.join(import.meta.dirname, "fixtures", "render");
let bins: Record<"kustomize" | "kubectl", string>;

before(async () => {
  bins = await ensureBinaries(["kustomize", "kubectl"], () => {});
});

function renderFailure(options: Parameters<typeof render>[0]): Promise<RenderError> {
  return rejection(render(options), RenderError);
}

type Deployment = KubeObject & {
  spec: { replicas: number; template: { spec: { containers: { image: string; resources?: { limits?: Record<string, string> } }[] } } };
};

function deploymentOf(objects: Awaited<ReturnType<typeof render>>): Deployment {
  const found = objects.find(({ object }) => object.kind === "Deployment");
  assert.ok(found, "no Deployment rendered");
  return found.object as Deployment;
}

test("the prod overlay: prefix, namespace, replica count, limits and image from the overlay", async () => {
  const objects = await render({ root: path.join(fixtures, "kustomize"), path: "overlays/prod", kustomizeBinary: bins.kustomize });
  assert.deepEqual(
    objects.map(({ object, source }) => `${object.kind}/${object.metadata.namespace}/${object.metadata.name} ${source.file}`),
    ["Service/shop-prod/prod-web overlays/prod/kustomization.yaml", "Deployment/shop-prod/prod-web overlays/prod/kustomization.yaml"],
  );
  const deployment = deploymentOf(objects);
  assert.equal(deployment.spec.replicas, 4);
  const [container] = deployment.spec.template.spec.containers;
  assert.deepEqual(container?.resources?.limits, { cpu: "500m", memory: "256Mi" });
  assert.equal(container?.image, "registry.example.com/web:2.1");
  assert.equal(deployment.metadata.labels?.["app.kubernetes.io/part-of"], "shop");
});

test("the dev overlay keeps the base's replicas and has no limits", async () => {
  const objects = await render({ root: path.join(fixtures, "kustomize"), path: "overlays/dev", kustomizeBinary: bins.kustomize });
  const deployment = deploymentOf(objects);
  assert.equal(deployment.metadata.name, "dev-web");
  assert.equal(deployment.metadata.namespace, "shop-dev");
  assert.equal(deployment.spec.replicas, 1);
  assert.equal(deployment.spec.template.spec.containers[0]?.resources, undefined);
});

test("kubectl's built-in kustomize renders the same objects as kustomize", async () => {
  const dir = await resolveRenderDirectory(path.join(fixtures, "kustomize"), "overlays/prod");
  const kustomizationFile = path.join(dir.dirReal, "kustomization.yaml");
  const common = { dir, kustomizationFile, timeoutMs: 60_000, allowRemoteBases: false };
  const standalone = await renderKustomization({ ...common, tool: { binary: bins.kustomize, args: ["build"] } });
  const builtIn = await renderKustomization({ ...common, tool: { binary: bins.kubectl, args: ["kustomize"] } });
  assert.equal(standalone.length, 2);
  assert.deepEqual(builtIn, standalone);
});

test("a remote base is refused before kustomize runs, naming the kustomization", async () => {
  const direct = await renderFailure({ root: path.join(fixtures, "kustomize-remote"), path: "app", kustomizeBinary: bins.kustomize });
  assert.equal(direct.code, "remote-base");
  assert.equal(direct.file, "app/kustomization.yaml");
  assert.match(direct.message, /resources entry "https:\/\/github\.com\/example\/platform\/\/deploy\/base\?ref=v1\.2\.0" is remote/);
  assert.match(direct.message, /fix: vendor it into this repository/);

  // Found through a local base: the error names the kustomization that holds the reference.
  const nested = await renderFailure({ root: path.join(fixtures, "kustomize-remote"), path: "overlay", kustomizeBinary: bins.kustomize });
  assert.equal(nested.code, "remote-base");
  assert.equal(nested.file, "base/kustomization.yaml");
  assert.match(nested.message, /components entry "git@github\.com:example\/components\.git\/\/monitoring\?ref=main"/);
});

test("with allowRemoteBases the scan lets remote bases through (and reports them)", async () => {
  // Only the scan: kustomize itself would need the network to fetch them.
  const dir = await resolveRenderDirectory(path.join(fixtures, "kustomize-remote"), "overlay");
  const found = await scanKustomization(dir.rootReal, path.join(dir.dirReal, "kustomization.yaml"), { allowRemoteBases: true });
  assert.deepEqual(found, [
    { kustomization: "base/kustomization.yaml", field: "components", reference: "git@github.com:example/components.git//monitoring?ref=main" },
  ]);
});

test("a reference that leaves the repository is refused even when remote bases are allowed", async () => {
  const error = await renderFailure({ root: path.join(fixtures, "kustomize-escape"), path: "app", kustomizeBinary: bins.kustomize, allowRemoteBases: true });
  assert.equal(error.code, "path-outside-root");
  assert.equal(error.file, "app/kustomization.yaml");
  assert.match(error.message, /resources entry "\.\.\/\.\.\/kustomize\/base" points outside the repository/);
});

test("a failing kustomization reports kustomize's error and the kustomization", async () => {
  const error = await renderFailure({ root: path.join(fixtures, "kustomize-missing"), path: "app", kustomizeBinary: bins.kustomize });
  assert.equal(error.code, "kustomize-failed");
  assert.equal(error.file, "app/kustomization.yaml");
  assert.match(error.message, /^app\/kustomization\.yaml: kustomize build failed/);
  assert.match(error.message, /missing-deployment\.yaml/);
  // Paths in kustomize's message are repository-relative, not the checkout's place on disk.
  assert.equal(error.message.includes(fixtures), false);
});

test("a kustomize binary that does not exist is reported as such", async () => {
  const error = await renderFailure({ root: path.join(fixtures, "kustomize"), path: "overlays/dev", kustomizeBinary: "/nonexistent/kustomize" });
  assert.equal(error.code, "binary-missing");
  assert.match(error.message, /\/nonexistent\/kustomize not found/);
});

test("kustomize is stopped at the time limit", async () => {
  const error = await renderFailure({ root: path.join(fixtures, "kustomize"), path: "overlays/prod", kustomizeBinary: bins.kustomize, timeoutMs: 1 });
  assert.equal(error.code, "kustomize-failed");
  assert.match(error.message, /kustomize build did not finish within 1 ms/);
});
