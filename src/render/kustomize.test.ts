import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { chooseKustomizeTool } from "./kustomize.ts";

test("an explicit kustomize binary wins, then kustomize on PATH, then kubectl kustomize", async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), "fjord-kustomize-path-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const onPath = path.join(dir, "kustomize");
  await writeFile(onPath, "#!/bin/sh\n");
  await chmod(onPath, 0o755);

  assert.deepEqual(chooseKustomizeTool({ kustomizeBinary: "/opt/kustomize" }, dir), { binary: "/opt/kustomize", args: ["build"] });
  assert.deepEqual(chooseKustomizeTool({}, `/nonexistent${path.delimiter}${dir}`), { binary: onPath, args: ["build"] });
  assert.deepEqual(chooseKustomizeTool({ kubectlBinary: "/opt/kubectl" }, "/nonexistent"), { binary: "/opt/kubectl", args: ["kustomize"] });
  assert.deepEqual(chooseKustomizeTool({}, ""), { binary: "kubectl", args: ["kustomize"] });
});

test("a kustomize file that is not executable is not used", async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), "fjord-kustomize-path-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, "kustomize"), "not a program");
  assert.deepEqual(chooseKustomizeTool({}, dir), { binary: "kubectl", args: ["kustomize"] });
});
