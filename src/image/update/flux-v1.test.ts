import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { findFluxV1Automations, setContainerImage } from "./flux-v1.ts";

const fixtures = path.resolve(import.meta.dirname, "../../../test/fixtures/image-update");
const load = async () => ({ path: "apps/workloads.yaml", text: await readFile(path.join(fixtures, "flux-v1-workloads.yaml"), "utf8") });

test("every Flux v1 annotation form is found, per container", async () => {
  const { containers, errors } = findFluxV1Automations([await load()]);
  assert.deepEqual(errors, []);
  assert.deepEqual(
    containers.map((c) => [c.workload.kind, c.workload.name, c.workload.namespace ?? "", c.container, c.image, c.filter, c.filterAnnotation ?? "", c.line]),
    [
      ["Deployment", "web", "shop", "app", "registry.example/shop/web:master-a1b2c3d-1700000000", "glob:master-*", "fluxcd.io/tag.app", 19],
      ["Deployment", "web", "shop", "metrics", "registry.example/shop/metrics:1.2.3", "semver:~1.2", "fluxcd.io/tag.metrics", 21],
      ["StatefulSet", "db", "", "db", "registry.example/db:v7", "regex:^v[0-9]+$", "flux.weave.works/tag.db", 35],
      ["DaemonSet", "agent", "ops", "init", "registry.example/ops/init:master-abc", "glob:master-*", "flux.weave.works/tag-glob", 50],
      ["DaemonSet", "agent", "ops", "agent", "registry.example/ops/agent:master-def", "glob:master-*", "flux.weave.works/tag-glob", 53],
      ["CronJob", "report", "", "report", "registry.example/report:2024.01.01", "glob:*", "", 69],
    ],
  );
  const web = containers[0];
  assert.deepEqual(web?.imagePullSecrets, ["regcred"]);
  assert.deepEqual(web?.policy, { policy: { newest: {} }, glob: "master-*" });
  assert.deepEqual(containers[1]?.policy, { policy: { semver: { range: "~1.2" } } });
  assert.deepEqual(containers[2]?.policy, { policy: { newest: {} }, filterTags: { pattern: "^v[0-9]+$" } });
  assert.equal(containers[3]?.init, true);
});

test("locked workloads are reported as locked; unautomated ones are not found", () => {
  const text = "kind: Deployment\nmetadata:\n  name: x\n  annotations:\n    fluxcd.io/automated: 'true'\n    fluxcd.io/locked: 'true'\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n        image: a:1\n";
  const { containers } = findFluxV1Automations([{ path: "x.yaml", text }]);
  assert.equal(containers[0]?.locked, true);
  const off = findFluxV1Automations([{ path: "x.yaml", text: text.replace("automated: 'true'", "automated: 'false'") }]);
  assert.deepEqual(off.containers, []);
});

test("setting one container's image keeps the rest of the file byte for byte", async () => {
  const file = await load();
  const result = setContainerImage(file, { kind: "Deployment", name: "web", namespace: "shop", container: "metrics" }, "registry.example/shop/metrics:1.2.9");
  assert.ok("text" in result);
  assert.equal(result.text, file.text.replace("metrics:1.2.3 # exporter", "metrics:1.2.9 # exporter"));
  assert.deepEqual(result.change, { file: "apps/workloads.yaml", line: 21, old: "registry.example/shop/metrics:1.2.3", new: "registry.example/shop/metrics:1.2.9", policy: "Deployment/web in shop/metrics", field: "image" });
  const cron = setContainerImage(file, { kind: "CronJob", name: "report", container: "report" }, "registry.example/report:2024.02.01");
  assert.ok("text" in cron && cron.text.includes("report:2024.02.01"));
  const missing = setContainerImage(file, { kind: "Deployment", name: "web", container: "nope" }, "x:1");
  assert.ok("error" in missing && /has no container "nope"/.test(missing.error.message));
  const bad = setContainerImage({ path: "bad.yaml", text: "a: [" }, { kind: "Deployment", name: "web", container: "app" }, "x:1");
  assert.ok("error" in bad && bad.error.file === "bad.yaml");
});
