/**
 * Attack 10 of issue 13: the controller runs with the least-privilege identity `fjord install`
 * creates (a token of its ServiceAccount from the TokenRequest API, not the test's admin
 * certificate), tenants are onboarded with `fjord tenant create`'s objects, and an Application
 * of team-a tries to escalate, to write into team-b and to read team-b's Secrets.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { installCustomResourceDefinitions } from "../src/controller/crd-install.ts";
import type { Application, GitRepository } from "../src/api/types.ts";
import type { ImageUpdateAutomation } from "../src/api/image-types.ts";
import { reconcileApplication } from "../src/controller/application-reconciler.ts";
import { runController } from "../src/controller/controller.ts";
import { reconcileGitRepository } from "../src/controller/git-repository-reconciler.ts";
import { reconcileImageUpdateAutomation } from "../src/controller/image-update-reconciler.ts";
import { ImageCreatedCache, ImageTagStore } from "../src/controller/image-tag-store.ts";
import { Tenancy } from "../src/controller/tenancy.ts";
import { installOptions } from "../src/install/options.ts";
import { IMPERSONATOR_ROLE, rbacObjects } from "../src/install/rbac.ts";
import { tenantObjects, tenantOptions } from "../src/install/tenant.ts";
import { serviceAccount } from "../src/install/workload.ts";
import { KubeClient } from "../src/kube/client.ts";
import { isNotFound, type KubeApiError } from "../src/kube/errors.ts";
import type { KubeObject } from "../src/model/object.ts";
import { ensureSealedSecretCrd, startSealedSecrets } from "../src/controller/sealed-secrets/index.ts";
import { parseSealingCertificate, sealSecret, type SealedSecret } from "../src/secrets/sealed/index.ts";
import { encryptContent } from "../src/secrets/sops/index.ts";
import { createLogger } from "../src/util/logger.ts";
import { eventually, useCluster } from "./support/cluster.ts";
import { startGitServer, type GitServer } from "./support/git-server.ts";
import { requestReconcile } from "./support/reconcile-request.ts";
import { logRequests } from "./support/request-log.ts";
import { applyAsAdmin, deleteAsAdmin, serviceAccountClient, serviceAccountMay, waitUntilAllowed, withClusterNamesSuffixed } from "./support/rbac.ts";

const SUITE = "multi-tenancy";
const api = "/apis/fjord.dev/v1alpha1";
const suffix = randomBytes(3).toString("hex");
const system = `fjord-mt-${suffix}`;
const teamA = `team-a-${suffix}`;
const teamB = `team-b-${suffix}`;
const GIT_TOKEN = `token-${randomBytes(8).toString("hex")}`;

let admin: KubeClient;
/** The controller's identity as `fjord install` creates it. */
let controller: KubeClient;
let git: GitServer;
let privateGit: GitServer;
let workDir: string;
let cacheDir: string;
const clusterObjects: KubeObject[] = [];

const logger = createLogger("controller");
logger.level = "warn";

before(async () => {
  const cluster = await useCluster();
  admin = KubeClient.load({ kubeconfig: cluster.kubeconfigPath });
  await installCustomResourceDefinitions(admin);
  await ensureSealedSecretCrd(admin);
  workDir = await mkdtemp(path.join(os.tmpdir(), "fjord-tenancy-"));
  cacheDir = path.join(workDir, "cache");
  git = await startGitServer();
  privateGit = await startGitServer({ auth: { token: GIT_TOKEN } });

  // The install's objects (cluster-scoped names suffixed: other test files install fjord too).
  const options = installOptions({ namespace: system });
  await admin.request("POST", "/api/v1/namespaces", { body: { metadata: { name: system, labels: { "fjord.dev/test": "true" } } } });
  const install = withClusterNamesSuffixed(rbacObjects(options), suffix);
  clusterObjects.push(...install.filter((object) => !object.metadata.namespace));
  await applyAsAdmin(admin, [serviceAccount(options), ...install]);
  // Tenants, as `fjord tenant create` makes them.
  for (const namespace of [teamA, teamB]) {
    const objects = withClusterNamesSuffixed(tenantObjects(tenantOptions({ namespace, controllerNamespace: system })), suffix, new Set([IMPERSONATOR_ROLE]));
    await applyAsAdmin(admin, objects);
  }
  const account = { namespace: system, name: "fjord-controller" };
  await waitUntilAllowed(admin, account, { verb: "watch", group: "apps", resource: "deployments" });
  await waitUntilAllowed(admin, account, { verb: "patch", group: "fjord.dev", resource: "applications", subresource: "status", namespace: teamA });
  await waitUntilAllowed(admin, account, { verb: "list", resource: "secrets", namespace: system });
  for (const namespace of [teamA, teamB]) {
    await waitUntilAllowed(admin, account, { verb: "impersonate", resource: "serviceaccounts", namespace, name: "fjord" });
    await waitUntilAllowed(admin, { namespace, name: "fjord" }, { verb: "create", resource: "secrets", namespace });
  }
  controller = await serviceAccountClient(admin, cluster.kubeConfig, account, workDir);
});

