// Secrets committed to Git, end to end through `fjord controller`: a Secret encrypted by the real
// `sops --age` and a SealedSecret made by the real `kubeseal` against the controller's
// certificate both arrive in the cluster as plain Secrets; a tampered file stops the sync with
// the old Secret untouched; and no plaintext shows anywhere fjord prints or stores.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import type { Application } from "../src/api/types.ts";
import { KubeClient } from "../src/kube/client.ts";
import { isNotFound } from "../src/kube/errors.ts";
import type { KubeObject } from "../src/model/object.ts";
import { ensureBinaries } from "../testenv/ensure-binaries.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";
import { startControllerProcess, type ControllerProcess } from "./support/controller-process.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";
import { requestReconcile } from "./support/reconcile-request.ts";

const execFileAsync = promisify(execFile);
const SUITE = "secrets-gitops";
const DB_PASSWORD = "gitops-db-password-7731";
const API_TOKEN = "sealed-api-token-5519";
const PLAINTEXTS = [DB_PASSWORD, API_TOKEN, Buffer.from(DB_PASSWORD).toString("base64"), Buffer.from(API_TOKEN).toString("base64")];

let client: KubeClient;
let git: GitServer;
let work: string;
let controller: ControllerProcess;
let tools: Record<"sops" | "age-keygen" | "kubeseal", string>;

before(async () => {
  const cluster = await useCluster();
  client = KubeClient.load({ kubeconfig: cluster.kubeconfigPath });
  git = await startGitServer();
  work = await mkdtemp(path.join(os.tmpdir(), "fjord-secrets-gitops-"));
  tools = await ensureBinaries(["sops", "age-keygen", "kubeseal"], () => {});
});
after(async () => {
  await controller?.stop();
  client.close();
  await git.close();
  await rm(work, { recursive: true, force: true });
});

async function get<T extends KubeObject>(apiPath: string): Promise<T | undefined> {
  return client.request<T>("GET", apiPath).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
}

const secretValue = async (namespace: string, name: string, key: string) => {
  const secret = await get<KubeObject & { data?: Record<string, string> }>(`/api/v1/namespaces/${namespace}/secrets/${name}`);
  return secret?.data?.[key] === undefined ? undefined : Buffer.from(secret.data[key], "base64").toString("utf8");
};

