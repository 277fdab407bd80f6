/**
 * Fuzzing what fjord reads from a registry's answers (any registry a tenant names is hostile):
 * WWW-Authenticate challenges, Link headers, manifests and image configs, and the
 * dockerconfigjson Secrets credentials come from. Properties (testenv/fuzz.ts): the header and
 * body readers never throw (a bad answer is a message or nothing; a next-page link that is not
 * a URL is an InvalidLinkError, which the client reports), the credentials reader
 * throws only CredentialsError and never echoes a password, all in bounded time.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { hostileString, mutated } from "../../../testenv/fuzz-arbitraries.ts";
import { fuzz } from "../../../testenv/fuzz.ts";
import { parseWwwAuthenticate } from "./challenge.ts";
import { CredentialsError, parseDockerConfigJson } from "./credentials.ts";
import { InvalidLinkError, nextPageUrl } from "./link.ts";
import { configCreated, parseManifest } from "./manifest.ts";

const BASE = new URL("https://registry.example/v2/team/app/tags/list?n=100");

test("parseWwwAuthenticate, nextPageUrl: never throw, but for a next link that is not a URL", async (t) => {
  const challenge = mutated(fc.constantFrom('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"', 'Basic realm="x", Bearer realm="y",error="invalid_token"', 'Bearer realm="a\\"b"'), 4);
  const link = fc.oneof(mutated(fc.constantFrom('</v2/team/app/tags/list?last=v9&n=10>; rel="next"', '<https://other.example/x>; rel=next, <a>; rel="prev next"'), 4), hostileString.map((text) => `<${text}>; rel="next"`), hostileString);
  await fuzz(t, {
    name: "parseWwwAuthenticate, nextPageUrl (src/image/registry/challenge.ts, link.ts)",
    arbitrary: fc.tuple(fc.oneof(challenge, hostileString), link),
    allowed: [InvalidLinkError],
    run: ([authenticate, next]) => ({ challenges: parseWwwAuthenticate(authenticate), next: nextPageUrl(next, BASE) }),
  });
});

test("parseManifest, configCreated: never throw", async (t) => {
  const body = fc.oneof(
    mutated(fc.constantFrom(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [{ digest: "sha256:ab", size: 1, platform: { os: "linux", architecture: "amd64" } }] }), JSON.stringify({ config: { digest: "sha256:cd" }, created: "2024-01-01T00:00:00Z" })), 3),
    fc.json(),
    hostileString,
  );
  await fuzz(t, {
    name: "parseManifest, configCreated (src/image/registry/manifest.ts)",
    arbitrary: fc.tuple(body, fc.option(hostileString, { nil: undefined })),
    allowed: [],
    run: ([text, contentType]) => ({ manifest: parseManifest(Buffer.from(text), contentType, "sha256:00"), created: configCreated(Buffer.from(text)) }),
  });
});

test("parseDockerConfigJson: only CredentialsError, never a password in it", async (t) => {
  const password = "pa55-sesame";
  const auth = fc.oneof(fc.constant(Buffer.from(`user:${password}`).toString("base64")), fc.constantFrom(`${password}`, "dXNlcg==", "====", "", "Og=="), hostileString);
  const config = fc
    .tuple(fc.dictionary(fc.oneof(fc.constantFrom("https://index.docker.io/v1/", "ghcr.io", "__proto__", ""), hostileString), fc.record({ auth, username: fc.constantFrom("user", ""), password: fc.constant(password) }, { requiredKeys: [] }), { maxKeys: 3 }), fc.boolean())
    .map(([auths, wrapped]) => JSON.stringify(wrapped ? { auths } : auths));
  await fuzz(t, {
    name: "parseDockerConfigJson (src/image/registry/credentials.ts)",
    arbitrary: fc.oneof(config, mutated(config, 2), hostileString),
    allowed: [CredentialsError],
    run: (text) => parseDockerConfigJson(text),
    checkError: (error) => assert.ok(!error.message.includes(password), `the error holds the password: ${error.message}`),
  });
});
