// History and audit against the real API server and a real git server: a `fjord controller`
// process records each sync and each reconcile/suspend/resume request in the Application's
// history ConfigMap; `fjord history` and `fjord audit` read it back. The controller is stopped
// and started again in the middle, as an upgrade would.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import type { Application } from "../src/api/types.ts";
import { installCustomResourceDefinitions } from "../src/controller/crd-install.ts";
import type { HistoryEntry } from "../src/history/entry.ts";
import { entriesOf, historyConfigMapName, type HistoryConfigMap } from "../src/history/store.ts";
import { KubeClient } from "../src/kube/client.ts";
import { decodeCompressedJson } from "../src/util/compressed-json.ts";
import { runFjord } from "./support/cli.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";
import { startControllerProcess, type ControllerProcess } from "./support/controller-process.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";
import { requestReconcile } from "./support/reconcile-request.ts";
import { logRequests } from "./support/request-log.ts";
import { HistoryRecorder } from "../src/history/recorder.ts";
import { syncEntry, operationEntry } from "../src/controller/application-history.ts";
import { operationAnnotation } from "../src/history/operation.ts";
import { gzipSync } from "node:zlib";
import { createHash } from "node:crypto";

const SUITE = "fjord.dev/test-suite=history";
const SECRET_VALUE = "s3cr3t-history-value-7f1c";
const api = "/apis/fjord.dev/v1alpha1/namespaces";

let client: KubeClient;
let kubeconfig: string;
let git: GitServer;
let work: string;
let controller: ControllerProcess | undefined;

const startController = async () => {
  const started = await startControllerProcess({ kubeconfig, logFile: path.join(work, `controller-${Date.now()}.log`), cacheDir: work, args: ["--watch-label-selector", SUITE, "--history-limit", "8"] });
  await started.ready();
  return started;
};

before(async () => {
  kubeconfig = (await useCluster()).kubeconfigPath;
  client = KubeClient.load({ kubeconfig });
  await installCustomResourceDefinitions(client);
  git = await startGitServer();
  work = await mkdtemp(path.join(os.tmpdir(), "fjord-history-"));
  controller = await startController();
});
after(async () => {
  await controller?.stop();
  client.close();
  await git.close();
  await rm(work, { recursive: true, force: true });
});

