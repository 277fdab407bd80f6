// Image update automation end to end: a real registry (distribution), the real Git server, the
// shared control plane and an in-process controller. A tag pushed to the registry becomes a
// commit in Git changing only that tag, which the Application applies to the cluster.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { after, before, test, type TestContext } from "node:test";
import { promisify } from "node:util";
import type { ImagePolicy, ImageRepository, ImageUpdateAutomation } from "../src/api/image-types.ts";
import type { Application } from "../src/api/types.ts";
import type { KubeClient } from "../src/kube/client.ts";
import { isNotFound } from "../src/kube/errors.ts";
import type { KubeObject } from "../src/model/object.ts";
import { createTestNamespace, eventually, useCluster } from "./support/cluster.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";
import { startHttpReceiver } from "./support/http-receiver.ts";
import { startInProcessController, suiteLabels, type InProcessController } from "./support/in-process-controller.ts";
import { startOciRegistry, type OciRegistry } from "./support/oci-registry.ts";

const run = promisify(execFile);

const SUITE = suiteLabels("image-automation");
const api = "/apis/fjord.dev/v1alpha1";
const AUTHOR = { name: "fjord-bot", email: "bot@fjord.test" };

let git: GitServer;
let registry: OciRegistry;
let client: KubeClient;
let controller: InProcessController;

before(async () => {
  controller = await startInProcessController("image-automation");
  client = controller.client;
  [git, registry] = await Promise.all([startGitServer(), startOciRegistry({ mode: "anonymous" })]);
});
after(async () => {
  await controller.stop();
  await Promise.all([git.close(), registry.stop()]);
});

async function get<T extends KubeObject>(apiPath: string): Promise<T | undefined> {
  return client.request<T>("GET", apiPath).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
}

async function create(namespace: string, resource: string, kind: string, name: string, spec: Record<string, unknown>): Promise<void> {
  await client.request("POST", `${api}/namespaces/${namespace}/${resource}`, { body: { apiVersion: "fjord.dev/v1alpha1", kind, metadata: { name, labels: SUITE }, spec } });
}

async function gitOut(repo: string, ...args: string[]): Promise<string> {
  const { stdout } = await run("git", ["--git-dir", path.join(git.root, `${repo}.git`), ...args], { env: { ...process.env, ...git.gitEnv } });
  return stdout;
}
const head = async (repo: string) => (await gitOut(repo, "rev-parse", "refs/heads/main")).trim();
const showFile = (repo: string, file: string) => gitOut(repo, "show", `main:${file}`);

const readyCondition = (object: { status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } } | undefined) =>
  object?.status?.conditions?.find((condition) => condition.type === "Ready");

interface Fixture {
  namespace: string;
  repo: string;
  /** The image's repository in the registry. */
  repository: string;
  image: string;
  automationPath: string;
  policyPath: string;
  describe: () => Promise<string>;
}

/**
 * A namespace with a Git repository holding `files` (under app/), a GitRepository, an optional
 * Application over app/, an ImageRepository for `<namespace>/app` in the registry, an optional
 * ImagePolicy `app`, and an ImageUpdateAutomation over app/.
 */
async function fixture(
  t: TestContext,
  options: {
    tags: Array<{ tag: string; created?: Date }>;
    files: (context: { namespace: string; image: string }) => Record<string, string>;
    policy?: Record<string, unknown>;
    application?: boolean;
  },
): Promise<Fixture> {
  const namespace = await createTestNamespace(await useCluster(), t);
  const repository = `${namespace}/app`;
  for (const { tag, created } of options.tags) await registry.pushImage(repository, [tag], { content: tag, ...(created ? { created } : {}) });
  const image = registry.image(repository);
  const repo = `images-${namespace}`;
  await git.createRepo(repo);
  await git.commitFiles(repo, options.files({ namespace, image }), { message: "initial" });
  await create(namespace, "gitrepositories", "GitRepository", "source", { url: git.repoUrl(repo), ref: { branch: "main" }, interval: "1h" });
  if (options.application !== false) {
    await create(namespace, "applications", "Application", "app", { sourceRef: { kind: "GitRepository", name: "source" }, path: "./app", interval: "1h", prune: true });
  }
  await create(namespace, "imagerepositories", "ImageRepository", "app", { image, interval: "2s", insecure: true });
  if (options.policy) await create(namespace, "imagepolicies", "ImagePolicy", "app", { imageRepositoryRef: { name: "app" }, ...options.policy });
  await create(namespace, "imageupdateautomations", "ImageUpdateAutomation", "images", {
    sourceRef: { kind: "GitRepository", name: "source" },
    git: { checkout: { ref: { branch: "main" } }, commit: { author: AUTHOR } },
    update: { path: "./app", strategy: "Setters" },
    interval: "2s",
  });
  const base = `${api}/namespaces/${namespace}`;
  const describe = async () =>
    JSON.stringify({
      repository: (await get<ImageRepository>(`${base}/imagerepositories/app`))?.status,
      policy: (await get<ImagePolicy>(`${base}/imagepolicies/app`))?.status,
      automation: (await get<ImageUpdateAutomation>(`${base}/imageupdateautomations/images`))?.status,
      application: readyCondition(await get<Application>(`${base}/applications/app`)),
    });
  return { namespace, repo, repository, image, automationPath: `${base}/imageupdateautomations/images`, policyPath: `${base}/imagepolicies/app`, describe };
}

