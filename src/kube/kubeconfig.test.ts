import assert from "node:assert/strict";
import { test } from "node:test";
import { stringify } from "yaml";
import { KubeconfigError, mergeKubeconfigs, selectContext } from "./kubeconfig.ts";

const b64 = (text: string) => Buffer.from(text).toString("base64");

function config(name: string, extra: { server?: string; user?: Record<string, unknown>; namespace?: string; current?: boolean } = {}): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server: extra.server ?? `https://${name}.example:6443/`, "certificate-authority": "ca.pem" } }],
    users: [{ name, user: extra.user ?? { token: `token-${name}` } }],
    contexts: [{ name, context: { cluster: name, user: name, ...(extra.namespace ? { namespace: extra.namespace } : {}) } }],
    ...(extra.current === false ? {} : { "current-context": name }),
  });
}

test("a single kubeconfig selects its current context, with paths relative to the file", () => {
  const entries = mergeKubeconfigs([{ path: "/home/me/.kube/config", text: config("prod", { namespace: "shop" }) }]);
  const selected = selectContext(entries, undefined, "/home/me/.kube/config");
  assert.equal(selected.context, "prod");
  assert.equal(selected.cluster.server, "https://prod.example:6443", "a trailing slash is dropped so paths join cleanly");
  assert.deepEqual(selected.cluster.certificateAuthority, { file: "/home/me/.kube/ca.pem" });
  assert.equal(selected.user.token, "token-prod");
  assert.equal(selected.namespace, "shop");
});

test("KUBECONFIG files merge as kubectl merges them: the first file to name an entry or a current-context wins", () => {
  const entries = mergeKubeconfigs([
    { path: "/a/config", text: config("dev", { current: false }) },
    { path: "/b/config", text: config("prod") },
    { path: "/c/config", text: config("dev", { server: "https://shadowed.example" }) },
  ]);
  assert.equal(selectContext(entries, undefined, "a:b:c").context, "prod");
  assert.equal(selectContext(entries, "dev", "a:b:c").cluster.server, "https://dev.example:6443");
  assert.deepEqual(selectContext(entries, "dev", "a:b:c").cluster.certificateAuthority, { file: "/a/ca.pem" });
});

test("inline credentials are decoded; a certificate without its key is refused", () => {
  const entries = mergeKubeconfigs([{ path: "/k", text: config("x", { user: { "client-certificate-data": b64("CERT"), "client-key-data": b64("KEY") } }) }]);
  const { user } = selectContext(entries, undefined, "/k");
  assert.deepEqual(user.clientCertificate, { data: Buffer.from("CERT") });
  assert.deepEqual(user.clientKey, { data: Buffer.from("KEY") });
  assert.throws(() => mergeKubeconfigs([{ path: "/k", text: config("x", { user: { "client-certificate-data": b64("CERT") } }) }]), /user 'x' has a client certificate without its key/);
});

test("exec plugins keep their arguments and environment; a relative command path is relative to the kubeconfig", () => {
  const exec = { apiVersion: "client.authentication.k8s.io/v1", command: "./bin/login", args: ["token", "--cluster", "x"], env: [{ name: "REGION", value: "eu" }], provideClusterInfo: true };
  const { user } = selectContext(mergeKubeconfigs([{ path: "/etc/kube/config", text: config("x", { user: { exec } }) }]), undefined, "/etc/kube/config");
  assert.deepEqual(user.exec, { ...exec, command: "/etc/kube/bin/login" });
  const plain = selectContext(mergeKubeconfigs([{ path: "/k", text: config("x", { user: { exec: { ...exec, command: "aws" } } }) }]), undefined, "/k");
  assert.equal(plain.user.exec?.command, "aws", "a bare command is looked up on PATH");
});

test("impersonation in the kubeconfig (as, as-groups) is kept", () => {
  const { user } = selectContext(mergeKubeconfigs([{ path: "/k", text: config("x", { user: { token: "t", as: "jane", "as-groups": ["ops"] } }) }]), undefined, "/k");
  assert.deepEqual(user.impersonate, { user: "jane", groups: ["ops"] });
});

test("bad kubeconfigs fail with a message naming the file, the entry and the fix", () => {
  const entries = mergeKubeconfigs([{ path: "/k", text: config("x") }]);
  assert.throws(() => selectContext(entries, "staging", "/k"), (error: unknown) => error instanceof KubeconfigError && /context 'staging' is not in \/k \(contexts: x\)/.test(error.message));
  assert.throws(() => selectContext(mergeKubeconfigs([{ path: "/k", text: config("x", { current: false }) }]), undefined, "/k"), /sets no current-context: pass --context/);
  assert.throws(() => mergeKubeconfigs([{ path: "/k", text: "clusters: [oops" }]), /\/k is not valid YAML/);
  assert.throws(() => mergeKubeconfigs([{ path: "/k", text: config("x", { user: { "auth-provider": { name: "gcp" } } }) }]), /auth-provider.*gke-gcloud-auth-plugin/);
  const dangling = stringify({ clusters: [], users: [], contexts: [{ name: "x", context: { cluster: "gone", user: "u" } }], "current-context": "x" });
  assert.throws(() => selectContext(mergeKubeconfigs([{ path: "/k", text: dangling }]), undefined, "/k"), /refers to cluster 'gone'/);
  const proxied = stringify({ clusters: [{ name: "x", cluster: { server: "https://x", "proxy-url": "http://proxy:3128" } }] });
  assert.throws(() => mergeKubeconfigs([{ path: "/k", text: proxied }]), /proxy-url, which fjord does not support/);
});

test("the oidc auth-provider's id-token is used as a bearer token", () => {
  const { user } = selectContext(mergeKubeconfigs([{ path: "/k", text: config("x", { user: { "auth-provider": { name: "oidc", config: { "id-token": "eyJ.id.token" } } } }) }]), undefined, "/k");
  assert.equal(user.token, "eyJ.id.token");
});
