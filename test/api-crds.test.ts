import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { installCustomResourceDefinitions } from "../src/controller/crd-install.ts";
import { API_VERSION, APPLICATION_KIND, GIT_REPOSITORY_KIND, GROUP, HISTORY_LIMIT, VERSION } from "../src/api/types.ts";
import type { Application, GitRepository } from "../src/api/types.ts";
import { PUSH_HISTORY_LIMIT, type ImagePolicy, type ImageRepository, type ImageUpdateAutomation } from "../src/api/image-types.ts";
import { KubeClient } from "../src/kube/client.ts";
import { KubeApiError } from "../src/kube/errors.ts";
import type { KubeObject } from "../src/model/object.ts";
import { createTestNamespace, useCluster } from "./support/cluster.ts";

// The CRDs are cluster-scoped and shared with every other test file of the run: they are
// applied (idempotently) once per file and never deleted.
let installed: Promise<void> | undefined;

async function setup(t: TestContext) {
  const cluster = await useCluster();
  const client = KubeClient.load({ kubeconfig: cluster.kubeconfigPath });
  t.after(() => client.close());
  installed ??= installCustomResourceDefinitions(client);
  await installed;
  const namespace = await createTestNamespace(cluster, t);
  const collection = (resource: string) => `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${resource}`;
  const create = <T extends KubeObject>(resource: string, object: KubeObject) => client.request<T>("POST", collection(resource), { body: object });
  return { client, namespace, collection, create };
}

const gitRepository = (spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: API_VERSION,
  kind: GIT_REPOSITORY_KIND,
  metadata: { name: "platform" },
  spec: { url: "https://git.example/platform.git", ...spec },
});

const application = (spec: Record<string, unknown> = {}, name = "shop"): KubeObject => ({
  apiVersion: API_VERSION,
  kind: APPLICATION_KIND,
  metadata: { name },
  spec: { sourceRef: { kind: GIT_REPOSITORY_KIND, name: "platform" }, path: "./clusters/prod", ...spec },
});

/** The API server's 422 message for `object`, which must be refused. */
async function refusal(create: () => Promise<unknown>): Promise<string> {
  const error = await create().then(
    () => assert.fail("the API server accepted an invalid object"),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof KubeApiError, String(error));
  assert.equal(error.statusCode, 422, error.message);
  return error.message;
}

test("valid objects are accepted and the server fills in the defaults", async (t) => {
  const { create } = await setup(t);
  const repository = await create<GitRepository>("gitrepositories", gitRepository({ ref: { branch: "main" } }));
  assert.equal(repository.spec.interval, "1m");
  assert.equal(repository.spec.timeout, "60s");
  assert.deepEqual(repository.spec.ref, { branch: "main" });

  const app = await create<Application>("applications", application());
  assert.equal(app.spec.interval, "10m");
  assert.equal(app.spec.timeout, "5m");
  assert.equal(app.spec.prune, false);
  assert.equal(app.spec.selfHeal, true);
  assert.equal(app.spec.wait, false);

  const explicit = await create<Application>(
    "applications",
    application(
      {
        interval: "1h30m",
        retryInterval: "30s",
        prune: true,
        selfHeal: false,
        targetNamespace: "shop",
        healthChecks: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", namespace: "shop" }],
        dependsOn: [{ name: "infra", namespace: "platform" }],
        serviceAccountName: "shop-deployer",
      },
      "explicit",
    ),
  );
  assert.equal(explicit.spec.interval, "1h30m");
  assert.equal(explicit.spec.prune, true);
  assert.equal(explicit.spec.selfHeal, false);
});

test("a commit with a branch hint, an scp-like URL and a secretRef are accepted", async (t) => {
  const { create } = await setup(t);
  const repository = await create<GitRepository>(
    "gitrepositories",
    gitRepository({ url: "git@git.example:platform.git", ref: { commit: "a".repeat(40), branch: "main" }, secretRef: { name: "deploy-key" } }),
  );
  assert.equal(repository.spec.url, "git@git.example:platform.git");
});

