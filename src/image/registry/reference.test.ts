import assert from "node:assert/strict";
import { test } from "node:test";
import { formatImageReference, normalizeRegistryHost, parseImageReference, registryApiHost, type ImageReference } from "./reference.ts";

const DIGEST = `sha256:${"a".repeat(64)}`;

const valid: Array<[string, ImageReference]> = [
  ["nginx", { registry: "docker.io", repository: "library/nginx" }],
  ["nginx:1.25", { registry: "docker.io", repository: "library/nginx", tag: "1.25" }],
  ["fluxcd/flux:1.21.0", { registry: "docker.io", repository: "fluxcd/flux", tag: "1.21.0" }],
  ["docker.io/nginx", { registry: "docker.io", repository: "library/nginx" }],
  ["index.docker.io/library/nginx:latest", { registry: "docker.io", repository: "library/nginx", tag: "latest" }],
  ["registry-1.docker.io/org/app", { registry: "docker.io", repository: "org/app" }],
  ["ghcr.io/fluxcd/source-controller:v1.2.0", { registry: "ghcr.io", repository: "fluxcd/source-controller", tag: "v1.2.0" }],
  ["localhost:5000/app", { registry: "localhost:5000", repository: "app" }],
  ["localhost/app:v1", { registry: "localhost", repository: "app", tag: "v1" }],
  ["127.0.0.1:5000/team/app:1.0.0", { registry: "127.0.0.1:5000", repository: "team/app", tag: "1.0.0" }],
  ["[::1]:5000/app:v2", { registry: "[::1]:5000", repository: "app", tag: "v2" }],
  ["registry.gitlab.com/group/sub/project/image:main-abc", { registry: "registry.gitlab.com", repository: "group/sub/project/image", tag: "main-abc" }],
  [`app@${DIGEST}`, { registry: "docker.io", repository: "library/app", digest: DIGEST }],
  [`ghcr.io/o/app:v1@${DIGEST}`, { registry: "ghcr.io", repository: "o/app", tag: "v1", digest: DIGEST }],
  ["Registry/app", { registry: "Registry", repository: "app" }],
  ["a/b__c/d-e.f", { registry: "docker.io", repository: "a/b__c/d-e.f" }],
];

for (const [text, expected] of valid) {
  test(`parseImageReference(${JSON.stringify(text)})`, () => {
    assert.deepEqual(parseImageReference(text), expected);
  });
}

const invalid: Array<[string, RegExp]> = [
  ["", /it is empty/],
  [" nginx", /whitespace/],
  ["ghcr.io/Org/app", /must be lowercase/],
  ["app:", /tag "" is invalid/],
  ["app:-x", /tag "-x" is invalid/],
  ["app@sha256:abc", /digest "sha256:abc" is not of the form/],
  [`app@sha256:${"A".repeat(64)}`, /64 lowercase hex/],
  ["ghcr.io/", /repository name is missing/],
  ["a//b", /path component ""/],
  ["a/-b", /path component "-b"/],
  ["host_name.io:5000/app", /registry "host_name.io:5000" is not a valid host/],
];

for (const [text, message] of invalid) {
  test(`parseImageReference rejects ${JSON.stringify(text)}`, () => {
    assert.throws(() => parseImageReference(text), (error: Error) => error.name === "ImageReferenceError" && message.test(error.message));
  });
}

test("formatImageReference round-trips the full name", () => {
  assert.equal(formatImageReference(parseImageReference("nginx:1")), "docker.io/library/nginx:1");
  assert.equal(formatImageReference(parseImageReference(`localhost:5000/a:b@${DIGEST}`)), `localhost:5000/a:b@${DIGEST}`);
});

test("Docker Hub's API host and credential keys", () => {
  assert.equal(registryApiHost("docker.io"), "registry-1.docker.io");
  assert.equal(registryApiHost("ghcr.io"), "ghcr.io");
  for (const key of ["https://index.docker.io/v1/", "index.docker.io", "registry-1.docker.io", "docker.io", "DOCKER.IO"]) {
    assert.equal(normalizeRegistryHost(key), "docker.io", key);
  }
  assert.equal(normalizeRegistryHost("https://Registry.Example.com:5000/v2/"), "registry.example.com:5000");
  assert.equal(normalizeRegistryHost("ghcr.io"), "ghcr.io");
});
