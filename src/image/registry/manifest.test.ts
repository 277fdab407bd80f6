import assert from "node:assert/strict";
import { test } from "node:test";
import { choosePlatform, configCreated, MEDIA_TYPES, parseManifest, sha256Digest, verifyDigest } from "./manifest.ts";

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const d = (c: string) => `sha256:${c.repeat(64)}`;

test("an OCI index lists its platforms", () => {
  const body = json({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [
      { mediaType: MEDIA_TYPES.ociManifest, digest: d("a"), size: 10, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
      { mediaType: MEDIA_TYPES.ociManifest, digest: d("b"), size: 11, platform: { os: "linux", architecture: "amd64" } },
      { mediaType: MEDIA_TYPES.ociManifest, digest: d("c"), size: 12, platform: { os: "unknown", architecture: "unknown" } },
    ],
  });
  const info = parseManifest(body, "application/json", sha256Digest(body));
  assert.ok(typeof info !== "string");
  assert.equal(info.mediaType, MEDIA_TYPES.ociIndex);
  assert.equal(info.manifests?.length, 3);
  assert.equal(choosePlatform(info.manifests ?? [])?.digest, d("b"));
  assert.equal(choosePlatform(info.manifests ?? [], { os: "linux", architecture: "arm64" })?.digest, d("a"));
  assert.equal(choosePlatform(info.manifests ?? [], { os: "windows", architecture: "amd64" })?.digest, d("a"));
});

test("a Docker v2 manifest without mediaType in the body takes the Content-Type", () => {
  const body = json({ schemaVersion: 2, config: { mediaType: "application/vnd.docker.container.image.v1+json", digest: d("e"), size: 5 }, layers: [] });
  const info = parseManifest(body, `${MEDIA_TYPES.dockerManifest}; charset=utf-8`, "sha256:x");
  assert.ok(typeof info !== "string");
  assert.equal(info.mediaType, MEDIA_TYPES.dockerManifest);
  assert.equal(info.config?.digest, d("e"));
});

test("garbage is reported, not thrown", () => {
  assert.equal(parseManifest(Buffer.from("<html>"), "text/html", ""), "the manifest is not valid JSON");
  assert.equal(parseManifest(Buffer.from("3"), undefined, ""), "the manifest is not a JSON object");
});

test("digests and config creation times", () => {
  const body = Buffer.from("hello");
  assert.equal(sha256Digest(body), "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  assert.equal(verifyDigest(sha256Digest(body), body), true);
  assert.equal(verifyDigest(d("0"), body), false);
  assert.deepEqual(configCreated(json({ created: "2024-05-01T10:00:00Z" })), new Date("2024-05-01T10:00:00Z"));
  assert.equal(configCreated(json({})), undefined);
  assert.equal(configCreated(Buffer.from("nope")), undefined);
});