test("invalid GitRepositories are refused with a message naming the problem", async (t) => {
  const { create } = await setup(t);
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ["bad url scheme", { url: "ftp://git.example/platform.git" }, /spec\.url: Invalid value: .*url must start with https:\/\/, http:\/\/ or ssh:\/\/, or be scp-like/],
    ["bad interval", { interval: "5 minutes" }, /spec\.interval.*should match/],
    ["bad timeout", { timeout: "60" }, /spec\.timeout.*should match/],
    ["two refs", { ref: { tag: "v1.0.0", semver: ">=1.0.0" } }, /ref must set exactly one of branch, tag, semver, name or commit/],
    ["branch and tag", { ref: { branch: "main", tag: "v1.0.0" } }, /ref must set exactly one/],
    ["empty ref", { ref: {} }, /ref must set exactly one/],
    ["short commit", { ref: { commit: "abc123" } }, /spec\.ref\.commit.*should match/],
    ["secretRef without a name", { secretRef: {} }, /spec\.secretRef\.name: Required value/],
  ];
  for (const [what, spec, expected] of cases) {
    assert.match(await refusal(() => create("gitrepositories", gitRepository(spec))), expected, what);
  }
  const withoutUrl = gitRepository();
  delete (withoutUrl.spec as Record<string, unknown>).url;
  assert.match(await refusal(() => create("gitrepositories", withoutUrl)), /spec\.url: Required value/);
});

test("attack 4: a GitRepository with a file:// URL, a local path or a remote helper is refused by the API server", async (t) => {
  const { create } = await setup(t);
  for (const url of ["file:///var/cache/fjord/git/other-team.git", "/var/cache/fjord/artifacts", "./a:b", "/x:y", "ext::sh -c touch% /tmp/pwned", "fd::3", "ssh://-oProxyCommand=x/y"]) {
    const message = await refusal(() => create("gitrepositories", gitRepository({ url })));
    assert.match(message, /spec\.url: Invalid value: .*file:\/\/ and local paths are refused: serve the repository over HTTPS or SSH/, url);
  }
  const pathLike = await refusal(() => create("gitrepositories", gitRepository({ secretRef: { name: "../team-b/git" } })));
  assert.match(pathLike, /spec\.secretRef\.name.*should match/);
  for (const url of ["https://git.example/a.git", "http://127.0.0.1:8080/a.git", "ssh://git@git.example:2222/a.git", "git@git.example:a.git"]) {
    const created = await create<GitRepository>("gitrepositories", { ...gitRepository({ url }), metadata: { generateName: "ok-" } });
    assert.equal(created.spec.url, url);
  }
});

test("invalid Applications are refused with a message naming the problem", async (t) => {
  const { create } = await setup(t);
  const cases: Array<[string, KubeObject, RegExp]> = [
    ["missing path", application({ path: undefined }), /spec\.path: Required value/],
    ["absolute path", application({ path: "/etc" }), /path must be relative to the repository root/],
    ["path leaving the repository", application({ path: "apps/../../secrets" }), /path must not contain '\.\.' segments/],
    [
      "source kind",
      application({ sourceRef: { kind: "OCIRepository", name: "platform" } }),
      /spec\.sourceRef\.kind: Unsupported value: "OCIRepository": supported values: "GitRepository"/,
    ],
    ["source without a name", application({ sourceRef: { kind: GIT_REPOSITORY_KIND } }), /spec\.sourceRef\.name: Required value/],
    ["bad interval", application({ interval: "10 min" }), /spec\.interval.*should match/],
    ["bad retryInterval", application({ retryInterval: "-1s" }), /spec\.retryInterval.*should match/],
    ["bad targetNamespace", application({ targetNamespace: "Shop_Prod" }), /spec\.targetNamespace.*should match/],
    ["prune as a string", application({ prune: "yes" }), /spec\.prune: Invalid value: "string": spec\.prune in body must be of type boolean/],
    ["health check without a kind", application({ healthChecks: [{ apiVersion: "apps/v1", name: "web" }] }), /spec\.healthChecks\[0\]\.kind: Required value/],
    ["depends on itself", application({ dependsOn: [{ name: "shop" }] }), /an Application cannot depend on itself/],
    [
      "a decryption Secret name that spells a path",
      application({ decryption: { provider: "sops", secretRef: { name: "../../team-b/secrets/keys" } } }),
      /spec\.decryption\.secretRef\.name.*should match/,
    ],
  ];
  for (const [what, object, expected] of cases) {
    assert.match(await refusal(() => create("applications", object)), expected, what);
  }
});