const deployment = (image: string, marker: string, extra = "") => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  # The web tier; comments, quoting and order survive the update.
  labels: {tier: "web"}
${extra}spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: app
          image: ${image}${marker}
          ports: [{containerPort: 8080}]
`;

async function deploymentImage(namespace: string): Promise<string | undefined> {
  const object = await get<{ spec: { template: { spec: { containers: Array<{ image: string }> } } } } & KubeObject>(`/apis/apps/v1/namespaces/${namespace}/deployments/web`);
  return object?.spec.template.spec.containers[0]?.image;
}

/** Waits until the automation has run on the current state and found nothing to change. */
async function settled(fx: Fixture): Promise<string> {
  await eventually(async () => {
    const automation = await get<ImageUpdateAutomation>(fx.automationPath);
    return readyCondition(automation)?.status === "True" && /no updates made/.test(readyCondition(automation)?.message ?? "");
  }, { timeoutMs: 60_000, describe: fx.describe });
  return head(fx.repo);
}

/** The lines a commit removed and added in `file`. */
async function changedLines(repo: string, commit: string, file: string): Promise<{ removed: string[]; added: string[] }> {
  const diff = await gitOut(repo, "diff", "--unified=0", `${commit}~1`, commit, "--", file);
  const lines = diff.split("\n").filter((line) => /^[-+]/.test(line) && !/^(---|\+\+\+) /.test(line));
  return { removed: lines.filter((line) => line.startsWith("-")).map((line) => line.slice(1)), added: lines.filter((line) => line.startsWith("+")).map((line) => line.slice(1)) };
}

/** Pushes `tag`, then waits for the automation's commit and returns it with how long it took. */
async function newTagToCommit(fx: Fixture, before: string, tag: string, created?: Date): Promise<{ commit: string; ms: number }> {
  const started = Date.now();
  await registry.pushImage(fx.repository, [tag], { content: tag, ...(created ? { created } : {}) });
  const commit = await eventually(async () => {
    const current = await head(fx.repo);
    return current !== before ? current : undefined;
  }, { timeoutMs: 60_000, describe: fx.describe });
  return { commit, ms: Date.now() - started };
}

test("image policies: a new tag becomes a commit changing only that tag, and the Deployment runs it", { concurrency: true }, async (t) => {
  await Promise.all([
    t.test("semver", async (t) => {
      const fx = await fixture(t, {
        tags: [{ tag: "1.0.0" }, { tag: "1.1.0" }, { tag: "2.0.0-rc.1" }, { tag: "latest" }],
        policy: { policy: { semver: { range: ">=1.0.0 <2.0.0" } } },
        files: ({ namespace, image }) => ({ "app/web.yaml": deployment(`${image}:1.1.0`, ` # {"$imagepolicy": "${namespace}:app"}`) }),
      });
      const before = await settled(fx);
      const original = await showFile(fx.repo, "app/web.yaml");
      await eventually(async () => (await deploymentImage(fx.namespace)) === `${fx.image}:1.1.0`, { timeoutMs: 60_000, describe: fx.describe });
      // People hear of the update: an Alert on the automation sends its pushed commit to a webhook.
      const webhook = await startHttpReceiver();
      t.after(() => webhook.close());
      await create(fx.namespace, "providers", "Provider", "webhook", { type: "generic", address: `${webhook.url}/fjord` });
      await create(fx.namespace, "alerts", "Alert", "image-updates", { providerRef: { name: "webhook" }, eventSources: [{ kind: "ImageUpdateAutomation", name: "*" }] });
      await eventually(async () => readyCondition((await get(`${api}/namespaces/${fx.namespace}/alerts/image-updates`)) as Parameters<typeof readyCondition>[0])?.status === "True", { timeoutMs: 30_000 });

      const { commit, ms } = await newTagToCommit(fx, before, "1.2.0");
      assert.ok(ms < 30_000, `commit after ${ms} ms`);
      assert.equal(await showFile(fx.repo, "app/web.yaml"), original.replace(`${fx.image}:1.1.0`, `${fx.image}:1.2.0`), "only the tag changed");
      assert.deepEqual(await changedLines(fx.repo, commit, "app/web.yaml"), {
        removed: [`          image: ${fx.image}:1.1.0 # {"$imagepolicy": "${fx.namespace}:app"}`],
        added: [`          image: ${fx.image}:1.2.0 # {"$imagepolicy": "${fx.namespace}:app"}`],
      });
      const message = await gitOut(fx.repo, "log", "-1", "--format=%an <%ae>%n%B", commit);
      assert.match(message, /^fjord-bot <bot@fjord\.test>\nUpdate images\n\n- app\/web\.yaml:17: .*:1\.1\.0 -> .*:1\.2\.0\n/);
      await eventually(async () => (await deploymentImage(fx.namespace)) === `${fx.image}:1.2.0`, { timeoutMs: 30_000, describe: fx.describe });

      const automation = (await get<ImageUpdateAutomation>(fx.automationPath))?.status;
      assert.equal(automation?.lastPushCommit, commit);
      assert.deepEqual(automation?.observedPolicies?.app, { name: fx.image, tag: "1.2.0" });
      assert.equal(automation?.history?.[0]?.commit, commit);
      const policy = (await get<ImagePolicy>(fx.policyPath))?.status;
      assert.deepEqual(policy?.observedPreviousRef, { name: fx.image, tag: "1.1.0" });
      const events = await client.request<{ items: Array<{ reason: string; involvedObject: { kind: string } }> }>("GET", `/api/v1/namespaces/${fx.namespace}/events`);
      assert.equal(events.items.filter((event) => event.involvedObject.kind === "ImageUpdateAutomation" && event.reason === "CommitPushed").length, 1, "one Event per push");
      const pushedEvents = () => webhook.received.map((request) => JSON.parse(request.body) as { reason: string; message: string; involvedObject: { kind: string }; metadata?: { revision?: string } }).filter((event) => event.reason === "CommitPushed");
      const notified = await eventually(() => Promise.resolve(pushedEvents().length > 0 ? pushedEvents() : undefined), { timeoutMs: 30_000, describe: () => JSON.stringify(webhook.received) });
      assert.equal(notified.length, 1, "one notification per push");
      assert.equal(notified[0]?.involvedObject.kind, "ImageUpdateAutomation");
      assert.equal(notified[0]?.metadata?.revision, commit);
      assert.match(notified[0]?.message ?? "", /app\/web\.yaml:17: .*:1\.1\.0 -> .*:1\.2\.0/, "the notification names the old and the new tag");
    }),

    t.test("numerical with extract, through a kustomization's newTag", async (t) => {
      const fx = await fixture(t, {
        tags: [{ tag: "master-a1b2c3d-1700000000" }, { tag: "master-e4f5a6b-1700000100" }, { tag: "feature-x-1800000000" }],
        policy: { policy: { numerical: { order: "asc" } }, filterTags: { pattern: "^master-[a-f0-9]+-(?P<ts>[0-9]+)$", extract: "$ts" } },
        files: ({ namespace, image }) => ({
          "app/web.yaml": deployment(image, ""),
          "app/kustomization.yaml": `resources:\n  - web.yaml\nimages:\n  - name: ${image}\n    newTag: master-e4f5a6b-1700000100 # {"$imagepolicy": "${namespace}:app:tag"}\n`,
        }),
      });
      const before = await settled(fx);
      await eventually(async () => (await deploymentImage(fx.namespace)) === `${fx.image}:master-e4f5a6b-1700000100`, { timeoutMs: 60_000, describe: fx.describe });
      // Sorts before the current tag alphabetically; only the extracted timestamp makes it the latest.
      const { commit } = await newTagToCommit(fx, before, "master-0c0ffee-1700000200");
      assert.deepEqual(await changedLines(fx.repo, commit, "app/kustomization.yaml"), {
        removed: [`    newTag: master-e4f5a6b-1700000100 # {"$imagepolicy": "${fx.namespace}:app:tag"}`],
        added: [`    newTag: master-0c0ffee-1700000200 # {"$imagepolicy": "${fx.namespace}:app:tag"}`],
      });
      assert.equal((await gitOut(fx.repo, "diff", "--name-only", `${commit}~1`, commit)).trim(), "app/kustomization.yaml");
      await eventually(async () => (await deploymentImage(fx.namespace)) === `${fx.image}:master-0c0ffee-1700000200`, { timeoutMs: 30_000, describe: fx.describe });
    }),

    t.test("glob master-*", async (t) => {
      const fx = await fixture(t, {
        tags: [{ tag: "master-001" }, { tag: "master-002" }, { tag: "release-900" }],
        policy: { glob: "master-*", policy: { alphabetical: { order: "asc" } } },
        files: ({ namespace, image }) => ({ "app/web.yaml": deployment(`${image}:master-002`, ` # {"$imagepolicy": "${namespace}:app"}`) }),
      });
      const before = await settled(fx);
      const { commit } = await newTagToCommit(fx, before, "master-003");
      assert.equal((await changedLines(fx.repo, commit, "app/web.yaml")).added.length, 1);
      await eventually(async () => (await deploymentImage(fx.namespace)) === `${fx.image}:master-003`, { timeoutMs: 30_000, describe: fx.describe });
    }),
  ]);
});

