import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type https from "node:https";
import os from "node:os";
import path from "node:path";
import { test, type TestContext } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { KubeconfigError, loadClusterAccess } from "./cluster-access.ts";

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "fjord-kubeconfig-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = {}, namespace?: string): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "c", cluster: { server: "https://127.0.0.1:6443", ...cluster } }],
    users: [{ name: "u", user }],
    contexts: [{ name: "ctx", context: { cluster: "c", user: "u", ...(namespace ? { namespace } : {}) } }],
    "current-context": "ctx",
  });
}

/** What @kubernetes/client-node (the reference implementation we replaced) would send. */
async function clientNodeView(file: string): Promise<{ server: string; ca?: string; cert?: string; key?: string; authorization?: string; rejectUnauthorized?: boolean }> {
  const config = new KubeConfig();
  config.loadFromFile(file);
  const options: https.RequestOptions = { headers: {} };
  await config.applyToHTTPSOptions(options);
  const text = (value: unknown) => (value === undefined ? undefined : Buffer.from(value as Buffer).toString("utf8"));
  return {
    server: config.getCurrentCluster()?.server ?? "",
    ca: text(options.ca),
    cert: text(options.cert),
    key: text(options.key),
    // Basic credentials go into node's `auth` option, which sends the same header.
    authorization: (options.headers as Record<string, string>).Authorization ?? (options.auth ? `Basic ${Buffer.from(options.auth).toString("base64")}` : undefined),
    rejectUnauthorized: options.rejectUnauthorized,
  };
}

test("kubeconfigs resolve to the same TLS material and credentials as @kubernetes/client-node", async (t) => {
  const dir = await tempDir(t);
  await mkdir(path.join(dir, "pki"));
  await writeFile(path.join(dir, "pki", "ca.pem"), "CA FILE");
  await writeFile(path.join(dir, "pki", "client.pem"), "CERT FILE");
  await writeFile(path.join(dir, "pki", "client.key"), "KEY FILE");
  const b64 = (text: string) => Buffer.from(text).toString("base64");
  const cases: Record<string, string> = {
    "inline certificates": kubeconfig({ "client-certificate-data": b64("CERT"), "client-key-data": b64("KEY") }, { "certificate-authority-data": b64("CA") }),
    "certificate files relative to the kubeconfig": kubeconfig({ "client-certificate": "pki/client.pem", "client-key": "pki/client.key" }, { "certificate-authority": "pki/ca.pem" }),
    "bearer token": kubeconfig({ token: "s3cr3t" }, { "certificate-authority-data": b64("CA") }),
    "basic auth": kubeconfig({ username: "admin", password: "pa:ss" }, { "insecure-skip-tls-verify": true }),
  };
  for (const [name, text] of Object.entries(cases)) {
    const file = path.join(dir, `${name.replaceAll(" ", "-")}.yaml`);
    await writeFile(file, text);
    const expected = await clientNodeView(file);
    const access = loadClusterAccess({ kubeconfig: file });
    const connection = await access.credentials.connection();
    assert.equal(access.server, expected.server, name);
    assert.equal(connection.ca?.toString("utf8"), expected.ca, `${name}: CA`);
    assert.equal(connection.cert?.toString("utf8"), expected.cert, `${name}: client certificate`);
    assert.equal(connection.key?.toString("utf8"), expected.key, `${name}: client key`);
    assert.equal(connection.headers.Authorization, expected.authorization, `${name}: Authorization`);
    assert.equal(connection.rejectUnauthorized, expected.rejectUnauthorized ?? true, `${name}: certificate verification`);
  }
});

test("KUBECONFIG lists merge, missing files are skipped, and --context picks another context and its namespace", async (t) => {
  const dir = await tempDir(t);
  const first = path.join(dir, "first");
  const second = path.join(dir, "second");
  await writeFile(first, stringify({ contexts: [{ name: "staging", context: { cluster: "c", user: "u", namespace: "shop" } }] }));
  await writeFile(second, kubeconfig({ token: "t" }));
  const env = { KUBECONFIG: [path.join(dir, "missing"), first, second].join(path.delimiter) };
  assert.equal(loadClusterAccess({ env }).context, "ctx");
  const staging = loadClusterAccess({ env, context: "staging" });
  assert.equal(staging.namespace, "shop");
  assert.equal((await staging.credentials.connection()).headers.Authorization, "Bearer t");
  assert.throws(() => loadClusterAccess({ env: { KUBECONFIG: path.join(dir, "nope") } }), /none of the files in KUBECONFIG exist/);
});