test("status is a subresource: written through /status only, without bumping the generation", async (t) => {
  const { client, collection, create } = await setup(t);
  const created = await create<GitRepository>("gitrepositories", gitRepository());
  assert.equal(created.status, undefined);
  const path = `${collection("gitrepositories")}/platform`;
  const status = {
    observedGeneration: 1,
    artifact: {
      revision: `main@sha1:${"b".repeat(40)}`,
      commit: "b".repeat(40),
      author: "Ada <ada@example.com>",
      date: "2026-01-02T03:04:05+01:00",
      message: "Scale web to three replicas",
      lastUpdateTime: "2026-01-02T03:05:00Z",
    },
    conditions: [{ type: "Ready", status: "True", observedGeneration: 1, lastTransitionTime: "2026-01-02T03:05:00Z", reason: "Succeeded", message: "stored artifact" }],
  };
  const merge = (target: string, body: unknown) => client.request<GitRepository>("PATCH", target, { body, contentType: "application/merge-patch+json" });

  const withStatus = await merge(`${path}/status`, { status, spec: { interval: "7m" } });
  assert.deepEqual(withStatus.status, status);
  assert.equal(withStatus.spec.interval, "1m", "a /status write ignores spec");
  assert.equal(withStatus.metadata.generation, 1, "a status write does not bump the generation");

  const updated = await merge(path, { spec: { interval: "2m" }, status: { artifact: { revision: "forged" } } });
  assert.equal(updated.spec.interval, "2m");
  assert.equal(updated.status?.artifact?.revision, status.artifact.revision, "a main-resource write ignores status");
  assert.equal(updated.metadata.generation, 2);

  const invalid = await refusal(() => merge(`${path}/status`, { status: { conditions: [{ type: "Ready", status: "Maybe" }] } }));
  assert.match(invalid, /status\.conditions\[0\]\.status: Unsupported value: "Maybe"/);
});

test("kubectl get shows the printer columns", async (t) => {
  const { client, collection, create } = await setup(t);
  await create("gitrepositories", gitRepository());
  await create("applications", application());
  await client.request("PATCH", `${collection("applications")}/shop/status`, {
    body: {
      status: {
        lastAppliedRevision: `main@sha1:${"c".repeat(40)}`,
        conditions: [{ type: "Ready", status: "False", lastTransitionTime: "2026-01-02T03:05:00Z", reason: "HealthCheckFailed", message: "Deployment/shop/web not ready" }],
      },
    },
    contentType: "application/merge-patch+json",
  });
  interface Table {
    columnDefinitions: Array<{ name: string }>;
    rows: Array<{ cells: unknown[] }>;
  }
  const table = (resource: string) => client.request<Table>("GET", collection(resource), { accept: "application/json;as=Table;g=meta.k8s.io;v=v1" });

  const repositories = await table("gitrepositories");
  assert.deepEqual(repositories.columnDefinitions.map((column) => column.name), ["Name", "URL", "Revision", "Ready", "Status", "Age"]);
  assert.deepEqual(repositories.rows[0]?.cells.slice(0, 2), ["platform", "https://git.example/platform.git"]);

  const applications = await table("applications");
  assert.deepEqual(applications.columnDefinitions.map((column) => column.name), ["Name", "Source", "Path", "Revision", "Ready", "Status", "Age"]);
  assert.deepEqual(applications.rows[0]?.cells.slice(0, 6), [
    "shop",
    "platform",
    "./clusters/prod",
    `main@sha1:${"c".repeat(40)}`,
    "False",
    "Deployment/shop/web not ready",
  ]);
});

test("discovery lists the short names and the fjord category", async (t) => {
  const { client } = await setup(t);
  const discovery = await client.request<{ resources: Array<{ name: string; kind: string; shortNames?: string[]; categories?: string[] }> }>(
    "GET",
    `/apis/${GROUP}/${VERSION}`,
  );
  const byName = new Map(discovery.resources.map((resource) => [resource.name, resource]));
  assert.deepEqual(byName.get("gitrepositories")?.shortNames, ["fgitrepo"]);
  assert.deepEqual(byName.get("applications")?.shortNames, ["fapp"]);
  assert.deepEqual(byName.get("applications")?.categories, ["fjord"]);
  assert.ok(byName.has("applications/status") && byName.has("gitrepositories/status"));
});

const imageRepository = (spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: API_VERSION,
  kind: "ImageRepository",
  metadata: { generateName: "app-" },
  spec: { image: "ghcr.io/example/app", ...spec },
});

const imagePolicy = (spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: API_VERSION,
  kind: "ImagePolicy",
  metadata: { generateName: "app-" },
  spec: { imageRepositoryRef: { name: "app" }, policy: { semver: { range: ">=1.0.0" } }, ...spec },
});

