import assert from "node:assert/strict";
import { test } from "node:test";
import { credentialsFromSecret, CredentialsError, findCredential, parseDockerConfigJson } from "./credentials.ts";

const b64 = (text: string) => Buffer.from(text).toString("base64");

test("reads auth (base64 user:password) and username/password entries, keyed by normalized host", () => {
  const credentials = parseDockerConfigJson(
    JSON.stringify({
      auths: {
        "https://index.docker.io/v1/": { auth: b64("hub-user:hub:pass:with:colons") },
        "ghcr.io": { username: "gh-user", password: "ghp_token" },
        "registry.example.com:5000": { auth: b64("u:p"), username: "ignored", password: "ignored" },
        "only-token.example.com": { identitytoken: "x" },
      },
    }),
  );
  assert.deepEqual(findCredential(credentials, "docker.io"), { username: "hub-user", password: "hub:pass:with:colons" });
  assert.deepEqual(findCredential(credentials, "registry-1.docker.io"), { username: "hub-user", password: "hub:pass:with:colons" });
  assert.deepEqual(findCredential(credentials, "ghcr.io"), { username: "gh-user", password: "ghp_token" });
  assert.deepEqual(findCredential(credentials, "REGISTRY.example.com:5000"), { username: "u", password: "p" });
  assert.equal(findCredential(credentials, "only-token.example.com"), undefined);
  assert.equal(findCredential(credentials, "quay.io"), undefined);
});

test("accepts the legacy .dockercfg shape (the auths map itself)", () => {
  const credentials = parseDockerConfigJson(JSON.stringify({ "quay.io": { auth: b64("robot+x:secret") } }));
  assert.deepEqual(findCredential(credentials, "quay.io"), { username: "robot+x", password: "secret" });
});

test("errors never echo the secret's content", () => {
  const secret = "s3cr3t-password";
  for (const content of [`{"auths": {"r.io": {"auth": "not base64 ${secret}"}}}`, `{"auths": ${secret}`, `{"auths": {"r.io": "${secret}"}}`, `["${secret}"]`]) {
    assert.throws(
      () => parseDockerConfigJson(content),
      (error: Error) => error instanceof CredentialsError && !error.message.includes(secret),
    );
  }
  assert.throws(() => parseDockerConfigJson(JSON.stringify({ auths: { "r.io": { auth: b64("no-colon") } } })), /not base64 of username:password/);
});

test("credentialsFromSecret decodes the Secret's data and names it when a key is missing", () => {
  const config = JSON.stringify({ auths: { "localhost:5000": { username: "ci", password: "pw" } } });
  const credentials = credentialsFromSecret({
    metadata: { name: "regcred", namespace: "apps" },
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": b64(config) },
  });
  assert.deepEqual(findCredential(credentials, "localhost:5000"), { username: "ci", password: "pw" });
  assert.deepEqual(
    findCredential(credentialsFromSecret({ stringData: { ".dockerconfigjson": config } }), "localhost:5000"),
    { username: "ci", password: "pw" },
  );
  assert.throws(
    () => credentialsFromSecret({ metadata: { name: "wrong", namespace: "apps" }, type: "Opaque", data: { password: b64("x") } }),
    /Secret apps\/wrong \(type Opaque\) has no .dockerconfigjson key; create it with kubectl create secret docker-registry/,
  );
});
