// The admission webhook ("who drifted it") against the real API server: a `fjord controller`
// process serves it over TLS with the certificate it manages, the API server calls it (the
// configuration uses a url clientConfig, since the API server runs on the host; `fjord install`
// uses the Service form), and people are real impersonated users (`kubectl --as`). The webhook
// configuration is limited to the test's namespace, so other test files never meet it.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test, type TestContext } from "node:test";
import { promisify } from "node:util";
import { request as httpsRequest } from "node:https";
import { webhookConfiguration } from "../src/admission/webhook-configuration.ts";
import { patchCaBundle, servingCertificate } from "../src/admission/serving-certificate.ts";
import type { AdmissionMode } from "../src/admission/decision.ts";
import type { Application } from "../src/api/types.ts";
import { installCustomResourceDefinitions } from "../src/controller/crd-install.ts";
import type { HistoryEntry } from "../src/history/entry.ts";
import { KubeClient } from "../src/kube/client.ts";
import { whoAmI } from "../src/cli/whoami.ts";
import { locateAssets } from "../testenv/assets.ts";
import { freePort } from "../testenv/ports.ts";
import { runFjord } from "./support/cli.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";
import { startControllerProcess, type ControllerProcess } from "./support/controller-process.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";

const execFileAsync = promisify(execFile);
const SUITE = "admission";
const LABELS = { "fjord.dev/test-suite": SUITE };
const SECRET_VALUE = "s3cr3t-admission-value-91d2";
const ATTEMPTED_SECRET = "s3cr3t-attempted-by-hand-5be0";
const api = "/apis/fjord.dev/v1alpha1/namespaces";
const VWC = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations";

let client: KubeClient;
let kubeconfig: string;
let git: GitServer;
let work: string;
let kubectlPath: string;