test("Flux v1 annotations are honoured without an ImageRepository (newest build wins, imagePullSecrets used) and are not rewritten", async (t) => {
  const day = (n: number) => new Date(Date.UTC(2025, 0, n));
  const annotations = `  annotations:\n    fluxcd.io/automated: "true"\n    fluxcd.io/tag.app: glob:master-*\n`;
  const namespace = await createTestNamespace(await useCluster(), t);
  const repository = `${namespace}/legacy`;
  // Alphabetically master-zzz is last; by build time master-aaa is the newest.
  await registry.pushImage(repository, ["master-zzz"], { content: "zzz", created: day(1) });
  await registry.pushImage(repository, ["master-aaa"], { content: "aaa", created: day(2) });
  await registry.pushImage(repository, ["v9.9.9"], { content: "noise", created: day(9) });
  const image = registry.image(repository);
  // A private image, read with the workload's imagePullSecrets.
  const guarded = await startOciRegistry({ mode: "token" });
  t.after(() => guarded.stop());
  await guarded.pushImage("team/worker", ["1.0.0", "1.0.1"]);
  await client.request("POST", `/api/v1/namespaces/${namespace}/secrets`, {
    body: { metadata: { name: "pull", labels: SUITE }, type: "kubernetes.io/dockerconfigjson", stringData: { ".dockerconfigjson": guarded.dockerConfigJson() } },
  });
  const worker = deployment(`${guarded.image("team/worker")}:1.0.1`, "")
    .replace(/web/g, "worker")
    .replace("metadata:\n  name: worker\n", `metadata:\n  name: worker\n  annotations:\n    fluxcd.io/automated: "true"\n    fluxcd.io/tag.app: semver:~1.0\n`)
    .replace("      containers:\n", "      imagePullSecrets: [{name: pull}]\n      containers:\n");
  const repo = `flux-v1-${namespace}`;
  await git.createRepo(repo);
  await git.commitFiles(
    repo,
    { "app/web.yaml": deployment(`${image}:master-aaa`, "", "").replace("metadata:\n  name: web\n", `metadata:\n  name: web\n${annotations}`), "app/worker.yaml": worker },
    { message: "initial" },
  );
  await create(namespace, "gitrepositories", "GitRepository", "source", { url: git.repoUrl(repo), ref: { branch: "main" }, interval: "1h" });
  await create(namespace, "applications", "Application", "app", { sourceRef: { kind: "GitRepository", name: "source" }, path: "./app", interval: "1h" });
  await create(namespace, "imageupdateautomations", "ImageUpdateAutomation", "images", {
    sourceRef: { kind: "GitRepository", name: "source" },
    git: { commit: { author: AUTHOR } },
    update: { path: "./app", strategy: "Setters" },
    interval: "2s",
  });
  const fx: Fixture = {
    namespace,
    repo,
    repository,
    image,
    automationPath: `${api}/namespaces/${namespace}/imageupdateautomations/images`,
    policyPath: "",
    describe: async () => JSON.stringify((await get<ImageUpdateAutomation>(`${api}/namespaces/${namespace}/imageupdateautomations/images`))?.status),
  };
  const before = await settled(fx);
  const original = await showFile(repo, "app/web.yaml");
  assert.match(original, /fluxcd\.io\/tag\.app: glob:master-\*/);

  const { commit } = await newTagToCommit(fx, before, "master-bbb", new Date());
  assert.equal(await showFile(repo, "app/web.yaml"), original.replace(`${image}:master-aaa`, `${image}:master-bbb`), "only the image changed; the annotations stay");
  assert.match(await gitOut(repo, "log", "-1", "--format=%B", commit), /Deployment\/web\/app|master-aaa -> .*master-bbb/);
  await eventually(async () => (await deploymentImage(namespace)) === `${image}:master-bbb`, { timeoutMs: 30_000, describe: fx.describe });

  const workerBefore = await head(repo);
  await guarded.pushImage("team/worker", ["1.0.2", "1.1.0"]);
  const workerCommit = await eventually(async () => ((await head(repo)) !== workerBefore ? head(repo) : undefined), { timeoutMs: 60_000, describe: fx.describe });
  assert.equal(await showFile(repo, "app/worker.yaml"), worker.replace("team/worker:1.0.1", "team/worker:1.0.2"), "semver:~1.0 keeps 1.0.x");
  assert.equal((await gitOut(repo, "diff", "--name-only", `${workerCommit}~1`, workerCommit)).trim(), "app/worker.yaml");
});