const fjord = async (...args: string[]) => {
  const result = await runFjord([...args, "--kubeconfig", kubeconfig]);
  assert.equal(result.code, 0, `fjord ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
};
const configMap = (name: string, value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  value: "${value}"\n`;
const secret = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: "${SECRET_VALUE}"\n`;

test("three commits make three history entries with their authors and change sets; --at, restart, bounds, audit, no Secret value", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repo = `history-${namespace}`;
  await git.createRepo(repo);
  const authors = [
    { name: "Ada Lovelace", email: "ada@example.com" },
    { name: "Grace Hopper", email: "grace@example.com" },
    { name: "Linus Torvalds", email: "linus@example.com" },
  ];
  const commits: Record<string, string | null>[] = [
    { "app/settings.yaml": configMap("settings", "one"), "app/db.yaml": secret },
    { "app/settings.yaml": configMap("settings", "two") },
    { "app/settings.yaml": null, "app/extra.yaml": configMap("extra", "three") },
  ];
  const labels = { "fjord.dev/test-suite": "history" };
  await git.commitFiles(repo, commits[0] ?? {}, { message: "first: settings and db\n\nbody line", author: authors[0] });
  await client.request("POST", `${api}/${namespace}/gitrepositories`, { body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "source", labels }, spec: { url: git.repoUrl(repo), interval: "1h" } } });
  await client.request("POST", `${api}/${namespace}/applications`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "web", labels }, spec: { sourceRef: { kind: "GitRepository", name: "source" }, path: "./app", interval: "1h", prune: true } },
  });
  const history = async () => JSON.parse(await fjord("history", "web", "-n", namespace, "-o", "json")) as HistoryEntry[];
  const syncs = async () => (await history()).filter((entry) => entry.action === "sync");
  await eventually(async () => (await syncs()).length === 1, { timeoutMs: 60_000, describe: async () => JSON.stringify(await history()) });

  for (const [index, files] of commits.slice(1).entries()) {
    await git.commitFiles(repo, files, { message: ["second: settings two", "third: extra instead of settings"][index] ?? "", author: authors[index + 1] });
    await fjord("reconcile", "app", "web", "-n", namespace, "--with-source");
  }
  const entries = await history();
  const synced = entries.filter((entry) => entry.action === "sync");
  assert.deepEqual(synced.map((entry) => entry.author), authors.map((author) => `${author.name} <${author.email}>`).reverse(), "newest first, each with its commit's author");
  assert.deepEqual(synced.map((entry) => entry.subject), ["third: extra instead of settings", "second: settings two", "first: settings and db"]);
  assert.ok(synced.every((entry) => entry.result === "applied" && entry.committer.length > 0 && entry.revision.startsWith("main@sha1:")));
  const changes = (entry: HistoryEntry | undefined) => entry?.changes.map((change) => `${change.action} ${change.kind}/${change.name}`).sort();
  assert.deepEqual(changes(synced[2]), ["created ConfigMap/settings", "created Secret/db"]);
  assert.deepEqual(changes(synced[1]), ["configured ConfigMap/settings"]);
  assert.deepEqual(changes(synced[0]), ["created ConfigMap/extra", "deleted ConfigMap/settings"]);
  // Who asked: the user the API server authenticates the CLI's kubeconfig as.
  const review = await client.request<{ status: { userInfo: { username: string } } }>("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", { body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" } });
  const requests = entries.filter((entry) => entry.action === "reconcile");
  assert.equal(requests.length, 2);
  assert.ok(requests.every((entry) => entry.actor === review.status.userInfo.username && entry.actor !== "unknown"));

  // --at between the second and the third sync answers the second.
  const [third, second] = synced;
  assert.ok(third && second);
  const between = new Date((Date.parse(second.finishedAt) + Date.parse(third.finishedAt)) / 2).toISOString();
  const at = JSON.parse(await fjord("history", "web", "-n", namespace, "--at", between, "-o", "json")) as HistoryEntry[];
  assert.equal(at[0]?.revision, second.revision);
  assert.match(await fjord("history", "web", "-n", namespace, "--at", between), new RegExp(`ran ${second.revision.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\n  since:   ${second.finishedAt}`));

  // A controller restart keeps the history; a resync that changes nothing (the operation annotation still there) writes none.
  await controller?.stop();
  controller = await startController();
  const path_ = `/api/v1/namespaces/${namespace}/configmaps/${historyConfigMapName("web")}`;
  const before = await client.request<HistoryConfigMap & { metadata: { resourceVersion: string } }>("GET", path_);
  const requested = await requestReconcile(client, `${api}/${namespace}/applications/web`);
  await eventually(async () => (await client.request<Application>("GET", `${api}/${namespace}/applications/web`)).status?.lastHandledReconcileAt === requested, { timeoutMs: 60_000 });
  const afterRestart = await client.request<HistoryConfigMap & { metadata: { resourceVersion: string } }>("GET", path_);
  assert.equal(afterRestart.metadata.resourceVersion, before.metadata.resourceVersion, "an idle resync after a restart adds nothing, not even the operation seen before");
  assert.deepEqual(await history(), entries);

  // Suspend and resume are recorded with the actor; past --history-limit=8 the oldest entries go.
  await fjord("suspend", "app", "web", "-n", namespace);
  await eventually(async () => (await history()).some((entry) => entry.action === "suspend"), { timeoutMs: 30_000 });
  await fjord("resume", "app", "web", "-n", namespace);
  await fjord("reconcile", "app", "web", "-n", namespace);
  await fjord("reconcile", "app", "web", "-n", namespace);
  const bounded = await eventually(async () => {
    const now = await history();
    return now.filter((entry) => entry.action === "reconcile").length === 4 ? now : undefined;
  }, { timeoutMs: 30_000, describe: async () => JSON.stringify(await history()) });
  assert.equal(bounded.length, 8, "bounded by --history-limit");
  assert.deepEqual(bounded.slice(0, 4).map((entry) => entry.action), ["reconcile", "reconcile", "resume", "suspend"]);
  assert.ok(!bounded.some((entry) => entry.revision === synced[2]?.revision && entry.action === "sync"), "the oldest sync dropped off");
  assert.ok(bounded.every((entry) => entry.action === "sync" || entry.actor === review.status.userInfo.username));

  // The audit trail: one self-contained line per entry, in JSON lines and CSV.
  const audit = (await fjord("audit", "-n", namespace)).trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(audit.length, 8);
  assert.ok(audit.every((line) => line.namespace === namespace && line.application === "web" && typeof line.time === "string" && typeof line.action === "string"));
  assert.deepEqual(audit.find((line) => line.action === "suspend")?.actor, review.status.userInfo.username);
  const csv = await fjord("audit", "-n", namespace, "-o", "csv", "--since", second.startedAt);
  assert.match(csv.split("\n")[0] ?? "", /^time,namespace,application,action,actor,result,revision,author,subject,objects$/);
  assert.match(csv, /created ConfigMap\/.*extra; deleted ConfigMap\/.*settings/);
  assert.equal((await fjord("audit", "-n", namespace, "--until", "2000-01-01T00:00:00Z")).trim(), "");

  // The controller's structured log and Events carry the same records: every audit line of this
  // namespace appears in a controller log as an `audit` record, and each manual operation left an
  // Event naming who asked.
  const logged = (await Promise.all((await readdir(work)).filter((file) => file.startsWith("controller-")).map((file) => readFile(path.join(work, file), "utf8"))))
    .join("\n")
    .split("\n")
    .flatMap((line) => {
      try {
        const record = JSON.parse(line) as { msg?: string; audit?: Record<string, unknown> };
        return record.msg === "audit" && record.audit?.namespace === namespace ? [JSON.stringify(record.audit)] : [];
      } catch {
        return [];
      }
    });
  for (const line of audit) assert.ok(logged.includes(JSON.stringify(line)), `audit line missing from the controller's log: ${JSON.stringify(line)}`);
  const operationEvents = await client.request<{ items: Array<{ reason: string; message: string; involvedObject: { name: string } }> }>("GET", `/api/v1/namespaces/${namespace}/events`);
  const requestedBy = operationEvents.items.filter((event) => event.reason === "OperationRequested" && event.involvedObject.name === "web").map((event) => event.message);
  for (const action of ["suspend", "resume", "reconcile"]) {
    assert.ok(requestedBy.some((message) => message.startsWith(`${action} requested by ${review.status.userInfo.username} at `)), `no OperationRequested Event for ${action}: ${JSON.stringify(requestedBy)}`);
  }

  // What a person sees (printed for the README and for whoever reads the test log).
  for (const args of [["history", "web", "-n", namespace], ["history", "web", "-n", namespace, "--at", between], ["audit", "-n", namespace, "-o", "csv"]]) {
    t.diagnostic(`$ fjord ${args.join(" ")}\n${await fjord(...args)}`);
  }
  // No Secret value anywhere: history, audit exports, and the stored ConfigMap decoded.
  const stored = await client.request<HistoryConfigMap>("GET", path_);
  const exports = [
    JSON.stringify(await history()),
    await fjord("history", "web", "-n", namespace, "-o", "yaml"),
    await fjord("history", "web", "-n", namespace),
    await fjord("audit", "-A"),
    await fjord("audit", "-n", namespace, "-o", "csv"),
    JSON.stringify(decodeCompressedJson(stored.binaryData?.["history.json.gz"] ?? "", "test")),
    JSON.stringify(entriesOf(stored)),
    logged.join("\n"),
    JSON.stringify(operationEvents),
  ];
  for (const text of exports) {
    assert.ok(!text.includes(SECRET_VALUE) && !text.includes(Buffer.from(SECRET_VALUE).toString("base64")), "a Secret value leaked into history, audit output, the audit log or Events");
  }
  // The history goes with its Application (owner reference, garbage collected).
  assert.equal(stored.metadata.ownerReferences?.[0]?.kind, "Application");
});

test("the recorder: requests per recorded reconcile, none for an idle one, age bound, bytes per entry, a hostile ConfigMap", async (t) => {
  const namespace = await createTestNamespace(await useCluster(), t);
  const app = (await client.request<Application>("POST", `${api}/${namespace}/applications`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "bench" }, spec: { sourceRef: { kind: "GitRepository", name: "none" }, path: "./", suspend: true } },
  }));
  const owner = { namespace, name: "bench", uid: app.metadata.uid ?? "" };
  const log = logRequests(client);
  let now = new Date("2026-01-01T00:00:00Z");
  const recorder = new HistoryRecorder({ limit: 100, maxAgeMs: 30 * 24 * 3600 * 1000 }, { now: () => now });
  const sync = (i: number) =>
    syncEntry({
      // Real commit SHAs do not compress: random ones, or the figure would flatter.
      revision: `main@sha1:${createHash("sha1").update(String(i)).digest("hex")}`,
      artifact: { author: "Ada Lovelace <ada@example.com>", committer: "GitHub <noreply@github.com>", message: `deploy web v1.${i}\n\nlong body` },
      startedAt: new Date(now.getTime() - 2000).toISOString(),
      finishedAt: now.toISOString(),
      // A typical deploy: a Deployment and its ConfigMap configured, one object created.
      changes: [
        { action: "configured", kind: "Deployment", namespace, name: "web" },
        { action: "configured", kind: "ConfigMap", namespace, name: `web-config-${i}` },
        { action: "created", kind: "Service", namespace, name: `web-canary-${i}` },
      ],
      driftReverts: [],
    });
  const rounds = 120;
  for (let i = 0; i < rounds; i++) {
    now = new Date(now.getTime() + 3600 * 1000);
    await recorder.record(owner, [sync(i)], log.client);
  }
  const writes = log.requests.filter((request) => request.method !== "GET").length;
  const gets = log.requests.filter((request) => request.method === "GET").length;
  assert.equal(writes, rounds, "one write per recorded reconcile");
  assert.equal(gets, 1, "read once; later appends start from the recorder's own copy of what it wrote");
  const stored = await client.request<HistoryConfigMap>("GET", `/api/v1/namespaces/${namespace}/configmaps/${historyConfigMapName("bench")}`);
  const entries = entriesOf(stored);
  assert.equal(entries.length, 100, "bounded by count");
  const bytes = stored.binaryData?.["history.json.gz"]?.length ?? 0;
  t.diagnostic(`bench: history ${entries.length} entries in ${bytes} bytes (${(bytes / entries.length).toFixed(0)} bytes per entry, gzip+base64); 1 write per reconcile that adds an entry (plus 1 GET after a restart), 0 for an idle one; 1,000 Applications x 100 entries ~ ${((bytes * 1000) / 1024 / 1024).toFixed(1)} MiB in etcd`);

  // A new Application's first entry is one create, with no read; someone else's edit meanwhile costs a conflict and a read, and is kept.
  const fresh = new HistoryRecorder({ limit: 100, maxAgeMs: 30 * 24 * 3600 * 1000 }, { now: () => now });
  const newApp = await client.request<Application>("POST", `${api}/${namespace}/applications`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "brand-new" }, spec: { sourceRef: { kind: "GitRepository", name: "none" }, path: "./", suspend: true } },
  });
  const newOwner = { namespace, name: "brand-new", uid: newApp.metadata.uid ?? "" };
  const mark = log.requests.length;
  await fresh.record(newOwner, [sync(500)], log.client, true);
  assert.deepEqual(log.requests.slice(mark).map((request) => request.method), ["POST"]);
  await client.request("PATCH", `/api/v1/namespaces/${namespace}/configmaps/${historyConfigMapName("brand-new")}`, { body: { metadata: { labels: { edited: "by-hand" } } }, contentType: "application/merge-patch+json" });
  await fresh.record(newOwner, [sync(501)], log.client);
  assert.deepEqual(log.requests.slice(mark + 1).map((request) => request.method), ["PUT", "GET", "PUT"], "a stale copy conflicts, is read again and merged");
  assert.equal(entriesOf(await client.request<HistoryConfigMap>("GET", `/api/v1/namespaces/${namespace}/configmaps/${historyConfigMapName("brand-new")}`)).length, 2);

  // An operation seen again (its annotation stays on the Application) and an idle reconcile send nothing.
  const requestedApp = { ...app, metadata: { ...app.metadata, annotations: operationAnnotation({ action: "suspend", actor: "alice", at: now.toISOString() }) } } as Application;
  const operation = operationEntry(requestedApp);
  assert.ok(operation);
  await recorder.record(owner, [operation], log.client);
  const before = log.requests.length;
  await recorder.record(owner, [operation], log.client);
  await recorder.record(owner, [], log.client);
  assert.equal(log.requests.length, before, "nothing sent for an operation already recorded or an idle reconcile");
  // A new recorder (a restarted controller) reads once and does not add it twice.
  const reportedAfterRestart: HistoryEntry[] = [];
  const restarted = new HistoryRecorder({ limit: 100, maxAgeMs: 30 * 24 * 3600 * 1000 }, { now: () => now, onRecorded: (_, added) => reportedAfterRestart.push(...added) });
  await restarted.record(owner, [operation], client);
  assert.deepEqual(reportedAfterRestart, [], "an operation already stored is not logged or announced again after a restart");
  assert.equal(entriesOf(await client.request<HistoryConfigMap>("GET", `/api/v1/namespaces/${namespace}/configmaps/${historyConfigMapName("bench")}`)).filter((entry) => entry.action === "suspend").length, 1);

  // The age bound: 40 days later, entries older than 30 days are gone with the next write.
  now = new Date(now.getTime() + 40 * 24 * 3600 * 1000);
  await recorder.record(owner, [sync(999)], log.client);
  const aged = await loadEntries(namespace);
  assert.deepEqual(aged.map((entry) => entry.revision), [sync(999).revision]);

  // A hostile edit: a gzip bomb in the ConfigMap is refused by readers without expanding, and the next write replaces it.
  await client.request("PATCH", `/api/v1/namespaces/${namespace}/configmaps/${historyConfigMapName("bench")}`, {
    body: { binaryData: { "history.json.gz": gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 }).toString("base64") } },
    contentType: "application/merge-patch+json",
  });
  const unreadable = await runFjord(["history", "bench", "-n", namespace, "--kubeconfig", kubeconfig]);
  assert.notEqual(unreadable.code, 0);
  assert.match(unreadable.stderr, /does not hold a readable history/);
  await recorder.record(owner, [sync(1000)], log.client);
  assert.deepEqual((await loadEntries(namespace)).map((entry) => entry.revision), [sync(1000).revision]);
});

async function loadEntries(namespace: string): Promise<HistoryEntry[]> {
  return entriesOf(await client.request<HistoryConfigMap>("GET", `/api/v1/namespaces/${namespace}/configmaps/${historyConfigMapName("bench")}`));
}
