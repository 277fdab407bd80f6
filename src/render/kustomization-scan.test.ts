import assert from "node:assert/strict";
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test, type TestContext } from "node:test";
import { RenderError } from "./errors.ts";
import { scanKustomization } from "./kustomization-scan.ts";

async function repository(t: TestContext, kustomization: string): Promise<{ root: string; file: string }> {
  const scratch = await mkdtemp(path.join(tmpdir(), "fjord-scan-"));
  t.after(() => rm(scratch, { recursive: true, force: true }));
  const root = await realpath(scratch);
  await mkdir(path.join(root, "app"));
  await symlink("loop", path.join(root, "app", "loop"));
  const file = path.join(root, "app", "kustomization.yaml");
  await writeFile(file, kustomization);
  return { root, file };
}

async function refusal(t: TestContext, kustomization: string): Promise<RenderError> {
  const { root, file } = await repository(t, kustomization);
  try {
    await scanKustomization(root, file, { allowRemoteBases: false });
  } catch (error) {
    assert.ok(error instanceof RenderError, String(error));
    assert.equal(error.file, "app/kustomization.yaml");
    assert.ok(!error.message.includes(root), `the message names the controller's directory: ${error.message}`);
    return error;
  }
  assert.fail("the scan let it through");
}

test("fuzz-found: a reference holding a NUL character is a RenderError, not a TypeError quoting the controller's paths", async (t) => {
  // Counterexample of kustomization-scan.fuzz.test.ts.
  const error = await refusal(t, 'resources:\n  - "a\\0b"\n');
  assert.match(error.message, /resources entry "a\\u0000b" holds a NUL character/);
});

test("fuzz-found: a symlink loop or a name too long is a RenderError naming the entry", async (t) => {
  assert.match((await refusal(t, "resources:\n  - loop\n")).message, /resources entry "loop" cannot be read \(ELOOP/);
  assert.match((await refusal(t, `resources:\n  - ${"a".repeat(5000)}\n`)).message, /cannot be read \(ENAMETOOLONG/);
});

test("an ordinary kustomization passes", async (t) => {
  const { root, file } = await repository(t, "resources:\n  - cm.yaml\n  - ../app\n");
  assert.deepEqual(await scanKustomization(root, file, { allowRemoteBases: false }), []);
});