test("bad input: no tag matches, a marker naming a missing policy, malformed YAML: status says so, nothing committed", async (t) => {
  const fx = await fixture(t, {
    tags: [{ tag: "1.0.0" }, { tag: "1.1.0" }],
    policy: { policy: { semver: { range: ">=5.0.0" } } },
    application: false,
    files: ({ namespace, image }) => ({
      "app/web.yaml": deployment(`${image}:1.0.0`, ` # {"$imagepolicy": "${namespace}:app"}`),
      "app/other.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  image: ${image}:1.0.0 # {"$imagepolicy": "${namespace}:missing"}\n`,
      "app/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n  labels: [unclosed\n",
    }),
  });
  const before = await head(fx.repo);
  const policy = await eventually(async () => {
    const current = await get<ImagePolicy>(fx.policyPath);
    // ImageRepositoryNotReady may come first, until the repository's first scan.
    return readyCondition(current)?.reason === "NoMatchingTag" ? current : undefined;
  }, { timeoutMs: 60_000, describe: fx.describe });
  assert.equal(readyCondition(policy)?.status, "False");
  assert.match(readyCondition(policy)?.message ?? "", />=5\.0\.0/);

  const automation = await eventually(async () => {
    const current = await get<ImageUpdateAutomation>(fx.automationPath);
    const ready = readyCondition(current);
    return ready?.status === "False" && /broken\.yaml/.test(ready.message) && /other\.yaml/.test(ready.message) && /web\.yaml.*no tag of/.test(ready.message) ? current : undefined;
  }, { timeoutMs: 60_000, describe: fx.describe });
  const message = readyCondition(automation)?.message ?? "";
  assert.equal(readyCondition(automation)?.reason, "UpdateFailed");
  assert.match(message, new RegExp(`app/other\\.yaml:6: marker names image policy "${fx.namespace}:missing", which does not exist`));
  assert.match(message, new RegExp(`app/web\\.yaml:17: marker names image policy "${fx.namespace}:app", which is not ready: no tag of ImageRepository`));
  assert.match(message, /app\/broken\.yaml:\d+: not valid YAML, left untouched/);
  assert.equal(await head(fx.repo), before, "nothing committed");
});

