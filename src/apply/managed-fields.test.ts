import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../model/object.ts";
import { appliedStateMatches } from "./managed-fields.ts";

// Shaped like what kube-apiserver 1.34 returns after `fjord` applied the desired objects below.
const liveDeployment = (): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: {
    name: "web",
    namespace: "shop",
    resourceVersion: "812",
    labels: { "fjord.dev/name": "app" },
    annotations: { "deployment.kubernetes.io/revision": "1" },
    managedFields: [
      {
        manager: "fjord",
        operation: "Apply",
        apiVersion: "apps/v1",
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:metadata": { "f:labels": { "f:fjord.dev/name": {} } },
          "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
              "f:metadata": { "f:labels": { "f:app": {} } },
              "f:spec": { "f:containers": { 'k:{"name":"app"}': { ".": {}, "f:image": {}, "f:name": {}, "f:ports": { 'k:{"containerPort":8080,"protocol":"TCP"}': { ".": {}, "f:containerPort": {} } } } } },
            },
          },
        },
      },
      { manager: "kube-controller-manager", operation: "Update", apiVersion: "apps/v1", subresource: "status", fieldsType: "FieldsV1", fieldsV1: { "f:status": { "f:replicas": {} } } },
    ],
  },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "web" } },
    strategy: { type: "RollingUpdate" },
    template: {
      metadata: { labels: { app: "web" } },
      spec: {
        containers: [{ name: "app", image: "registry.example/web:1", ports: [{ containerPort: 8080, protocol: "TCP" }], imagePullPolicy: "IfNotPresent" }],
        restartPolicy: "Always",
      },
    },
  },
  status: { replicas: 2 },
});

const desiredDeployment = (): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "shop", labels: { "fjord.dev/name": "app" } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "app", image: "registry.example/web:1", ports: [{ containerPort: 8080 }] }] } },
  },
});

test("an object whose fjord-owned fields hold the desired values needs no request", () => {
  assert.equal(appliedStateMatches(liveDeployment(), desiredDeployment(), "fjord"), true);
});

test("a changed desired value, an added field, or a removed field all need an apply", () => {
  const changed = desiredDeployment();
  (changed.spec as { replicas: number }).replicas = 3;
  assert.equal(appliedStateMatches(liveDeployment(), changed, "fjord"), false);

  const added = desiredDeployment();
  (added.spec as Record<string, unknown>).minReadySeconds = 5;
  assert.equal(appliedStateMatches(liveDeployment(), added, "fjord"), false);

  const removed = desiredDeployment();
  delete (removed.spec as Record<string, unknown>).replicas;
  assert.equal(appliedStateMatches(liveDeployment(), removed, "fjord"), false);
});

test("a value someone else changed, or a field another manager took over, needs an apply", () => {
  const edited = liveDeployment();
  (edited.spec as { replicas: number }).replicas = 5;
  assert.equal(appliedStateMatches(edited, desiredDeployment(), "fjord"), false);

  const takenOver = liveDeployment();
  const fjordEntry = (takenOver.metadata.managedFields as Array<{ fieldsV1: { "f:spec": Record<string, unknown> } }>)[0];
  delete fjordEntry?.fieldsV1["f:spec"]["f:replicas"];
  assert.equal(appliedStateMatches(takenOver, desiredDeployment(), "fjord"), false);
});

test("anything it cannot vouch for answers false: other apiVersion, no Apply entry, reordered lists", () => {
  const otherVersion = liveDeployment();
  (otherVersion.metadata.managedFields as Array<{ apiVersion: string }>)[0]!.apiVersion = "apps/v1beta2";
  assert.equal(appliedStateMatches(otherVersion, desiredDeployment(), "fjord"), false);

  const neverApplied = liveDeployment();
  neverApplied.metadata.managedFields = [];
  assert.equal(appliedStateMatches(neverApplied, desiredDeployment(), "fjord"), false);

  const twoContainers = desiredDeployment();
  const spec = (twoContainers.spec as { template: { spec: { containers: unknown[] } } }).template.spec;
  spec.containers = [{ name: "sidecar", image: "s:1" }, ...spec.containers];
  assert.equal(appliedStateMatches(liveDeployment(), twoContainers, "fjord"), false);
});

test("a ConfigMap with data, compared key by key", () => {
  const live: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "settings", namespace: "shop", managedFields: [{ manager: "fjord", operation: "Apply", apiVersion: "v1", fieldsV1: { "f:data": { "f:mode": {} } } }] },
    data: { mode: "fast", extra: "added by someone else" },
  };
  const desired: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: "shop" }, data: { mode: "fast" } };
  assert.equal(appliedStateMatches(live, desired, "fjord"), true, "fields fjord does not own do not matter");
  assert.equal(appliedStateMatches(live, { ...desired, data: { mode: "slow" } }, "fjord"), false);
});