after(async () => {
  controller.close();
  for (const namespace of [teamA, teamB, system]) await admin.request("DELETE", `/api/v1/namespaces/${namespace}`).catch(() => undefined);
  await deleteAsAdmin(admin, clusterObjects);
  admin.close();
  await git.close();
  await privateGit.close();
  await rm(workDir, { recursive: true, force: true });
});

async function get<T = KubeObject>(apiPath: string): Promise<T | undefined> {
  return admin.request<T>("GET", apiPath).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
}

const yaml = (...lines: string[]) => `${lines.join("\n")}\n`;
const configMap = (name: string, namespace?: string) => yaml("apiVersion: v1", "kind: ConfigMap", "metadata:", `  name: ${name}`, ...(namespace ? [`  namespace: ${namespace}`] : []), "data:", "  from: git");
const ready = (object: { status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } } | undefined) => object?.status?.conditions?.find((condition) => condition.type === "Ready");

/** A repository on the open Git server and a Ready GitRepository `name` over it in `namespace`. */
async function source(namespace: string, name: string, files: Record<string, string>): Promise<string> {
  const repo = `${name}-${namespace}`;
  await git.createRepo(repo);
  await git.commitFiles(repo, files, { message: "initial" });
  await admin.request("POST", `${api}/namespaces/${namespace}/gitrepositories`, { body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name }, spec: { url: git.repoUrl(repo) } } });
  const repository = (await get<GitRepository>(`${api}/namespaces/${namespace}/gitrepositories/${name}`)) as GitRepository;
  assert.equal((await reconcileGitRepository(controller, repository, { cacheDir })).report.ready, true);
  return repo;
}

/** An Application of `namespace` over its GitRepository `sourceName` (spec may name another source). */
async function createApp(namespace: string, name: string, sourceName: string, spec: Record<string, unknown>): Promise<void> {
  await admin.request("POST", `${api}/namespaces/${namespace}/applications`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name }, spec: { sourceRef: { kind: "GitRepository", name: sourceName }, path: "./", ...spec } },
  });
}

/** One reconcile of an Application by the least-privilege controller; returns its Ready condition. */
async function reconcileAs(namespace: string, name: string, tenancy = new Tenancy()) {
  const appPath = `${api}/namespaces/${namespace}/applications/${name}`;
  await reconcileApplication(controller, (await get<Application>(appPath)) as Application, { cacheDir, tenancy });
  return ready(await get<Application>(appPath));
}