before(async () => {
  kubeconfig = (await useCluster()).kubeconfigPath;
  client = KubeClient.load({ kubeconfig });
  await installCustomResourceDefinitions(client);
  git = await startGitServer();
  work = await mkdtemp(path.join(os.tmpdir(), "fjord-admission-"));
  const found = locateAssets(["kubectl"]).found.get("kubectl");
  assert.ok(found, "kubectl is part of the test assets");
  kubectlPath = found.path;
});
after(async () => {
  client.close();
  await git.close();
  await rm(work, { recursive: true, force: true });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl as a person: `--as` impersonation through the test's admin kubeconfig. */
async function kubectl(args: string[]): Promise<Result> {
  try {
    const { stdout, stderr } = await execFileAsync(kubectlPath, ["--kubeconfig", kubeconfig, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === "number" ? failed.code : 1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

const deploymentYaml = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: registry.example/web:1}]
`;
/** No replicas in Git: an HPA (or a person, in lock mode too) may scale it. */
const workerYaml = deploymentYaml.replace("name: web", "name: worker").replace("  replicas: 1\n", "").replaceAll("app: web", "app: worker");
const settings = (mode: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: "${mode}"\n`;
const secretYaml = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: "${SECRET_VALUE}"\n`;

interface Fixture {
  namespace: string;
  repoUrl: string;
  controller: ControllerProcess;
  port: number;
  appPath: string;
  app(): Promise<Application>;
  history(): Promise<HistoryEntry[]>;
  events(reason: string): Promise<{ message: string }[]>;
  replicas(): Promise<number>;
}

/**
 * A namespace whose Application (Deployment with replicas: 1 in Git, a ConfigMap, a Secret)
 * is synced by a controller serving the webhook in `mode`; alice and bob may edit workloads there.
 */
async function fixture(t: TestContext, mode: AdmissionMode): Promise<Fixture> {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = `admission-${namespace}`;
  await git.createRepo(repo);
  await git.commitFiles(repo, { "app/web.yaml": deploymentYaml, "app/worker.yaml": workerYaml, "app/settings.yaml": settings("one"), "app/db.yaml": secretYaml }, { message: "web, settings, db" });
  // alice and bob may do what an application team does in its namespace.
  const rbac = "/apis/rbac.authorization.k8s.io/v1";
  await client.request("POST", `${rbac}/namespaces/${namespace}/roles`, {
    body: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "team" }, rules: [{ apiGroups: ["", "apps"], resources: ["deployments", "deployments/scale", "configmaps", "secrets"], verbs: ["get", "list", "watch", "create", "update", "patch", "delete"] }] },
  });
  await client.request("POST", `${rbac}/namespaces/${namespace}/rolebindings`, {
    body: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "team" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "team" }, subjects: ["alice", "bob"].map((name) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "User", name })) },
  });

  const port = await freePort();
  const webhookName = `fjord-admission-test-${randomBytes(4).toString("hex")}`;
  // The controller runs with the test's admin kubeconfig: that user is "fjord" here.
  const configuration = webhookConfiguration({
    name: webhookName,
    mode,
    clientConfig: { url: `https://127.0.0.1:${port}/validate` },
    controllerUser: await whoAmI(client),
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
  });
  await client.request("POST", VWC, { body: configuration });
  t.after(() => client.request("DELETE", `${VWC}/${webhookName}`).then(() => undefined, () => undefined));

  const controller = await startControllerProcess({
    kubeconfig,
    logFile: path.join(work, `controller-${namespace}.log`),
    cacheDir: work,
    args: [
      "--watch-label-selector", `fjord.dev/test-suite=${SUITE}`,
      "--admission", mode,
      "--admission-bind-address", `127.0.0.1:${port}`,
      "--admission-webhook-name", webhookName,
      // Its certificate Secret goes into the test's namespace.
      "--leader-election-namespace", namespace,
      "--admission-host", "127.0.0.1",
      "--break-glass-group", "oncall",
    ],
  });
  t.after(() => controller.stop());
  await controller.ready();
  // The controller puts its CA into both webhooks.
  await eventually(async () => {
    const live = await client.request<{ webhooks: { clientConfig: { caBundle?: string } }[] }>("GET", `${VWC}/${webhookName}`);
    return live.webhooks.every((webhook) => webhook.clientConfig.caBundle) || undefined;
  }, { timeoutMs: 30_000, describe: () => readFile(controller.logFile, "utf8") });

  await client.request("POST", `${api}/${namespace}/gitrepositories`, { body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "source", labels: LABELS }, spec: { url: git.repoUrl(repo), interval: "1h" } } });
  await client.request("POST", `${api}/${namespace}/applications`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "web", labels: LABELS }, spec: { sourceRef: { kind: "GitRepository", name: "source" }, path: "./app", interval: "1h", prune: true, wait: true, timeout: "2m" } },
  });
  const appPath = `${api}/${namespace}/applications/web`;
  const app = () => client.request<Application>("GET", appPath);
  // Ready with wait: the Deployment rolled out (kwok runs its Pod), so the deployment controller was not blocked.
  await eventually(async () => (await app()).status?.conditions?.some((condition) => condition.type === "Ready" && condition.status === "True") || undefined, {
    timeoutMs: 120_000,
    describe: async () => JSON.stringify((await app()).status?.conditions),
  });
  return {
    namespace,
    repoUrl: git.repoUrl(repo),
    controller,
    port,
    appPath,
    app,
    history: async () => {
      const result = await runFjord(["history", "web", "-n", namespace, "-o", "json", "--kubeconfig", kubeconfig]);
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout) as HistoryEntry[];
    },
    events: async (reason) => {
      const list = await client.request<{ items: { reason: string; message: string; involvedObject: { kind: string; name: string } }[] }>("GET", `/api/v1/namespaces/${namespace}/events`);
      return list.items.filter((event) => event.reason === reason && event.involvedObject.kind === "Application" && event.involvedObject.name === "web");
    },
    replicas: async () => (await client.request<{ spec: { replicas: number } }>("GET", `/apis/apps/v1/namespaces/${namespace}/deployments/web`)).spec.replicas,
  };
}

/** Posts raw bytes to the webhook port, as anyone who can reach it could. */
function postToWebhook(port: number, body: Buffer | string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest({ host: "127.0.0.1", port, path: "/validate", method: "POST", rejectUnauthorized: false, headers: { "content-type": "application/json" } }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    request.on("error", reject);
    request.end(body);
  });
}

const driftRevertsOf = (entries: HistoryEntry[]) => entries.flatMap((entry) => entry.driftReverts);

/** Nothing secret in what the controller wrote: its log, the Application's status and Events, and the history. */
async function assertNoSecret(fx: Fixture): Promise<void> {
  const events = await client.request<unknown>("GET", `/api/v1/namespaces/${fx.namespace}/events`);
  const texts = [await readFile(fx.controller.logFile, "utf8"), JSON.stringify(await fx.app()), JSON.stringify(events), JSON.stringify(await fx.history())];
  for (const text of texts) {
    for (const value of [SECRET_VALUE, ATTEMPTED_SECRET]) {
      assert.ok(!text.includes(value) && !text.includes(Buffer.from(value).toString("base64")), "a Secret value leaked into a log, status, Event or history");
    }
  }
}

