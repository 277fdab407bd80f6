/**
 * Fuzzing image automation's edits of files from Git (apply-policies.ts, set-image.ts,
 * flux-v1.ts, migrate-flux-v1.ts): the files are hostile, and so are the image names and tags
 * a registry reports. Properties (testenv/fuzz.ts): these never throw (what cannot be edited
 * is in the result's `errors`), in bounded time and memory; `fjord set-image` settings throw
 * only ImageSettingError; and an edited file still parses as YAML.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import { hostileString, hostileYaml } from "../../../testenv/fuzz-arbitraries.ts";
import { fuzz } from "../../../testenv/fuzz.ts";
import { applyImagePolicies, type LatestImage, type ManifestFile, type UpdateResult } from "./apply-policies.ts";
import { migrateFluxV1 } from "./migrate-flux-v1.ts";
import { ImageSettingError, parseImageSetting, setImages } from "./set-image.ts";
import { checkYaml } from "./yaml-source.ts";

const fixtures = path.resolve(import.meta.dirname, "../../../test/fixtures/image-update");
const SEEDS = ["commented-deployment.yaml", "flux-v1-workloads.yaml", "kustomization.yaml", "values.yaml"].map((name) => readFileSync(path.join(fixtures, name), "utf8"));

/** Files as read from a directory: each path once. */
const files: fc.Arbitrary<ManifestFile[]> = fc.uniqueArray(
  fc.tuple(hostileYaml(SEEDS), fc.constantFrom("deploy/app.yaml", "kustomization.yaml", "values.yaml")).map(([text, file]) => ({ path: file, text })),
  { minLength: 1, maxLength: 3, selector: (file) => file.path },
);
const imageText = fc.oneof(fc.constantFrom("registry.example/payments/app", "nginx", "ghcr.io/org/app", "localhost:5000/x"), hostileString);
const latest: fc.Arbitrary<LatestImage> = fc.record({ image: imageText, tag: fc.oneof(fc.constantFrom("1.5.0", "v2", "latest"), hostileString), digest: fc.option(fc.oneof(fc.constant(`sha256:${"a".repeat(64)}`), hostileString), { nil: undefined }) }, { requiredKeys: ["image", "tag"] });
const policies = fc.dictionary(fc.constantFrom("prod:payments", "default:app", "flux-system:podinfo", "a:b"), latest, { maxKeys: 4 }).map((record) => new Map(Object.entries(record)));

function editedFilesParse(result: unknown, input: ManifestFile[]): void {
  for (const file of (result as UpdateResult).files) {
    const before = input.find((original) => original.path === file.path);
    // A file that parsed before the edit parses after it.
    if (before && checkYaml(before.text) === undefined) assert.equal(checkYaml(file.text), undefined, `${file.path} no longer parses after the edit`);
  }
}

test("applyImagePolicies: never throws; an edited file still parses", async (t) => {
  await fuzz(t, {
    name: "applyImagePolicies (src/image/update/apply-policies.ts)",
    arbitrary: fc.tuple(files, policies),
    allowed: [],
    runsScale: 0.5,
    run: ([input, latestImages]) => applyImagePolicies(input, latestImages),
    check: (result, [input]) => editedFilesParse(result, input),
  });
});

test("parseImageSetting + setImages: only ImageSettingError; an edited file still parses", async (t) => {
  const setting = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("nginx=nginx:1.25", `app=ghcr.io/org/app@sha256:${"b".repeat(64)}`, "registry.example/payments/app:2.0", "podinfo:6.5.0", "app:1.1.0", "worker=registry.example/w:3") },
    { weight: 1, arbitrary: fc.oneof(fc.constantFrom("x", "=", "a=b=c"), hostileString) },
  );
  await fuzz(t, {
    name: "parseImageSetting/setImages (src/image/update/set-image.ts)",
    // With `kustomization`, as `fjord set-image --kustomization` edits its images: entries.
    arbitrary: fc.tuple(files, fc.array(setting, { minLength: 1, maxLength: 3 }), fc.boolean()),
    allowed: [ImageSettingError],
    runsScale: 0.5,
    run: ([input, specs, kustomization]) => setImages(input, specs.map(parseImageSetting), kustomization ? { kustomization: input[0]!.path } : {}),
    check: (result, [input]) => editedFilesParse(result, input),
  });
});

test("migrateFluxV1: never throws", async (t) => {
  await fuzz(t, {
    name: "migrateFluxV1 (src/image/update/migrate-flux-v1.ts)",
    arbitrary: files,
    allowed: [],
    runsScale: 0.5,
    run: (input) => migrateFluxV1(input),
  });
});