test("the installed RBAC: impersonation only in tenant namespaces, Secrets of other namespaces by name only, no writes to tenants' objects", async () => {
  const account = { namespace: system, name: "fjord-controller" };
  const may = (attributes: Parameters<typeof serviceAccountMay>[2]) => serviceAccountMay(admin, account, attributes);
  assert.equal(await may({ verb: "impersonate", resource: "serviceaccounts", namespace: teamA, name: "fjord" }), true);
  assert.equal(await may({ verb: "impersonate", resource: "serviceaccounts", namespace: "kube-system", name: "default" }), false);
  assert.equal(await may({ verb: "impersonate", resource: "serviceaccounts", namespace: system, name: "fjord-controller" }), false);

  // On the real API server: a RoleBinding in team-a lets the controller impersonate team-a's ServiceAccounts only.
  const asTenant = controller.impersonating(`system:serviceaccount:${teamA}:fjord`);
  const asSystem = controller.impersonating("system:serviceaccount:kube-system:default");
  try {
    await asTenant.request("GET", `/api/v1/namespaces/${teamA}/configmaps`);
    await assert.rejects(asTenant.request("GET", `/api/v1/namespaces/${teamB}/configmaps`), (error: KubeApiError) => error.statusCode === 403);
    await assert.rejects(asSystem.request("GET", "/api/v1/namespaces/kube-system/configmaps"), (error: KubeApiError) => error.statusCode === 403 && /cannot impersonate/.test(error.message));
  } finally {
    asTenant.close();
    asSystem.close();
  }
  // Secrets: a named one, yes; listing them, in a tenant's namespace or cluster-wide, no.
  await admin.request("POST", `/api/v1/namespaces/${teamB}/secrets`, { body: { metadata: { name: "probe" }, stringData: { value: "x" } } });
  await controller.request("GET", `/api/v1/namespaces/${teamB}/secrets/probe`);
  for (const list of [`/api/v1/namespaces/${teamB}/secrets`, "/api/v1/secrets"]) {
    await assert.rejects(controller.request("GET", list), (error: KubeApiError) => error.statusCode === 403, list);
  }
  await assert.rejects(controller.request("POST", `/api/v1/namespaces/${teamB}/secrets`, { body: { metadata: { name: "planted" }, stringData: { value: "x" } } }), (error: KubeApiError) => error.statusCode === 403);
  await assert.rejects(controller.request("POST", `/api/v1/namespaces/${teamB}/configmaps`, { body: { metadata: { name: "planted" } } }), (error: KubeApiError) => error.statusCode === 403);
  // Its own namespace's Secrets (sealing keys) in full.
  await controller.request("GET", `/api/v1/namespaces/${system}/secrets`);
});

test("attack 10: an Application in team-a cannot create a ClusterRoleBinding", async () => {
  const binding = `escalate-${teamA}`;
  await source(teamA, "escalate", {
    "binding.yaml": yaml(
      "apiVersion: rbac.authorization.k8s.io/v1",
      "kind: ClusterRoleBinding",
      "metadata:",
      `  name: ${binding}`,
      "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}",
      `subjects: [{kind: ServiceAccount, name: fjord, namespace: ${teamA}}]`,
    ),
  });
  await createApp(teamA, "with-account", "escalate", { serviceAccountName: "fjord" });
  await createApp(teamA, "without-account", "escalate", {});

  const withAccount = await reconcileAs(teamA, "with-account");
  assert.equal(withAccount?.status, "False");
  assert.match(withAccount?.message ?? "", new RegExp(`forbidden.*system:serviceaccount:${teamA}:fjord|system:serviceaccount:${teamA}:fjord.*cannot`, "s"));

  const withoutAccount = await reconcileAs(teamA, "without-account");
  assert.equal(withoutAccount?.status, "False");
  assert.match(withoutAccount?.message ?? "", /forbidden/i);
  assert.match(withoutAccount?.message ?? "", new RegExp(`no serviceAccountName.*set spec\\.serviceAccountName.*fjord tenant create ${teamA}.*--default-service-account`, "s"));

  const asDefault = await reconcileAs(teamA, "without-account", new Tenancy({ defaultServiceAccount: "fjord" }));
  assert.equal(asDefault?.status, "False");
  assert.match(asDefault?.message ?? "", new RegExp(`system:serviceaccount:${teamA}:fjord`));
  assert.equal(await get(`/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${binding}`), undefined, "the binding does not exist");
});

test("attack 10: an Application in team-a cannot write into team-b, by metadata.namespace or by targetNamespace", async () => {
  await admin.request("POST", `/api/v1/namespaces/${teamB}/secrets`, { body: { metadata: { name: "db" }, stringData: { password: "team-b-password" } } });
  const overwrite = yaml("apiVersion: v1", "kind: Secret", "metadata:", "  name: db", `  namespace: ${teamB}`, "stringData:", "  password: attacker");
  // Each path holds one object, so no other object's refusal can stop the attempt early.
  await source(teamA, "cross", { "secret/secret.yaml": overwrite, "configmap/settings.yaml": configMap("planted", teamB), "plain/settings.yaml": configMap("planted-by-target") });
  const attempts = {
    "secret-as-account": { path: "./secret", serviceAccountName: "fjord" },
    "secret-as-controller": { path: "./secret" },
    "configmap-as-account": { path: "./configmap", serviceAccountName: "fjord" },
    "configmap-as-controller": { path: "./configmap" },
    "by-target": { path: "./plain", serviceAccountName: "fjord", targetNamespace: teamB },
  };
  for (const [name, spec] of Object.entries(attempts)) await createApp(teamA, name, "cross", spec);

  for (const name of Object.keys(attempts)) {
    const condition = await reconcileAs(teamA, name);
    assert.equal(condition?.status, "False", name);
    assert.match(condition?.message ?? "", /forbidden/i, name);
    assert.doesNotMatch(condition?.message ?? "", /team-b-password/);
  }
  const secret = await get<{ data: Record<string, string> }>(`/api/v1/namespaces/${teamB}/secrets/db`);
  assert.equal(Buffer.from(secret?.data.password ?? "", "base64").toString(), "team-b-password", "team-b's Secret is unchanged");
  assert.equal(await get(`/api/v1/namespaces/${teamB}/configmaps/planted`), undefined);
  assert.equal(await get(`/api/v1/namespaces/${teamB}/configmaps/planted-by-target`), undefined);
});