test("registry down or a wrong password: the ImageRepository says so, without the password, and nothing is committed", async (t) => {
  const fx = await fixture(t, {
    tags: [{ tag: "1.0.0" }],
    policy: { policy: { semver: { range: "1.x" } } },
    application: false,
    files: ({ namespace, image }) => ({ "app/web.yaml": deployment(`${image}:1.0.0`, ` # {"$imagepolicy": "${namespace}:app"}`) }),
  });
  const before = await settled(fx);

  // Wrong password against a token-auth registry.
  const guarded = await startOciRegistry({ mode: "token" });
  t.after(() => guarded.stop());
  await guarded.pushImage("team/private", ["1.0.0"]);
  const password = "not-the-password-4711";
  await client.request("POST", `/api/v1/namespaces/${fx.namespace}/secrets`, {
    body: { metadata: { name: "pull", labels: SUITE }, type: "kubernetes.io/dockerconfigjson", stringData: { ".dockerconfigjson": guarded.dockerConfigJson("fjord", password) } },
  });
  await create(fx.namespace, "imagerepositories", "ImageRepository", "private", { image: guarded.image("team/private"), interval: "2s", insecure: true, secretRef: { name: "pull" } });
  const denied = await eventually(async () => {
    const current = await get<ImageRepository>(`${api}/namespaces/${fx.namespace}/imagerepositories/private`);
    return readyCondition(current)?.status === "False" ? current : undefined;
  }, { timeoutMs: 60_000 });
  assert.equal(readyCondition(denied)?.reason, "ScanFailed");
  assert.match(readyCondition(denied)?.message ?? "", /unauthorized|401/);
  assert.ok(!JSON.stringify(denied).includes(password), "no password in the status");

  // The registry goes away: the repository says so, with an Event; Git is left alone.
  const down = await startOciRegistry({ mode: "anonymous" });
  await down.pushImage("team/gone", ["1.0.0"]);
  await create(fx.namespace, "imagerepositories", "ImageRepository", "gone", { image: down.image("team/gone"), interval: "2s", insecure: true });
  await eventually(async () => readyCondition(await get<ImageRepository>(`${api}/namespaces/${fx.namespace}/imagerepositories/gone`))?.status === "True", { timeoutMs: 60_000 });
  await down.stop();
  const unreachable = await eventually(async () => {
    const current = await get<ImageRepository>(`${api}/namespaces/${fx.namespace}/imagerepositories/gone`);
    return readyCondition(current)?.status === "False" ? current : undefined;
  }, { timeoutMs: 60_000 });
  assert.match(readyCondition(unreachable)?.message ?? "", /unreachable|refused|connect/i);
  const events = await client.request<{ items: Array<{ reason: string; involvedObject: { name: string } }> }>("GET", `/api/v1/namespaces/${fx.namespace}/events`);
  assert.ok(events.items.some((event) => event.involvedObject.name === "gone" && event.reason === "ScanFailed"));
  assert.ok(!JSON.stringify(events.items).includes(password), "no password in Events");

  // Later automation runs change nothing either.
  const failedAt = Date.now();
  await eventually(async () => Date.parse((await get<ImageUpdateAutomation>(fx.automationPath))?.status?.lastAutomationRunTime ?? "") > failedAt + 1000, { timeoutMs: 30_000, describe: fx.describe });
  assert.equal(await head(fx.repo), before, "nothing committed");
});