const imageUpdateAutomation = (spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: API_VERSION,
  kind: "ImageUpdateAutomation",
  metadata: { generateName: "app-" },
  spec: { sourceRef: { kind: GIT_REPOSITORY_KIND, name: "platform" }, git: { commit: { author: { name: "fjord", email: "fjord@example.com" } } }, update: { path: "./clusters/prod" }, ...spec },
});

test("valid image automation objects are accepted and the server fills in the defaults", async (t) => {
  const { create } = await setup(t);
  const repository = await create<ImageRepository>("imagerepositories", imageRepository());
  assert.equal(repository.spec.interval, "5m");
  assert.equal(repository.spec.timeout, "60s");
  const withEverything = await create<ImageRepository>(
    "imagerepositories",
    imageRepository({ image: "registry.example:5000/team/app", secretRef: { name: "pull" }, certSecretRef: { name: "ca" }, insecure: false, exclusionList: ["^.*\\.sig$"], suspend: true }),
  );
  assert.equal(withEverything.spec.image, "registry.example:5000/team/app");

  const semver = await create<ImagePolicy>("imagepolicies", imagePolicy());
  assert.equal(semver.spec.digestReflectionPolicy, "Never");
  const alphabetical = await create<ImagePolicy>(
    "imagepolicies",
    imagePolicy({ policy: { alphabetical: {} }, filterTags: { pattern: "^main-(?P<ts>[0-9]+)$", extract: "$ts" }, imageRepositoryRef: { name: "app", namespace: "images" } }),
  );
  assert.equal(alphabetical.spec.policy.alphabetical?.order, "asc");
  const numerical = await create<ImagePolicy>("imagepolicies", imagePolicy({ policy: { numerical: { order: "desc" } }, glob: "main-*", digestReflectionPolicy: "Always" }));
  assert.equal(numerical.spec.policy.numerical?.order, "desc");

  const automation = await create<ImageUpdateAutomation>("imageupdateautomations", imageUpdateAutomation({ update: undefined }));
  assert.equal(automation.spec.interval, "5m");
  assert.deepEqual(automation.spec.update, { path: "./", strategy: "Setters" });
  const explicit = await create<ImageUpdateAutomation>(
    "imageupdateautomations",
    imageUpdateAutomation({ git: { checkout: { ref: { branch: "main" } }, push: { branch: "image-updates" }, commit: { author: { name: "fjord", email: "fjord@example.com" }, messageTemplate: "{{changes}}" } } }),
  );
  assert.equal(explicit.spec.git.push?.branch, "image-updates");
  assert.equal(explicit.spec.update.path, "./clusters/prod");
});

test("invalid ImageRepositories are refused with a message naming the field", async (t) => {
  const { create } = await setup(t);
  const cases: Array<[string, KubeObject, RegExp]> = [
    ["an image with a tag", imageRepository({ image: "ghcr.io/example/app:1.0" }), /spec\.image.*should match/],
    ["an image with a digest", imageRepository({ image: `ghcr.io/example/app@sha256:${"a".repeat(64)}` }), /spec\.image.*should match/],
    ["an empty image", imageRepository({ image: "" }), /spec\.image.*should be at least 1 chars long/],
    ["a very long image", imageRepository({ image: `ghcr.io/${"a".repeat(520)}` }), /spec\.image: Too long: may not be (longer than|more than) 512/],
    ["no image", imageRepository({ image: undefined }), /spec\.image: Required value/],
    ["a bad interval", imageRepository({ interval: "5 minutes" }), /spec\.interval.*should match/],
    ["a bad timeout", imageRepository({ timeout: "60" }), /spec\.timeout.*should match/],
    ["a secretRef name that spells a path", imageRepository({ secretRef: { name: "../team-b/pull" } }), /spec\.secretRef\.name.*should match/],
    ["a certSecretRef without a name", imageRepository({ certSecretRef: {} }), /spec\.certSecretRef\.name: Required value/],
    ["insecure as a string", imageRepository({ insecure: "yes" }), /spec\.insecure: Invalid value: "string": spec\.insecure in body must be of type boolean/],
    ["an empty exclusion pattern", imageRepository({ exclusionList: [""] }), /spec\.exclusionList\[0\].*should be at least 1 chars long/],
    ["26 exclusion patterns", imageRepository({ exclusionList: Array.from({ length: 26 }, (_, i) => `^x${i}$`) }), /spec\.exclusionList: Too many: 26: must have at most 25 items/],
  ];
  for (const [what, object, expected] of cases) assert.match(await refusal(() => create("imagerepositories", object)), expected, what);
});

