import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { installCustomResourceDefinitions } from "../src/controller/crd-install.ts";
import { API_VERSION, APPLICATION_KIND, GIT_REPOSITORY_KIND, GROUP, VERSION } from "../src/api/types.ts";
import type { Application, GitRepository } from "../src/api/types.ts";
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