test("a protected branch: the push is refused, status says so with the server's message, and the change lands once allowed", async (t) => {
  const fx = await fixture(t, {
    tags: [{ tag: "1.0.0" }],
    policy: { policy: { semver: { range: "1.x" } } },
    application: false,
    files: ({ namespace, image }) => ({ "app/web.yaml": deployment(`${image}:1.0.0`, ` # {"$imagepolicy": "${namespace}:app"}`) }),
  });
  const before = await settled(fx);
  await git.installHook(fx.repo, "pre-receive", `#!/bin/sh\necho "GL-HOOK-ERR: main is a protected branch; open a merge request" >&2\nexit 1\n`);
  await registry.pushImage(fx.repository, ["1.1.0"], { content: "1.1.0" });
  const refused = await eventually(async () => {
    const current = await get<ImageUpdateAutomation>(fx.automationPath);
    return readyCondition(current)?.reason === "PushRejected" ? current : undefined;
  }, { timeoutMs: 60_000, describe: fx.describe });
  assert.match(readyCondition(refused)?.message ?? "", /main is a protected branch; open a merge request/);
  assert.match(readyCondition(refused)?.message ?? "", /1 change\(s\) not pushed/);
  assert.equal(await head(fx.repo), before, "nothing pushed, nothing forced");

  await git.installHook(fx.repo, "pre-receive", "#!/bin/sh\nexit 0\n");
  const commit = await eventually(async () => ((await head(fx.repo)) !== before ? head(fx.repo) : undefined), { timeoutMs: 60_000, describe: fx.describe });
  assert.match(await showFile(fx.repo, "app/web.yaml"), /:1\.1\.0 # /);
  await eventually(async () => readyCondition(await get<ImageUpdateAutomation>(fx.automationPath))?.status === "True", { timeoutMs: 30_000, describe: fx.describe });
  assert.equal((await get<ImageUpdateAutomation>(fx.automationPath))?.status?.lastPushCommit, commit);
});
