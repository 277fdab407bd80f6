/**
 * Notifications end to end against the real API server: a failing sync of a real Application
 * reaches local receivers (Slack format, signed generic-hmac, a generic receiver that fails and
 * then recovers), and no Secret value appears in any request body. Also: the API server refuses
 * a bad Provider and Alert through the CRD schemas.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { runController } from "../src/controller/controller.ts";
import { installCustomResourceDefinitions } from "../src/controller/crd-install.ts";
import { KubeClient } from "../src/kube/client.ts";
import { createLogger } from "../src/util/logger.ts";
import { runFjord } from "./support/cli.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";
import { startHttpReceiver } from "./support/http-receiver.ts";

const SUITE = "notifications";
const labels = { "fjord.dev/test-suite": SUITE };
const api = "/apis/fjord.dev/v1alpha1";
let client: KubeClient;
let cacheDir: string;
const abort = new AbortController();
let running: Promise<void>;

before(async () => {
  const cluster = await useCluster();
  client = KubeClient.load({ kubeconfig: cluster.kubeconfigPath });
  await installCustomResourceDefinitions(client);
  cacheDir = await mkdtemp(path.join(os.tmpdir(), "fjord-notify-cache-"));
  const logger = createLogger("controller");
  logger.level = "error";
  running = runController({ client, logger, cacheDir, installCrds: false, watchLabelSelector: `fjord.dev/test-suite=${SUITE}`, notify: { backoffMs: 100, maxBackoffMs: 400, attempts: 6 } }, abort.signal);
});
after(async () => {
  abort.abort();
  await running;
  client.close();
  await rm(cacheDir, { recursive: true, force: true });
});

const create = (namespace: string, resource: string, body: Record<string, unknown>) => client.request("POST", `${api}/namespaces/${namespace}/${resource}`, { body: { apiVersion: "fjord.dev/v1alpha1", ...body } });

test("the API server refuses a Provider of an unknown type or a non-http address, and an Alert without sources", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  await assert.rejects(create(namespace, "providers", { kind: "Provider", metadata: { name: "bad" }, spec: { type: "pager" } }), /type/);
  await assert.rejects(create(namespace, "providers", { kind: "Provider", metadata: { name: "bad" }, spec: { type: "generic", address: "file:///etc/passwd" } }), /address/);
  await assert.rejects(create(namespace, "alerts", { kind: "Alert", metadata: { name: "bad" }, spec: { providerRef: { name: "p" }, eventSources: [] } }), /eventSources/);
  await assert.rejects(create(namespace, "alerts", { kind: "Alert", metadata: { name: "bad" }, spec: { providerRef: { name: "p" }, eventSeverity: "warning", eventSources: [{ kind: "Application", name: "*" }] } }), /eventSeverity/);
});

test("a failing sync reaches a Slack receiver, a signed generic-hmac receiver and, after its retries, a receiver that was down; no Secret value in any body", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const slack = await startHttpReceiver();
  const signed = await startHttpReceiver();
  const flaky = await startHttpReceiver(2);
  t.after(() => Promise.all([slack.close(), signed.close(), flaky.close()]));
  const slackToken = "T0KEN-IN-THE-WEBHOOK-PATH-7f3a";
  const hmacKey = "hmac-key-never-in-a-body-91c2";
  const secret = (name: string, data: Record<string, string>) =>
    client.request("POST", `/api/v1/namespaces/${namespace}/secrets`, { body: { apiVersion: "v1", kind: "Secret", metadata: { name }, stringData: data } });
  await secret("slack-url", { address: `${slack.url}/services/${slackToken}` });
  await secret("hmac", { token: hmacKey });
  await create(namespace, "providers", { kind: "Provider", metadata: { name: "slack", labels }, spec: { type: "slack", channel: "#ops", secretRef: { name: "slack-url" } } });
  await create(namespace, "providers", { kind: "Provider", metadata: { name: "signed", labels }, spec: { type: "generic-hmac", address: `${signed.url}/hook`, secretRef: { name: "hmac" } } });
  await create(namespace, "providers", { kind: "Provider", metadata: { name: "flaky", labels }, spec: { type: "generic", address: `${flaky.url}/hook` } });
  for (const provider of ["slack", "signed", "flaky"]) {
    await create(namespace, "alerts", { kind: "Alert", metadata: { name: provider, labels }, spec: { providerRef: { name: provider }, eventSeverity: "error", eventSources: [{ kind: "Application", name: "web-*" }], summary: "cluster test" } });
  }
  const status = await eventually(async () => {
    const provider = await client.request<{ status?: { conditions?: Array<{ type: string; status: string; message: string }> } }>("GET", `${api}/namespaces/${namespace}/providers/slack`);
    const ready = provider.status?.conditions?.find((condition) => condition.type === "Ready");
    const alert = await client.request<{ status?: { conditions?: Array<{ type: string; status: string }> } }>("GET", `${api}/namespaces/${namespace}/alerts/flaky`);
    return ready?.status === "True" && alert.status?.conditions?.find((condition) => condition.type === "Ready")?.status === "True" && ready;
  });
  assert.ok(!status?.message.includes(slackToken), "the Provider's status shows the address without its token");

  const started = Date.now();
  // Its source does not exist: the sync fails (SourceNotFound) and is retried with backoff.
  await create(namespace, "applications", { kind: "Application", metadata: { name: "web-app", labels }, spec: { sourceRef: { kind: "GitRepository", name: "missing" }, path: "./" } });
  await eventually(() => Promise.resolve(slack.received.length >= 1 && signed.received.length >= 1 && flaky.received.length >= 1), { timeoutMs: 30_000 });
  process.stdout.write(`# failed sync to all three receivers (one after two failed attempts): ${Date.now() - started} ms\n`);

  const slackBody = JSON.parse(slack.received[0]?.body ?? "{}") as { channel: string; attachments: Array<{ color: string; title: string; author_name: string; fields: Array<{ title: string; value: string }> }> };
  assert.equal(slack.received[0]?.path, `/services/${slackToken}`);
  assert.equal(slackBody.channel, "#ops");
  assert.equal(slackBody.attachments[0]?.color, "danger");
  assert.equal(slackBody.attachments[0]?.title, "SourceNotFound");
  assert.equal(slackBody.attachments[0]?.author_name, `Application/web-app.${namespace}`);

  const hook = signed.received[0];
  assert.ok(hook);
  assert.equal(hook.headers["x-signature"], `sha256=${createHmac("sha256", hmacKey).update(hook.body).digest("hex")}`);
  const event = JSON.parse(hook.body) as { involvedObject: { kind: string; name: string; namespace: string }; severity: string; reason: string; reportingController: string; metadata: Record<string, string> };
  assert.deepEqual([event.involvedObject.kind, event.involvedObject.name, event.involvedObject.namespace], ["Application", "web-app", namespace]);
  assert.equal(event.severity, "error");
  assert.equal(event.reason, "SourceNotFound");
  assert.equal(event.reportingController, "fjord-controller");
  assert.equal(event.metadata["summary"], "cluster test");

  // Let backoff retries of the sync run: identical failures are rate-limited to one per interval.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  assert.equal(flaky.attempts(), 3, "two refused attempts, then one delivery");
  assert.equal(flaky.received.length, 1, "delivered once");
  assert.equal(slack.received.length, 1, "a repeated identical failure is not sent again within the interval");
  assert.equal(signed.received.length, 1);

  const provider = await eventually(async () => {
    const object = await client.request<{ status?: { lastDeliveryTime?: string } }>("GET", `${api}/namespaces/${namespace}/providers/flaky`);
    return object.status?.lastDeliveryTime !== undefined && object;
  });
  assert.ok(provider.status?.lastDeliveryTime);

  const kubeconfig = (await useCluster()).kubeconfigPath;
  const providers = await runFjord(["get", "providers", "-n", namespace, "--kubeconfig", kubeconfig]);
  assert.equal(providers.code, 0, providers.stderr);
  assert.match(providers.stdout, /^NAME\s+TYPE\s+READY\s+STATUS/m);
  assert.match(providers.stdout, /^slack\s+slack\s+True\s+sends to http:\/\/127\.0\.0\.1:\d+\/\*\*\*/m);
  assert.match(providers.stdout, /^signed\s+generic-hmac\s+True/m);
  assert.ok(!providers.stdout.includes(slackToken), "get providers never shows the token in an address");
  const alerts = await runFjord(["get", "alerts", "-n", namespace, "--kubeconfig", kubeconfig]);
  assert.equal(alerts.code, 0, alerts.stderr);
  assert.match(alerts.stdout, /^flaky\s+flaky\s+error\s+True\s+sends to Provider flaky/m);

  for (const request of [...slack.received, ...signed.received, ...flaky.received]) {
    for (const value of [slackToken, hmacKey]) assert.ok(!request.body.includes(value), `a Secret value in a body sent to ${request.path}`);
  }
});