test("attack 10: an Application in team-a cannot read team-b's Secrets through a GitRepository", async () => {
  // team-b's private repository and its credentials, which work for team-b.
  const repo = `private-${teamB}`;
  await privateGit.createRepo(repo);
  await privateGit.commitFiles(repo, { "settings.yaml": configMap("team-b-private") }, { message: "private" });
  await admin.request("POST", `/api/v1/namespaces/${teamB}/secrets`, { body: { metadata: { name: "git-credentials" }, stringData: { bearerToken: GIT_TOKEN } } });
  await admin.request("POST", `${api}/namespaces/${teamB}/gitrepositories`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "private" }, spec: { url: privateGit.repoUrl(repo), secretRef: { name: "git-credentials" } } },
  });
  const teamBRepository = (await get<GitRepository>(`${api}/namespaces/${teamB}/gitrepositories/private`)) as GitRepository;
  assert.equal((await reconcileGitRepository(controller, teamBRepository, { cacheDir })).report.ready, true, "team-b's own GitRepository works");

  // 1. An Application of team-a using team-b's GitRepository.
  await createApp(teamA, "borrower", "private", { sourceRef: { kind: "GitRepository", name: "private", namespace: teamB }, serviceAccountName: "fjord" });
  const refused = await reconcileAs(teamA, "borrower");
  assert.equal(refused?.reason, "AccessDenied");
  assert.match(refused?.message ?? "", /cross-namespace source references are not allowed.*--allow-cross-namespace-sources/);
  const locked = await reconcileAs(teamA, "borrower", new Tenancy({ allowCrossNamespaceSources: true, noCrossNamespaceRefs: true }));
  assert.equal(locked?.reason, "AccessDenied");
  assert.match(locked?.message ?? "", new RegExp(`--no-cross-namespace-refs.*spec\\.sourceRef of Application ${teamA}/borrower names GitRepository ${teamB}/private`));
  assert.equal(await get(`/api/v1/namespaces/${teamA}/configmaps/team-b-private`), undefined, "nothing of team-b's repository was applied");

  // 2. A GitRepository of team-a naming team-b's Secret: by its name, and by a path that climbs out.
  // The CRD refuses a name that is not a Kubernetes name; the controller checks again, for objects
  // stored under an older CRD (reconciled here from the stored object with the path put back in).
  await admin.request("POST", `${api}/namespaces/${teamA}/gitrepositories`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "by-name" }, spec: { url: privateGit.repoUrl(repo), secretRef: { name: "git-credentials" } } },
  });
  for (const [secretName, expected] of [
    ["git-credentials", /secrets "git-credentials" not found/],
    [`../../${teamB}/secrets/git-credentials`, /is not a valid Secret name/],
    [`..%2F..%2F${teamB}%2Fsecrets%2Fgit-credentials`, /is not a valid Secret name/],
  ] as const) {
    if (secretName !== "git-credentials") {
      const refusal = await admin
        .request("POST", `${api}/namespaces/${teamA}/gitrepositories`, {
          body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "by-path" }, spec: { url: privateGit.repoUrl(repo), secretRef: { name: secretName } } },
        })
        .then(
          () => "",
          (error: unknown) => (error instanceof Error ? error.message : String(error)),
        );
      assert.match(refusal, /spec\.secretRef\.name.*should match/, `${secretName}: the API server refuses it`);
    }
    const stored = (await get<GitRepository>(`${api}/namespaces/${teamA}/gitrepositories/by-name`)) as GitRepository;
    const repository = { ...stored, spec: { ...stored.spec, secretRef: { name: secretName } } };
    assert.equal((await reconcileGitRepository(controller, repository, { cacheDir })).report.ready, false, secretName);
    const after = await get<GitRepository>(`${api}/namespaces/${teamA}/gitrepositories/by-name`);
    assert.match(ready(after)?.message ?? "", expected, secretName);
    assert.equal(after?.status?.artifact, undefined, `${secretName}: nothing was fetched`);
  }

  // 3. An ImageUpdateAutomation of team-a pushing with team-b's GitRepository (and its credentials).
  await admin.request("POST", `${api}/namespaces/${teamA}/imageupdateautomations`, {
    body: {
      apiVersion: "fjord.dev/v1alpha1",
      kind: "ImageUpdateAutomation",
      metadata: { name: "pusher" },
      spec: { sourceRef: { kind: "GitRepository", name: "private", namespace: teamB }, interval: "1h", git: { commit: { author: { name: "bot", email: "bot@example.com" } } }, update: { path: "./", strategy: "Setters" } },
    },
  });
  const automationPath = `${api}/namespaces/${teamA}/imageupdateautomations/pusher`;
  for (const tenancy of [new Tenancy(), new Tenancy({ allowCrossNamespaceSources: true, noCrossNamespaceRefs: true })]) {
    const automation = (await get<ImageUpdateAutomation>(automationPath)) as ImageUpdateAutomation;
    assert.equal((await reconcileImageUpdateAutomation(controller, automation, { tags: new ImageTagStore(), created: new ImageCreatedCache(), tenancy })).ready, false);
    assert.equal(ready(await get<ImageUpdateAutomation>(automationPath))?.reason, "AccessDenied");
  }

  // With --allow-cross-namespace-sources alone the cluster admin has opted in: team-b's source is shared.
  assert.equal((await reconcileAs(teamA, "borrower", new Tenancy({ allowCrossNamespaceSources: true })))?.status, "True");
});