test("invalid ImagePolicies are refused with a message naming the field", async (t) => {
  const { create } = await setup(t);
  const cases: Array<[string, KubeObject, RegExp]> = [
    ["no ordering", imagePolicy({ policy: {} }), /spec\.policy: Invalid value: .*policy must set exactly one of semver, alphabetical or numerical/],
    ["two orderings", imagePolicy({ policy: { semver: { range: "1.x" }, numerical: {} } }), /policy must set exactly one of semver, alphabetical or numerical/],
    ["no policy", imagePolicy({ policy: undefined }), /spec\.policy: Required value/],
    ["semver without a range", imagePolicy({ policy: { semver: {} } }), /spec\.policy\.semver\.range: Required value/],
    ["an unknown order", imagePolicy({ policy: { alphabetical: { order: "up" } } }), /spec\.policy\.alphabetical\.order: Unsupported value: "up": supported values: "asc", "desc"/],
    ["extract without a pattern", imagePolicy({ filterTags: { extract: "$ts" } }), /spec\.filterTags: Invalid value: .*filterTags\.extract needs filterTags\.pattern/],
    ["no repository", imagePolicy({ imageRepositoryRef: undefined }), /spec\.imageRepositoryRef: Required value/],
    ["a repository namespace that is not a name", imagePolicy({ imageRepositoryRef: { name: "app", namespace: "../other" } }), /spec\.imageRepositoryRef\.namespace.*should match/],
    ["an empty glob", imagePolicy({ glob: "" }), /spec\.glob.*should be at least 1 chars long/],
    ["an unknown digest reflection", imagePolicy({ digestReflectionPolicy: "Sometimes" }), /spec\.digestReflectionPolicy: Unsupported value: "Sometimes"/],
  ];
  for (const [what, object, expected] of cases) assert.match(await refusal(() => create("imagepolicies", object)), expected, what);
});

test("invalid ImageUpdateAutomations are refused with a message naming the field", async (t) => {
  const { create } = await setup(t);
  const author = { name: "fjord", email: "fjord@example.com" };
  const cases: Array<[string, KubeObject, RegExp]> = [
    ["another source kind", imageUpdateAutomation({ sourceRef: { kind: "OCIRepository", name: "platform" } }), /spec\.sourceRef\.kind: Unsupported value: "OCIRepository": supported values: "GitRepository"/],
    ["no source", imageUpdateAutomation({ sourceRef: undefined }), /spec\.sourceRef: Required value/],
    ["no commit author", imageUpdateAutomation({ git: { commit: {} } }), /spec\.git\.commit\.author: Required value/],
    ["an author without an email", imageUpdateAutomation({ git: { commit: { author: { name: "fjord" } } } }), /spec\.git\.commit\.author\.email: Required value/],
    ["an empty push branch", imageUpdateAutomation({ git: { commit: { author }, push: { branch: "" } } }), /spec\.git\.push\.branch.*should be at least 1 chars long/],
    ["a checkout without a branch", imageUpdateAutomation({ git: { commit: { author }, checkout: { ref: {} } } }), /spec\.git\.checkout\.ref\.branch: Required value/],
    ["a message template over 4 KiB", imageUpdateAutomation({ git: { commit: { author, messageTemplate: "x".repeat(4097) } } }), /spec\.git\.commit\.messageTemplate: Too long: may not be (longer than|more than) 4096/],
    ["an absolute update path", imageUpdateAutomation({ update: { path: "/etc" } }), /spec\.update\.path: Invalid value: .*update\.path must be relative to the repository root/],
    ["an update path leaving the repository", imageUpdateAutomation({ update: { path: "apps/../../secrets" } }), /update\.path must not contain '\.\.' segments/],
    ["another strategy", imageUpdateAutomation({ update: { strategy: "Replace" } }), /spec\.update\.strategy: Unsupported value: "Replace": supported values: "Setters"/],
    ["a bad interval", imageUpdateAutomation({ interval: "hourly" }), /spec\.interval.*should match/],
  ];
  for (const [what, object, expected] of cases) assert.match(await refusal(() => create("imageupdateautomations", object)), expected, what);
});