test("a SOPS file and a SealedSecret from Git become Secrets; a tampered file stops the sync and keeps the old Secret; no plaintext leaks", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const keys = await createTestNamespace(await useCluster(), t);
  controller = await startControllerProcess({
    kubeconfig: (await useCluster()).kubeconfigPath,
    logFile: path.join(work, "controller.log"),
    cacheDir: path.join(work, "cache"),
    sealedSecrets: true,
    args: ["--watch-label-selector", `fjord.dev/test-suite=${SUITE}`, "--sealing-key-namespace", keys],
  });
  await controller.ready();

  // SOPS: an age key pair made by age-keygen, the file encrypted by the real sops exactly as the docs say.
  const keyFile = path.join(work, "age.key");
  await execFileAsync(tools["age-keygen"], ["-o", keyFile]);
  const identity = await readFile(keyFile, "utf8");
  const recipient = /public key: (age1[0-9a-z]+)/.exec(identity)?.[1] ?? "";
  const plainSecret = path.join(work, "db.yaml");
  await writeFile(plainSecret, `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-credentials\ntype: Opaque\nstringData:\n  password: ${DB_PASSWORD}\n`);
  const sopsEnv = { PATH: process.env.PATH ?? "", HOME: work, SOPS_AGE_KEY_FILE: keyFile };
  const encrypted = (await execFileAsync(tools.sops, ["--encrypt", "--age", recipient, "--encrypted-regex", "^(data|stringData)$", plainSecret], { env: sopsEnv })).stdout;
  await client.request("POST", `/api/v1/namespaces/${namespace}/secrets`, { body: { metadata: { name: "sops-age" }, stringData: { "age.agekey": identity } } });

  // Sealed Secrets: the real kubeseal seals with the certificate the controller serves.
  const certificate = await eventually(async () => {
    const response = await fetch(`${controller.url}/v1/cert.pem`);
    return response.status === 200 ? response.text() : undefined;
  }, { timeoutMs: 120_000 });
  await writeFile(path.join(work, "cert.pem"), certificate);
  const plainToken = path.join(work, "token.yaml");
  await writeFile(plainToken, `apiVersion: v1\nkind: Secret\nmetadata:\n  name: api-token\n  namespace: ${namespace}\nstringData:\n  token: ${API_TOKEN}\n`);
  const sealedByKubeseal = (await execFileAsync(tools.kubeseal, ["--cert", path.join(work, "cert.pem"), "--format", "yaml", "-f", plainToken])).stdout;
  // The controller reconciles only its suite's SealedSecrets (--watch-label-selector holds for every kind).
  const sealed = sealedByKubeseal.replace(/^metadata:\n/m, `metadata:\n  labels:\n    fjord.dev/test-suite: ${SUITE}\n`);
  assert.notEqual(sealed, sealedByKubeseal, "the suite label is on the SealedSecret");

  await git.createRepo(SUITE);
  await git.commitFiles(SUITE, { "app/db.sops.yaml": encrypted, "app/api-token.sealed.yaml": sealed }, { message: "secrets" });
  const labels = { "fjord.dev/test-suite": SUITE };
  const api = `/apis/fjord.dev/v1alpha1/namespaces/${namespace}`;
  await client.request("POST", `${api}/gitrepositories`, { body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "source", labels }, spec: { url: git.repoUrl(SUITE), interval: "1h" } } });
  await client.request("POST", `${api}/applications`, {
    body: {
      apiVersion: "fjord.dev/v1alpha1",
      kind: "Application",
      metadata: { name: "app", labels },
      spec: { sourceRef: { kind: "GitRepository", name: "source" }, path: "./app", interval: "1h", decryption: { provider: "sops", secretRef: { name: "sops-age" } } },
    },
  });
  const describe = async () => JSON.stringify((await get<Application>(`${api}/applications/app`))?.status?.conditions);
  await eventually(async () => (await secretValue(namespace, "db-credentials", "password")) === DB_PASSWORD, { timeoutMs: 90_000, describe });
  await eventually(async () => (await secretValue(namespace, "api-token", "token")) === API_TOKEN, { timeoutMs: 90_000, describe });
  const unsealed = await get<KubeObject>(`/api/v1/namespaces/${namespace}/secrets/api-token`);
  assert.equal((unsealed?.metadata.ownerReferences as Array<{ kind: string }> | undefined)?.[0]?.kind, "SealedSecret");

  // Tampering: one character of the encrypted value changes; the MAC no longer matches.
  const tampered = encrypted.replace(/(password: ENC\[AES256_GCM,data:)(.)/, (_, prefix: string, first: string) => `${prefix}${first === "A" ? "B" : "A"}`);
  assert.notEqual(tampered, encrypted);
  await git.commitFiles(SUITE, { "app/db.sops.yaml": tampered }, { message: "tampered" });
  await requestReconcile(client, `${api}/gitrepositories/source`);
  const failed = await eventually(async () => {
    const app = await get<Application>(`${api}/applications/app`);
    const ready = app?.status?.conditions?.find((condition) => condition.type === "Ready");
    return ready?.status === "False" ? ready : undefined;
  }, { timeoutMs: 60_000, describe });
  assert.equal(failed.reason, "DecryptionFailed", "a tampered SOPS file is a decryption failure, not any render failure");
  assert.match(failed.message, /db\.sops\.yaml/);
  assert.equal(await secretValue(namespace, "db-credentials", "password"), DB_PASSWORD, "the running Secret is untouched");

  // Everything fjord printed or stored: its log, the Application's status, the Events, the SealedSecret's status.
  const stored = [
    await readFile(controller.logFile, "utf8"),
    JSON.stringify(await get(`${api}/applications/app`)),
    JSON.stringify(await get(`/api/v1/namespaces/${namespace}/events`)),
    JSON.stringify((await get<KubeObject>(`/apis/bitnami.com/v1alpha1/namespaces/${namespace}/sealedsecrets/api-token`))?.status),
  ].join("\n");
  for (const plaintext of PLAINTEXTS) assert.ok(!stored.includes(plaintext), `a plaintext (${plaintext.slice(0, 4)}...) leaked`);
});