test("without a kubeconfig, a Pod's service account is used; the token file is read again once rejected", async (t) => {
  const dir = await tempDir(t);
  const serviceAccountDir = path.join(dir, "sa");
  await mkdir(serviceAccountDir);
  await writeFile(path.join(serviceAccountDir, "token"), "first-token\n");
  await writeFile(path.join(serviceAccountDir, "ca.crt"), "CLUSTER CA");
  await writeFile(path.join(serviceAccountDir, "namespace"), "fjord-system");
  const env = { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" };
  const access = loadClusterAccess({ env, homeDir: dir, serviceAccountDir });
  assert.equal(access.server, "https://[fd00::1]:443");
  assert.equal(access.namespace, "fjord-system");
  const connection = await access.credentials.connection();
  assert.equal(connection.headers.Authorization, "Bearer first-token");
  assert.equal(connection.ca?.toString(), "CLUSTER CA");
  // The kubelet rotates projected tokens: after a 401 the client must not keep the old one.
  await writeFile(path.join(serviceAccountDir, "token"), "rotated-token\n");
  assert.equal((await access.credentials.connection()).headers.Authorization, "Bearer first-token", "cached between requests");
  access.credentials.invalidate();
  assert.equal((await access.credentials.connection()).headers.Authorization, "Bearer rotated-token");

  assert.throws(
    () => loadClusterAccess({ env: {}, homeDir: dir, serviceAccountDir }),
    (error: unknown) => error instanceof KubeconfigError && /no kubeconfig found: pass --kubeconfig, set KUBECONFIG/.test(error.message),
  );
});

async function execPlugin(dir: string, answer: (runs: number) => unknown, exitCode = 0): Promise<{ command: string; runs: () => Promise<number>; info: () => Promise<unknown> }> {
  const counter = path.join(dir, "runs");
  const infoFile = path.join(dir, "exec-info.json");
  const command = path.join(dir, "login-plugin.mjs");
  const answers = JSON.stringify([1, 2, 3].map(answer));
  await writeFile(
    command,
    `#!${process.execPath}
import { existsSync, readFileSync, writeFileSync } from "node:fs";
const runs = (existsSync(${JSON.stringify(counter)}) ? Number(readFileSync(${JSON.stringify(counter)}, "utf8")) : 0) + 1;
writeFileSync(${JSON.stringify(counter)}, String(runs));
writeFileSync(${JSON.stringify(infoFile)}, JSON.stringify({ info: JSON.parse(process.env.KUBERNETES_EXEC_INFO), region: process.env.REGION, args: process.argv.slice(2) }));
process.stdout.write(JSON.stringify(${answers}[runs - 1]));
process.exit(${exitCode});
`,
  );
  await chmod(command, 0o755);
  return {
    command,
    runs: async () => Number(await readFile(counter, "utf8").catch(() => "0")),
    info: async () => JSON.parse(await readFile(infoFile, "utf8")) as unknown,
  };
}

test("an exec plugin is run with KUBERNETES_EXEC_INFO, its token cached until shortly before it expires", async (t) => {
  const dir = await tempDir(t);
  const apiVersion = "client.authentication.k8s.io/v1";
  const expiringSoon = new Date(Date.now() + 5_000).toISOString();
  const later = new Date(Date.now() + 3_600_000).toISOString();
  const plugin = await execPlugin(dir, (run) => ({ apiVersion, kind: "ExecCredential", status: { token: `token-${run}`, expirationTimestamp: run === 1 ? expiringSoon : later } }));
  const file = path.join(dir, "config");
  await writeFile(
    file,
    kubeconfig({ exec: { apiVersion, command: plugin.command, args: ["get-token", "--cluster=prod"], env: [{ name: "REGION", value: "eu-north-1" }], provideClusterInfo: true } }, { "certificate-authority-data": Buffer.from("CA").toString("base64") }),
  );
  const access = loadClusterAccess({ kubeconfig: file });
  const [a, b] = await Promise.all([access.credentials.connection(), access.credentials.connection()]);
  assert.equal(a.headers.Authorization, "Bearer token-1");
  assert.equal(b.headers.Authorization, "Bearer token-1");
  assert.equal(await plugin.runs(), 1, "concurrent requests share one plugin run");
  assert.deepEqual(await plugin.info(), {
    info: { apiVersion, kind: "ExecCredential", spec: { interactive: false, cluster: { server: "https://127.0.0.1:6443", "certificate-authority-data": Buffer.from("CA").toString("base64") } } },
    region: "eu-north-1",
    args: ["get-token", "--cluster=prod"],
  });
  // token-1 expires within the refresh margin, so the next request asks the plugin again.
  assert.equal((await access.credentials.connection()).headers.Authorization, "Bearer token-2");
  assert.equal((await access.credentials.connection()).headers.Authorization, "Bearer token-2");
  assert.equal(await plugin.runs(), 2, "a token valid for an hour is reused");
  access.credentials.invalidate();
  assert.equal((await access.credentials.connection()).headers.Authorization, "Bearer token-3", "a rejected token is replaced");
});

test("exec plugin failures name the plugin and the user, never its output", async (t) => {
  const dir = await tempDir(t);
  const apiVersion = "client.authentication.k8s.io/v1beta1";
  const failing = await execPlugin(dir, () => ({ apiVersion, kind: "ExecCredential", status: { token: "half-a-secret" } }), 3);
  const file = path.join(dir, "config");
  await writeFile(file, kubeconfig({ exec: { apiVersion, command: failing.command } }));
  await assert.rejects(loadClusterAccess({ kubeconfig: file }).credentials.connection(), (error: unknown) => {
    assert.ok(error instanceof KubeconfigError);
    assert.match(error.message, /exec plugin '.*login-plugin.mjs' of user 'u' failed with exit code 3/);
    assert.doesNotMatch(error.message, /half-a-secret/);
    return true;
  });
  await writeFile(file, kubeconfig({ exec: { apiVersion, command: "fjord-no-such-login-plugin", installHint: "install it with: brew install fjord-login" } }));
  await assert.rejects(loadClusterAccess({ kubeconfig: file }).credentials.connection(), /'fjord-no-such-login-plugin' of user 'u' was not found: install it with: brew install fjord-login/);
  const wrongKind = await execPlugin(path.join(dir), () => ({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status: { token: "x" } }));
  await rm(path.join(dir, "runs"), { force: true });
  await writeFile(file, kubeconfig({ exec: { apiVersion, command: wrongKind.command } }));
  await assert.rejects(loadClusterAccess({ kubeconfig: file }).credentials.connection(), /answered ExecCredential client.authentication.k8s.io\/v1, expected ExecCredential client.authentication.k8s.io\/v1beta1/);
});
