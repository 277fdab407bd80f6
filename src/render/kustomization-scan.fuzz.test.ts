/**
 * Fuzzing the pre-scan of kustomizations (kustomization-scan.ts) on a real directory tree:
 * base directories, a symlink out of the repository, a symlink loop, a nested kustomization. Properties
 * (testenv/fuzz.ts): only RenderError, in bounded time and memory; and when the scan lets a
 * kustomization through, none of its local references leads outside the repository (`..`,
 * absolute paths, file: URLs, symlinks) and, with remote bases refused, none is remote.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { stringify } from "yaml";
import { hostileString, mutated } from "../../testenv/fuzz-arbitraries.ts";
import { fuzz } from "../../testenv/fuzz.ts";
import { RenderError } from "./errors.ts";
import { kustomizationReferences } from "./kustomization-references.ts";
import { scanKustomization } from "./kustomization-scan.ts";
import { isInside } from "./paths.ts";
import { isRemoteReference } from "./remote-reference.ts";
import { KUSTOMIZATION } from "./tool-config-shapes.ts";
import { readToolConfig } from "./tool-config.ts";

const reference: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("../base", "base-link", "out-link", "out-link/passwd", "cm.yaml", "../../outside", "/etc/passwd", "..", ".", "./../base", "../base/../../x", "file:///etc", "FILE:/etc", "git::file:///srv", "github.com/org/repo", "example.com/org/repo/base", "https://example.com/x.yaml", "git@github.com:org/repo", "%2e%2e/x", "..\\x", " /etc", "../base\u0000", "a\u0000b", "~/x", "$HOME/x", "loop", "loop/x", "a".repeat(5000)) },
  { weight: 1, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.array(fc.constantFrom("..", ".", "base", "app", "out-link", "x"), { minLength: 1, maxLength: 6 }).map((parts) => parts.join("/")) },
);

const field = fc.constantFrom("resources", "bases", "components", "crds", "patchesStrategicMerge", "generators", "Resources", "re\u017fources");
const kustomization: fc.Arbitrary<string> = fc
  .tuple(
    fc.dictionary(field, fc.array(reference, { maxLength: 4 }), { maxKeys: 3 }),
    fc.array(fc.record({ path: reference }), { maxLength: 2 }),
    fc.array(fc.record({ name: fc.constant("g"), files: fc.array(reference, { maxLength: 2 }), envs: fc.array(reference, { maxLength: 1 }) }), { maxLength: 1 }),
    fc.option(fc.record({ chartHome: reference }), { nil: undefined }),
  )
  .map(([lists, patches, configMapGenerator, helmGlobals]) => stringify({ ...lists, ...(patches.length ? { patches } : {}), ...(configMapGenerator.length ? { configMapGenerator } : {}), ...(helmGlobals ? { helmGlobals } : {}) }));

test("scanKustomization: only RenderError; nothing it lets through leaves the repository", async (t) => {
  const scratch = await mkdtemp(path.join(tmpdir(), "fjord-fuzz-scan-"));
  t.after(() => rm(scratch, { recursive: true, force: true }));
  const root = path.join(scratch, "repo");
  await mkdir(path.join(root, "app"), { recursive: true });
  await mkdir(path.join(root, "base"), { recursive: true });
  await mkdir(path.join(scratch, "outside"), { recursive: true });
  await writeFile(path.join(scratch, "outside", "passwd"), "root:x:0:0\n");
  await writeFile(path.join(root, "base", "kustomization.yaml"), "resources: [cm.yaml]\n");
  await writeFile(path.join(root, "base", "cm.yaml"), "kind: ConfigMap\n");
  await writeFile(path.join(root, "app", "cm.yaml"), "kind: ConfigMap\n");
  await symlink("../base", path.join(root, "app", "base-link"));
  await symlink(path.join(scratch, "outside"), path.join(root, "app", "out-link"));
  await symlink("loop", path.join(root, "app", "loop"));
  const rootReal = await realpath(root);
  const file = path.join(rootReal, "app", "kustomization.yaml");

  await fuzz(t, {
    name: "scanKustomization (src/render/kustomization-scan.ts)",
    arbitrary: fc.oneof({ weight: 3, arbitrary: kustomization }, { weight: 1, arbitrary: mutated(kustomization, 2) }),
    allowed: [RenderError],
    runsScale: 0.5,
    run: async (text) => {
      await writeFile(file, text);
      return scanKustomization(rootReal, file, { allowRemoteBases: false });
    },
    check: async (remote, text) => {
      assert.deepEqual(remote, [], "remote bases are refused, so none comes back");
      for (const { value } of kustomizationReferences(readToolConfig(Buffer.from(text), "app/kustomization.yaml", KUSTOMIZATION))) {
        assert.ok(!isRemoteReference(value), `remote reference ${JSON.stringify(value)} let through`);
        assert.ok(!path.isAbsolute(value), `absolute path ${JSON.stringify(value)} let through`);
        assert.ok(isInside(rootReal, path.resolve(rootReal, "app", value)), `${JSON.stringify(value)} leads outside the repository`);
        // A path that does not exist is kustomize's to report; one that does must really be inside.
        const real = await realpath(path.resolve(rootReal, "app", value)).catch(() => undefined);
        if (real !== undefined) assert.ok(isInside(rootReal, real), `${JSON.stringify(value)} follows a symlink out of the repository`);
      }
    },
  });
});