test("attack 10: an Application in team-a cannot read team-b's Secrets through a decryption reference", async () => {
  const identity = await generateIdentity();
  const plaintext = `loot-${randomBytes(6).toString("hex")}`;
  await admin.request("POST", `/api/v1/namespaces/${teamB}/secrets`, { body: { metadata: { name: "sops-age" }, stringData: { "identity.agekey": identity } } });
  // team-b's encrypted Secret, copied into team-a's repository.
  const encrypted = await encryptContent(yaml("apiVersion: v1", "kind: Secret", "metadata:", "  name: loot", "stringData:", `  value: ${plaintext}`), {
    format: "yaml",
    recipients: [await identityToRecipient(identity)],
    fileName: "loot.yaml",
    rules: { encryptedRegex: "^(data|stringData)$" },
  });
  await source(teamA, "loot", { "loot.yaml": encrypted.toString("utf8") });
  await createApp(teamA, "decrypt-by-name", "loot", { serviceAccountName: "fjord", decryption: { provider: "sops", secretRef: { name: "sops-age" } } });
  // A path for a name is refused by the CRD; the controller checks again for objects stored under an older CRD.
  const pathLike = `../../${teamB}/secrets/sops-age`;
  const refusal = await createApp(teamA, "decrypt-by-path", "loot", { serviceAccountName: "fjord", decryption: { provider: "sops", secretRef: { name: pathLike } } }).then(
    () => "",
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
  assert.match(refusal, /spec\.decryption\.secretRef\.name.*should match/);
  const appPath = `${api}/namespaces/${teamA}/applications/decrypt-by-name`;
  for (const [secretName, expected] of [
    ["sops-age", new RegExp(`decryption Secret ${teamA}/sops-age not found`)],
    [pathLike, /spec\.decryption: secretRef .* is not a valid Secret name/],
  ] as const) {
    const stored = (await get<Application>(appPath)) as Application;
    const app = { ...stored, spec: { ...stored.spec, decryption: { provider: "sops" as const, secretRef: { name: secretName } } } };
    await reconcileApplication(controller, app, { cacheDir, tenancy: new Tenancy() });
    const condition = ready(await get<Application>(appPath));
    assert.equal(condition?.status, "False", secretName);
    assert.match(condition?.message ?? "", expected, secretName);
    assert.ok(!(condition?.message ?? "").includes(plaintext) && !(condition?.message ?? "").includes(identity), "no secret in the message");
  }
  assert.equal(await get(`/api/v1/namespaces/${teamA}/secrets/loot`), undefined, "nothing was decrypted or applied");
});

test("an Application without serviceAccountName applies as the --default-service-account of its own namespace", async () => {
  await source(teamA, "defaulted", { "settings.yaml": configMap("by-default-account") });
  await createApp(teamA, "defaulted", "defaulted", { prune: true });
  // The controller's own identity may not write team-a's objects...
  const own = await reconcileAs(teamA, "defaulted");
  assert.equal(own?.status, "False");
  assert.match(own?.message ?? "", /no serviceAccountName/);
  // ...team-a's ServiceAccount `fjord` may.
  const defaulted = await reconcileAs(teamA, "defaulted", new Tenancy({ defaultServiceAccount: "fjord" }));
  assert.equal(defaulted?.status, "True", defaulted?.message);
  assert.ok(await get(`/api/v1/namespaces/${teamA}/configmaps/by-default-account`));

  // Deleting it prunes as the same ServiceAccount (the controller itself could not delete).
  await admin.request("DELETE", `${api}/namespaces/${teamA}/applications/defaulted`);
  await reconcileAs(teamA, "defaulted", new Tenancy({ defaultServiceAccount: "fjord" })).catch(() => undefined);
  assert.equal(await get(`/api/v1/namespaces/${teamA}/configmaps/by-default-account`), undefined);
  assert.equal(await get(`${api}/namespaces/${teamA}/applications/defaulted`), undefined);
});

interface EventItem {
  reason: string;
  type: string;
  message: string;
  involvedObject: { kind: string; name: string };
}

test("a team-a Application applies with its ServiceAccount; drift on a Deployment is reverted at once, a Secret it manages at the next sync", async (t) => {
  const labels = { "fjord.dev/test-suite": SUITE };
  const stop = new AbortController();
  // What the controller asks the API server, so the test can wait for its drift watch to be open.
  const requests = logRequests(controller);
  const running = runController({ client: requests.client, logger, cacheDir, watchLabelSelector: `fjord.dev/test-suite=${SUITE}`, tenancy: new Tenancy() }, stop.signal);
  t.after(async () => {
    stop.abort();
    await running;
  });
  const repo = `shop-${teamA}`;
  await git.createRepo(repo);
  await git.commitFiles(
    repo,
    {
      "shop/deployment.yaml": yaml(
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata: {name: web}",
        "spec:",
        "  replicas: 2",
        "  selector: {matchLabels: {app: web}}",
        "  template:",
        "    metadata: {labels: {app: web}}",
        "    spec: {containers: [{name: web, image: registry.example/web:1}]}",
      ),
      "shop/settings.yaml": configMap("settings"),
      "shop/token.yaml": yaml("apiVersion: v1", "kind: Secret", "metadata: {name: token}", "stringData: {token: from-git}"),
    },
    { message: "shop" },
  );
  await admin.request("POST", `${api}/namespaces/${teamA}/gitrepositories`, { body: { apiVersion: "fjord.dev/v1alpha1", kind: "GitRepository", metadata: { name: "shop", labels }, spec: { url: git.repoUrl(repo), interval: "1h" } } });
  await admin.request("POST", `${api}/namespaces/${teamA}/applications`, {
    body: { apiVersion: "fjord.dev/v1alpha1", kind: "Application", metadata: { name: "shop", labels }, spec: { sourceRef: { kind: "GitRepository", name: "shop" }, path: "./shop", interval: "1h", serviceAccountName: "fjord" } },
  });
  const appPath = `${api}/namespaces/${teamA}/applications/shop`;
  const describe = async () => JSON.stringify((await get<Application>(appPath))?.status?.conditions);
  await eventually(async () => ready(await get<Application>(appPath))?.status === "True", { timeoutMs: 60_000, describe });
  const deploymentPath = `/apis/apps/v1/namespaces/${teamA}/deployments/web`;
  const secretPath = `/api/v1/namespaces/${teamA}/secrets/token`;
  assert.ok(await get(secretPath), "the Secret was applied");

  // Secrets are not watched (the controller may not list them outside its namespace): said once, with why.
  const notWatched = await eventually(
    async () => {
      const list = await admin.request<{ items: EventItem[] }>("GET", `/api/v1/namespaces/${teamA}/events`);
      const found = list.items.filter((event) => event.involvedObject.kind === "Application" && event.involvedObject.name === "shop" && event.reason === "DriftNotWatched");
      return found.length > 0 ? found : undefined;
    },
    { timeoutMs: 20_000 },
  );
  assert.equal(notWatched.length, 1, JSON.stringify(notWatched));
  assert.match(notWatched[0]?.message ?? "", /its secrets are not watched, so they are reverted at the next sync \(every 1h\).*may not list Secrets outside its own namespace/);

  // `kubectl scale`: reverted by the shared watch, as the ServiceAccount. A scale write carries
  // no time, so it is only seen as drift by a watch that listed the Deployment before it.
  const driftWatch = (collection: string) => requests.requests.filter((request) => request.watch && request.path === collection && request.query?.labelSelector === "fjord.dev/name");
  await eventually(() => Promise.resolve(driftWatch("/apis/apps/v1/deployments").some((request) => request.open)), { timeoutMs: 20_000 });
  const scaled = Date.now();
  await admin.request("PATCH", `${deploymentPath}/scale`, { query: { fieldManager: "kubectl-scale" }, body: { spec: { replicas: 5 } }, contentType: "application/merge-patch+json" });
  await eventually(async () => ((await get<{ spec: { replicas: number } }>(deploymentPath))?.spec.replicas === 2 ? true : undefined), { timeoutMs: 20_000 });
  const revertMs = Date.now() - scaled;

  // A deleted Secret stays deleted until the next sync, which restores it. The controller never
  // even asked for Secrets cluster-wide, so nothing can tell it of the deletion...
  assert.deepEqual(requests.requests.filter((request) => request.path === "/api/v1/secrets"), [], "Secrets are neither listed nor watched");
  await admin.request("DELETE", secretPath);
  // ...and indeed twice the time the watched revert just took passes without a restore.
  await new Promise((resolve) => setTimeout(resolve, Math.max(500, 2 * revertMs)));
  assert.equal(await get(secretPath), undefined, "not watched, so not restored at once");
  await requestReconcile(admin, appPath);
  await eventually(async () => (await get(secretPath)) !== undefined, { timeoutMs: 30_000, describe });
});

test("Sealed Secrets: an unsealed Secret in team-a is written as team-a's default ServiceAccount; without one, Synced=False says how to fix it", async (t) => {
  const start = async (defaultServiceAccount?: string) => {
    const stop = new AbortController();
    const runner = await startSealedSecrets({ client: controller, logger, signal: stop.signal, namespace: system, keySize: 2048, installCrd: false, watchNamespaces: [teamA], ...(defaultServiceAccount ? { defaultServiceAccount } : {}) });
    return { runner, stop: async () => (stop.abort(), await runner.stopped) };
  };
  const first = await start();
  t.after(() => first.stop());
  const secret = { apiVersion: "v1" as const, kind: "Secret" as const, metadata: { name: "api-key", namespace: teamA }, type: "Opaque", stringData: { key: `sealed-${randomBytes(6).toString("hex")}` } };
  const sealed: SealedSecret = sealSecret(secret, parseSealingCertificate(first.runner.certificatePem(), "controller").publicKey);
  await admin.request("POST", `/apis/bitnami.com/v1alpha1/namespaces/${teamA}/sealedsecrets`, { body: sealed });
  const sealedPath = `/apis/bitnami.com/v1alpha1/namespaces/${teamA}/sealedsecrets/api-key`;
  const synced = (status: "True" | "False") =>
    eventually(
      async () => {
        const current = await get<SealedSecret>(sealedPath);
        const condition = current?.status?.conditions?.find((entry) => entry.type === "Synced");
        return condition?.status === status ? condition : undefined;
      },
      { timeoutMs: 30_000, describe: async () => JSON.stringify((await get<SealedSecret>(sealedPath))?.status) },
    );
  const refused = await synced("False");
  assert.match(refused.message ?? "", /forbidden/);
  assert.match(refused.message ?? "", new RegExp(`--default-service-account=<name>.*fjord tenant create ${teamA}`));
  assert.equal(await get(`/api/v1/namespaces/${teamA}/secrets/api-key`), undefined);
  await first.stop();

  const second = await start("fjord");
  t.after(() => second.stop());
  await synced("True");
  const written = await get<{ data: Record<string, string> }>(`/api/v1/namespaces/${teamA}/secrets/api-key`);
  assert.equal(Buffer.from(written?.data.key ?? "", "base64").toString(), secret.stringData.key);
});