test("status histories are bounded: the server keeps no more entries than the controller writes", async (t) => {
  const { client, collection, create } = await setup(t);
  const status = (path: string, body: unknown) => client.request("PATCH", `${path}/status`, { body, contentType: "application/merge-patch+json" });
  const at = "2026-01-02T03:04:05Z";

  await create("applications", application());
  const appPath = `${collection("applications")}/shop`;
  const sync = { revision: `main@sha1:${"d".repeat(40)}`, startedAt: at, finishedAt: at, result: "Succeeded", summary: { created: 0, configured: 0, deleted: 0, unchanged: 1 } };
  await status(appPath, { status: { history: Array.from({ length: HISTORY_LIMIT }, () => sync) } });
  assert.match(await refusal(() => status(appPath, { status: { history: Array.from({ length: HISTORY_LIMIT + 1 }, () => sync) } })), new RegExp(`status\\.history: Too many: ${HISTORY_LIMIT + 1}: must have at most ${HISTORY_LIMIT} items`));
  assert.match(await refusal(() => status(appPath, { status: { history: [{ ...sync, result: "Maybe" }] } })), /status\.history\[0\]\.result: Unsupported value: "Maybe"/);

  const automation = await create<ImageUpdateAutomation>("imageupdateautomations", imageUpdateAutomation());
  const automationPath = `${collection("imageupdateautomations")}/${automation.metadata.name ?? ""}`;
  const push = { commit: "e".repeat(40), branch: "main", pushedAt: at };
  await status(automationPath, { status: { history: Array.from({ length: PUSH_HISTORY_LIMIT }, () => push) } });
  assert.match(
    await refusal(() => status(automationPath, { status: { history: Array.from({ length: PUSH_HISTORY_LIMIT + 1 }, () => push) } })),
    new RegExp(`status\\.history: Too many: ${PUSH_HISTORY_LIMIT + 1}: must have at most ${PUSH_HISTORY_LIMIT} items`),
  );
});

test("every fjord CRD is structural and Established, with short names that do not clash with Flux's", async (t) => {
  const { client } = await setup(t);
  const crds = await client.request<{ items: Array<KubeObject & { spec: { names: { shortNames?: string[] } }; status?: { conditions?: Array<{ type: string; status: string }> } }> }>(
    "GET",
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
  );
  const ours = new Map(crds.items.filter((crd) => crd.metadata.name?.endsWith(`.${GROUP}`)).map((crd) => [crd.metadata.name ?? "", crd]));
  assert.deepEqual([...ours.keys()].sort(), [
    `alerts.${GROUP}`,
    `applications.${GROUP}`,
    `gitrepositories.${GROUP}`,
    `imagepolicies.${GROUP}`,
    `imagerepositories.${GROUP}`,
    `imageupdateautomations.${GROUP}`,
    `providers.${GROUP}`,
    `receivers.${GROUP}`,
  ]);
  const flux = new Set(["gitrepo", "ks", "imagerepo", "imagepolicy", "imageupdateauto", "imgrepo", "imgpol", "imgupd", "app", "apps"]);
  for (const [name, crd] of ours) {
    const conditions = new Map((crd.status?.conditions ?? []).map((condition) => [condition.type, condition.status]));
    assert.equal(conditions.get("Established"), "True", name);
    assert.equal(conditions.get("NonStructuralSchema"), undefined, `${name} has a structural schema`);
    for (const shortName of crd.spec.names.shortNames ?? []) assert.ok(!flux.has(shortName), `${name}: ${shortName} is Flux's or Argo CD's`);
  }
  const discovery = await client.request<{ resources: Array<{ name: string; shortNames?: string[]; categories?: string[] }> }>("GET", `/apis/${GROUP}/${VERSION}`);
  const byName = new Map(discovery.resources.map((resource) => [resource.name, resource]));
  assert.deepEqual(byName.get("imagerepositories")?.shortNames, ["fimagerepo"]);
  assert.deepEqual(byName.get("imagepolicies")?.shortNames, ["fimagepolicy"]);
  assert.deepEqual(byName.get("imageupdateautomations")?.shortNames, ["fimageupdate"]);
  assert.deepEqual(byName.get("providers")?.shortNames, ["fprovider"]);
  assert.deepEqual(byName.get("alerts")?.shortNames, ["falert"]);
  assert.deepEqual(byName.get("receivers")?.shortNames, ["freceiver"]);
  for (const resource of ["gitrepositories", "applications", "imagerepositories", "imagepolicies", "imageupdateautomations"]) {
    assert.deepEqual(byName.get(resource)?.categories, ["fjord"], `kubectl get fjord lists ${resource}`);
  }
});
