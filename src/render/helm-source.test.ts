import assert from "node:assert/strict";
import { test } from "node:test";
import { helmErrorLocation, splitHelmOutput, templateFile } from "./helm-source.ts";

const OUTPUT = `---
# Source: shop/crds/widgets.yaml
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.shop.example.com
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.shop.example.com

---
# Source: shop/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: shop-web
  annotations:
    note: |
      # Source: not/a/header.yaml
---
# Source: shop/charts/redis/templates/statefulset.yaml
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: shop-redis
`;

test("helm output is split per document with the template each came from", () => {
  const manifests = splitHelmOutput(OUTPUT);
  assert.deepEqual(
    manifests.map((manifest) => manifest.template),
    ["shop/crds/widgets.yaml", "shop/crds/widgets.yaml", "shop/templates/service.yaml", "shop/charts/redis/templates/statefulset.yaml"],
  );
  assert.match(manifests[1]!.text, /^---\napiVersion: apiextensions.k8s.io\/v1/);
  assert.match(manifests[2]!.text, /note: \|\n {6}# Source: not\/a\/header.yaml/);
});

test("output without Source comments and empty documents", () => {
  assert.deepEqual(splitHelmOutput("---\n---\n\n"), []);
  assert.deepEqual(splitHelmOutput("apiVersion: v1\nkind: Namespace\n"), [{ text: "apiVersion: v1\nkind: Namespace\n" }]);
});

test("a Source path maps to the file in the chart directory, whatever the chart is called", () => {
  assert.equal(templateFile("apps/shop", "shop/templates/deployment.yaml"), "apps/shop/templates/deployment.yaml");
  assert.equal(templateFile("apps/shop-chart", "shop/charts/redis/templates/x.yaml"), "apps/shop-chart/charts/redis/templates/x.yaml");
  assert.equal(templateFile(".", "shop/crds/widgets.yaml"), "crds/widgets.yaml");
});

test("the template helm blames in an error is located in the chart directory", () => {
  assert.deepEqual(
    helmErrorLocation("Error: parse error at (shop/templates/configmap.yaml:5): function \"data\" not defined", "shop", "apps/shop"),
    { file: "apps/shop/templates/configmap.yaml", line: 5 },
  );
  assert.deepEqual(
    helmErrorLocation("Error: template: shop/templates/deployment.yaml:12:20: executing \"shop/templates/deployment.yaml\" at <.Values.x.y>: nil pointer", "shop", "."),
    { file: "templates/deployment.yaml", line: 12 },
  );
  assert.deepEqual(
    helmErrorLocation("Error: YAML parse error on shop/templates/service.yaml: error converting YAML to JSON", "shop", "chart"),
    { file: "chart/templates/service.yaml" },
  );
  assert.equal(helmErrorLocation("Error: values don't meet the specifications of the schema", "shop", "chart"), undefined);
  assert.equal(helmErrorLocation("Error: parse error at (shopping/templates/x.yaml:1)", "shop", "chart"), undefined);
});
