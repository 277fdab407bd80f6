import assert from "node:assert/strict";
import path from "node:path";
import { before, test } from "node:test";
import { RenderError, render } from "../src/render/render.ts";
import { ensureBinaries } from "../testenv/ensure-binaries.ts";

const fixtures = path.join(import.meta.dirname, "fixtures", "render");
let helm: string;

before(async () => {
  ({ helm } = await ensureBinaries(["helm"], () => {}));
});

interface Workload {
  spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
}

test("a chart with a values file override: CRDs included, tests left out, sources mapped to templates", async () => {
  const objects = await render({
    root: path.join(fixtures, "helm-chart"),
    path: "chart",
    helmBinary: helm,
    helm: { releaseName: "shop", namespace: "shop", valuesFiles: ["values-prod.yaml"], values: { greeting: "hej" } },
  });
  assert.deepEqual(
    objects.map(({ object, source }) => `${object.kind}/${object.metadata.name} ${source.file}`),
    [
      "CustomResourceDefinition/widgets.shop.example.com chart/crds/widgets.yaml",
      "ConfigMap/shop-settings chart/templates/service.yaml",
      "Service/shop-web chart/templates/service.yaml",
      "Deployment/shop-web chart/templates/deployment.yaml",
    ],
  );
  const deployment = objects.find(({ object }) => object.kind === "Deployment")!.object as unknown as Workload;
  assert.equal(deployment.spec.replicas, 3);
  assert.equal(deployment.spec.template.spec.containers[0]?.image, "registry.example.com/shop:2.0.0");
  const settings = objects.find(({ object }) => object.kind === "ConfigMap")!.object;
  assert.deepEqual(settings.data, { greeting: "hej" });
  assert.equal(settings.metadata.namespace, "shop");
});

test("defaults: the chart's values, release named after the chart", async () => {
  const objects = await render({ root: path.join(fixtures, "helm-chart"), path: "chart", helmBinary: helm });
  const deployment = objects.find(({ object }) => object.kind === "Deployment")!;
  assert.equal(deployment.object.metadata.name, "shop-web");
  assert.equal((deployment.object as unknown as Workload).spec.replicas, 1);
});

test("a template that does not parse is helm-failed, pointing at the template", async () => {
  await assert.rejects(render({ root: path.join(fixtures, "helm-broken"), path: "chart", helmBinary: helm }), (error: unknown) => {
    assert.ok(error instanceof RenderError);
    assert.equal(error.code, "helm-failed");
    assert.equal(error.file, "chart/templates/configmap.yaml");
    assert.equal(error.line, 5);
    assert.match(error.message, /helm template failed\n {2}\| Error: parse error at \(broken\/templates\/configmap\.yaml:5\)/);
    return true;
  });
});

test("values files must exist inside the repository", async () => {
  const root = path.join(fixtures, "helm-chart");
  await assert.rejects(render({ root, path: "chart", helmBinary: helm, helm: { valuesFiles: ["values-missing.yaml"] } }), { code: "path-missing" });
  await assert.rejects(render({ root, path: "chart", helmBinary: helm, helm: { valuesFiles: ["../../plain/namespace.yaml"] } }), { code: "path-outside-root" });
});
