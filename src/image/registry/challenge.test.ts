import assert from "node:assert/strict";
import { test } from "node:test";
import { parseWwwAuthenticate } from "./challenge.ts";

test("Docker Hub's Bearer challenge", () => {
  assert.deepEqual(
    parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"'),
    [{ scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/nginx:pull" } }],
  );
});

test("an insufficient_scope error with a scope that holds commas", () => {
  const [challenge] = parseWwwAuthenticate(
    'Bearer realm="https://ghcr.io/token", service="ghcr.io", scope="repository:o/app:pull,push", error="insufficient_scope"',
  );
  assert.equal(challenge?.params.scope, "repository:o/app:pull,push");
  assert.equal(challenge?.params.error, "insufficient_scope");
});

test("Basic, unquoted values, escapes, several challenges and repeated headers", () => {
  assert.deepEqual(parseWwwAuthenticate('Basic realm="Registry Realm"'), [{ scheme: "basic", params: { realm: "Registry Realm" } }]);
  assert.deepEqual(parseWwwAuthenticate("BASIC realm=harbor"), [{ scheme: "basic", params: { realm: "harbor" } }]);
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="a\\"b"'), [{ scheme: "bearer", params: { realm: 'a"b' } }]);
  assert.deepEqual(
    parseWwwAuthenticate('Basic realm="r1", Bearer realm="https://t/token",service="s"'),
    [
      { scheme: "basic", params: { realm: "r1" } },
      { scheme: "bearer", params: { realm: "https://t/token", service: "s" } },
    ],
  );
  assert.deepEqual(parseWwwAuthenticate(["Basic realm=x", "Bearer realm=y"]).map((c) => c.scheme), ["basic", "bearer"]);
  assert.deepEqual(parseWwwAuthenticate(undefined), []);
  assert.deepEqual(parseWwwAuthenticate("Bearer"), [{ scheme: "bearer", params: {} }]);
});