test("observe: kubectl scale by alice is allowed and its revert records alice with the field manager; fieldManager=fjord is still drift; labelled strays are not recorded; hostile reviews; webhook down fails open", async (t) => {
  const fx = await fixture(t, "observe");
  const scaled = await kubectl(["--as", "alice", "-n", fx.namespace, "scale", "deployment/web", "--replicas=3"]);
  assert.equal(scaled.code, 0, scaled.stderr);
  // selfHeal: reverted to Git's 1, and the revert names alice (the person), keeping the field manager.
  const revert = await eventually(async () => driftRevertsOf(await fx.history()).find((drift) => /Deployment\.apps\/.*\/web/.test(drift.object)), { timeoutMs: 30_000, describe: async () => JSON.stringify(await fx.history()) });
  assert.equal(revert.changedBy, "alice");
  assert.match(revert.fieldManager ?? "", /^kubectl/);
  t.diagnostic(`fjord history web -o json, driftReverts: ${JSON.stringify(revert)}`);
  const audit = await runFjord(["audit", "-n", fx.namespace, "--kubeconfig", kubeconfig]);
  assert.match(audit.stdout, /reverted Deployment\.apps\/[^ ]+\/web \(changed by alice \(field manager kubectl/, "fjord audit answers who changed it outside Git");
  t.diagnostic(`$ fjord audit -n ${fx.namespace}\n${audit.stdout}`);
  await eventually(async () => (await fx.replicas()) === 1 || undefined, { timeoutMs: 30_000 });
  const status = await fx.app();
  const recorded = JSON.stringify(status.status);
  assert.match(recorded, /"changedBy":"alice"/, "the status' sync record names alice");
  const reverted = await eventually(async () => (await fx.events("DriftReverted")).find((event) => event.message.includes("alice")), { timeoutMs: 15_000 });
  assert.match(reverted.message, /changed by alice \(field manager kubectl/);
  const table = await runFjord(["history", "web", "-n", fx.namespace, "--kubeconfig", kubeconfig]);
  t.diagnostic(`$ fjord history web -n ${fx.namespace}\n${table.stdout}\n$ Event DriftReverted: ${reverted.message}`);
  const log = await readFile(fx.controller.logFile, "utf8");
  assert.match(log, /"user":"alice".*"decision":"observed"|"decision":"observed".*"user":"alice"/, "a structured log line records the admitted change");

  // Naming fjord's field manager does not hide a change from fjord: the webhook reports it as drift.
  const disguised = await kubectl(["--as", "alice", "-n", fx.namespace, "patch", "configmap", "settings", "--type", "merge", "-p", '{"data":{"mode":"mine"}}', "--field-manager", "fjord"]);
  assert.equal(disguised.code, 0, disguised.stderr);
  const disguisedRevert = await eventually(async () => driftRevertsOf(await fx.history()).find((drift) => drift.fieldManager === "fjord"), { timeoutMs: 30_000, describe: async () => JSON.stringify(await fx.history()) });
  assert.equal(disguisedRevert.changedBy, "alice");
  assert.match(disguisedRevert.object, /^ConfigMap\/.*\/settings$/);
  await eventually(async () => (await client.request<{ data: { mode: string } }>("GET", `/api/v1/namespaces/${fx.namespace}/configmaps/settings`)).data.mode === "one" || undefined, { timeoutMs: 30_000 });

  // A tenant labels an object of its own as the Application's: fjord neither records nor reverts it.
  const stray = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stray\n  namespace: ${fx.namespace}\n  labels: {fjord.dev/name: web, fjord.dev/namespace: ${fx.namespace}}\ndata: {mode: mine}\n`;
  const applied = await new Promise<Result>((resolve) => {
    const child = execFile(kubectlPath, ["--kubeconfig", kubeconfig, "--as", "alice", "apply", "-f", "-"], (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }));
    child.stdin?.end(stray);
  });
  assert.equal(applied.code, 0, applied.stderr);
  const strayEdit = await kubectl(["--as", "alice", "-n", fx.namespace, "patch", "configmap", "stray", "--type", "merge", "-p", '{"data":{"mode":"still mine"}}']);
  assert.equal(strayEdit.code, 0, strayEdit.stderr);

  // Hostile callers of the webhook port: never a 500, never a decision from a malformed review.
  const malformed = await postToWebhook(fx.port, "{not json");
  assert.equal(malformed.status, 400);
  const wrongShape = await postToWebhook(fx.port, JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid: "x", operation: "UPDATE", userInfo: { username: "a\nb" } } }));
  assert.equal(wrongShape.status, 400);
  const deep = await postToWebhook(fx.port, `${"[".repeat(10_000)}${"]".repeat(10_000)}`);
  assert.equal(deep.status, 400);
  // Past the body limit: 413, or the connection closed while the rest is still being sent.
  const huge = await postToWebhook(fx.port, Buffer.alloc(9 * 1024 * 1024, 0x20)).catch((error: NodeJS.ErrnoException) => ({ status: error.code ?? "error", body: "" }));
  assert.ok([413, "EPIPE", "ECONNRESET"].includes(huge.status), String(huge.status));
  // A forged review for an object fjord does not manage: allowed, nothing recorded.
  const forged = await postToWebhook(
    fx.port,
    JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid: "f1", kind: { group: "", version: "v1", kind: "ConfigMap" }, resource: { group: "", version: "v1", resource: "configmaps" }, namespace: fx.namespace, name: "stray", operation: "DELETE", userInfo: { username: "mallory" } } }),
  );
  assert.equal(forged.status, 200);
  assert.deepEqual(JSON.parse(forged.body), { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: "f1", allowed: true } });
  const afterAttacks = await readFile(fx.controller.logFile, "utf8");
  assert.ok(!/"object":"ConfigMap\/[^"]*\/stray"/.test(afterAttacks), "the labelled stray was never recorded");
  assert.ok(!afterAttacks.includes('"level":50'), "no error was logged");
  // The controller still answers the API server.
  assert.equal((await kubectl(["--as", "alice", "-n", fx.namespace, "annotate", "deployment/web", "example.com/note=hello", "--overwrite"])).code, 0);

  // Webhook down: observe fails open, the change goes through.
  await fx.controller.stop();
  const downScale = await kubectl(["--as", "alice", "-n", fx.namespace, "scale", "deployment/web", "--replicas=2"]);
  assert.equal(downScale.code, 0, downScale.stderr);
  assert.equal(await fx.replicas(), 2);
  await assertNoSecret(fx);
});

test("lock: alice is denied naming the Application and repository; fieldManager=fjord does not sneak past; break-glass bob goes through, recorded and reverted; fjord and the deployment controller are not blocked", async (t) => {
  const fx = await fixture(t, "lock");
  const denied = await kubectl(["--as", "alice", "-n", fx.namespace, "scale", "deployment/web", "--replicas=3"]);
  assert.notEqual(denied.code, 0, "kubectl scale must be denied");
  assert.match(denied.stderr, new RegExp(`Application ${fx.namespace}/web`));
  assert.ok(denied.stderr.includes(`repository ${fx.repoUrl}, path ./app`), denied.stderr);
  assert.equal(await fx.replicas(), 1);
  t.diagnostic(`$ kubectl --as alice -n ${fx.namespace} scale deployment/web --replicas=3\n${denied.stderr}`);
  const deniedEvent = await eventually(async () => (await fx.events("ChangeDenied"))[0], { timeoutMs: 15_000 });
  assert.match(deniedEvent.message, /UPDATE of Deployment\.apps\/.*\/web \(spec\.replicas\) by alice/);

  // Naming fjord's field manager changes nothing: the API server says who is asking.
  const sneaky = await kubectl(["--as", "alice", "-n", fx.namespace, "patch", "configmap", "settings", "--type", "merge", "-p", '{"data":{"mode":"mine"}}', "--field-manager", "fjord"]);
  assert.notEqual(sneaky.code, 0);
  assert.match(sneaky.stderr, /changing data\.mode of ConfigMap\/[^ ]+\/settings is denied/);
  // Nor can a Secret be changed by hand, and the attempted value appears nowhere.
  const secretEdit = await kubectl(["--as", "alice", "-n", fx.namespace, "patch", "secret", "db", "--type", "merge", "-p", JSON.stringify({ stringData: { password: ATTEMPTED_SECRET } })]);
  assert.notEqual(secretEdit.code, 0);
  assert.ok(!secretEdit.stderr.includes(ATTEMPTED_SECRET) && !secretEdit.stderr.includes(SECRET_VALUE));
  // Deleting is denied too.
  assert.notEqual((await kubectl(["--as", "alice", "-n", fx.namespace, "delete", "configmap", "settings"])).code, 0);

  // A field the Application leaves to others (worker's replicas, not in Git) may be changed, lock or not.
  const free = await kubectl(["--as", "alice", "-n", fx.namespace, "scale", "deployment/worker", "--replicas=2"]);
  assert.equal(free.code, 0, free.stderr);

  // Break glass: bob, in group oncall, goes through; recorded (Event, log), and selfHeal reverts it naming bob.
  const glass = await kubectl(["--as", "bob", "--as-group", "oncall", "-n", fx.namespace, "scale", "deployment/web", "--replicas=4"]);
  assert.equal(glass.code, 0, glass.stderr);
  const glassEvent = await eventually(async () => (await fx.events("BreakGlassChange"))[0], { timeoutMs: 15_000 });
  assert.match(glassEvent.message, /by bob \[groups oncall[^\]]*\] went through as break-glass; selfHeal is on, so fjord reverts it/);
  const revert = await eventually(async () => driftRevertsOf(await fx.history()).find((drift) => drift.changedBy === "bob"), { timeoutMs: 30_000, describe: async () => JSON.stringify(await fx.history()) });
  assert.match(revert.object, /Deployment\.apps\/.*\/web/);
  await eventually(async () => (await fx.replicas()) === 1 || undefined, { timeoutMs: 30_000 });

  // fjord's own sync of a new commit goes through (and the Deployment stays rolled out).
  await git.commitFiles(`admission-${fx.namespace}`, { "app/settings.yaml": settings("two") }, { message: "settings two" });
  const reconciled = await runFjord(["reconcile", "app", "web", "-n", fx.namespace, "--with-source", "--kubeconfig", kubeconfig]);
  assert.equal(reconciled.code, 0, reconciled.stderr);
  const cm = await client.request<{ data: { mode: string } }>("GET", `/api/v1/namespaces/${fx.namespace}/configmaps/settings`);
  assert.equal(cm.data.mode, "two");
  const worker = await client.request<{ spec: { replicas: number } }>("GET", `/apis/apps/v1/namespaces/${fx.namespace}/deployments/worker`);
  assert.equal(worker.spec.replicas, 2, "a sync leaves the replicas Git does not set");
  const log = await readFile(fx.controller.logFile, "utf8");
  assert.match(log, /admission lock denied a change to a managed object/);
  t.diagnostic(`Events: ${deniedEvent.message}\n${glassEvent.message}\nlog: ${log.split("\n").find((line) => line.includes("admission lock denied")) ?? ""}`);
  await assertNoSecret(fx);
});

test("the webhook certificate: issued into a Secret once, reused, issued again near expiry with both CAs trusted, and the CA bundle patched into the configuration", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const location = { namespace, secretName: "fjord-admission-tls", dnsNames: ["fjord-controller.fjord-system.svc"], ipAddresses: ["127.0.0.1"] };
  const first = await servingCertificate(client, location);
  assert.equal(first.renewed, "none stored");
  const again = await servingCertificate(client, location);
  assert.equal(again.renewed, "");
  assert.equal(again.served.certificate, first.served.certificate, "a restart serves the stored certificate");
  const stored = await client.request<{ type: string; data: Record<string, string> }>("GET", `/api/v1/namespaces/${namespace}/secrets/fjord-admission-tls`);
  assert.equal(stored.type, "kubernetes.io/tls");
  assert.deepEqual(Object.keys(stored.data).sort(), ["ca.crt", "tls.crt", "tls.key"]);

  // Thirty days before expiry (61 days on): a new CA and certificate; the bundle trusts both CAs meanwhile.
  const later = new Date(Date.now() + 61 * 86_400_000);
  const renewed = await servingCertificate(client, location, later);
  assert.match(renewed.renewed, /expires at/);
  assert.notEqual(renewed.served.certificate, first.served.certificate);
  assert.equal(renewed.served.caBundle.match(/BEGIN CERTIFICATE/g)?.length, 2);
  assert.ok(renewed.served.caBundle.endsWith(first.served.caBundle), "the previous CA stays trusted");

  const name = `fjord-admission-test-${randomBytes(4).toString("hex")}`;
  await client.request("POST", VWC, { body: webhookConfiguration({ name, mode: "observe", clientConfig: { url: "https://127.0.0.1:1/validate" }, controllerUser: "nobody", namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } }) });
  t.after(() => client.request("DELETE", `${VWC}/${name}`).then(() => undefined, () => undefined));
  assert.equal(await patchCaBundle(client, name, renewed.served.caBundle), 2);
  assert.equal(await patchCaBundle(client, name, renewed.served.caBundle), 0, "nothing to do when the bundle is in place");
  const live = await client.request<{ webhooks: { clientConfig: { caBundle: string } }[] }>("GET", `${VWC}/${name}`);
  assert.ok(live.webhooks.every((webhook) => Buffer.from(webhook.clientConfig.caBundle, "base64").toString() === renewed.served.caBundle));
});
