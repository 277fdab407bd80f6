/**
 * fjord must read a manifest exactly as `kubectl apply -f` does, or it would apply different
 * objects than the ones users tested. kubectl decodes with sigs.k8s.io/yaml (go-yaml v2, YAML
 * 1.1 scalar rules); `kubectl patch --local -o json` goes through the same decoder as
 * `kubectl create --dry-run=client -o json` but needs no API server.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { before, test } from "node:test";
import { promisify } from "node:util";
import { render } from "../src/render/render.ts";
import { ensureBinaries } from "../testenv/ensure-binaries.ts";

const execFileAsync = promisify(execFile);
const root = path.join(import.meta.dirname, "fixtures", "render", "yaml-compat");
let kubectl: string;

before(async () => {
  ({ kubectl } = await ensureBinaries(["kubectl"], () => {}));
});

async function kubectlReads(file: string): Promise<unknown> {
  const { stdout } = await execFileAsync(kubectl, ["patch", "--local", "--type", "merge", "-p", "{}", "-o", "json", "-f", path.join(root, file)], {
    env: { PATH: process.env.PATH ?? "", HOME: root },
  });
  return JSON.parse(stdout);
}

test("every fixture reads the same in fjord and in kubectl", async () => {
  const rendered = await render({ root, path: "." });
  assert.deepEqual(
    rendered.map((object) => object.source.file),
    ["keys-and-tags.yaml", "scalars.yaml"],
  );
  for (const { object, source } of rendered) {
    assert.deepEqual(object, await kubectlReads(source.file), source.file);
  }
});

test("the YAML 1.1 cases users trip over, as kubectl reads them", async () => {
  const rendered = await render({ root, path: "." });
  const scalars = rendered.find((object) => object.object.metadata.name === "scalars")?.object.spec as Record<string, unknown>;
  // `on: yes` is the key "true" with the value true, and `n:` the key "false": keys are
  // resolved like values. 012 is octal, 1e3 a number, dates stay strings.
  assert.equal(scalars.true, true);
  assert.equal(scalars.false, 1000);
  assert.equal("on" in scalars || "n" in scalars, false);
  assert.equal(scalars.v, 10);
  assert.equal(scalars.t, "2024-01-01");
  assert.equal(scalars.quoted, "0123");
});
