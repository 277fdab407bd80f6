// The registry client against distribution's real `registry` binary: anonymous, token auth (the
// Docker token flow with credentials from a dockerconfigjson), TLS with a private CA, pagination,
// single and multi-arch digests, and faults (wrong password, registry down, 429, 5xx).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createRegistryClient, parseDockerConfigJson, RegistryError, type RegistryClientOptions } from "../src/image/registry/index.ts";
import { selectTag } from "../src/image/policy/index.ts";
import { freePort } from "../testenv/ports.ts";
import { startOciRegistry, startRegistryProxy, type OciRegistry } from "./support/oci-registry.ts";

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

/** Fast retries: the faults below are deliberate and the tests should not wait out production backoff. */
const QUICK: RegistryClientOptions = { retries: 2, retryBaseDelayMs: 20, timeoutMs: 10_000 };

const clients: Array<{ close(): void }> = [];
function client(options: RegistryClientOptions) {
  const created = createRegistryClient({ ...QUICK, ...options });
  clients.push(created);
  return created;
}
after(() => clients.forEach((c) => c.close()));

async function rejectsWith(promise: Promise<unknown>, code: RegistryError["code"], check?: (error: RegistryError) => void): Promise<RegistryError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RegistryError, `expected a RegistryError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    check?.(error);
    return error;
  }
  assert.fail(`expected a ${code} error`);
}

describe("anonymous registry", () => {
  let registry: OciRegistry;
  const semverTags = ["1.0.0", "1.1.0", "1.2.0", "1.10.0", "2.0.0-rc.1", "v0.9.0"];
  const mainTags = Array.from({ length: 120 }, (_, i) => `main-${(0xabc000 + i).toString(16)}-${1_700_000_000 + i * 60}`);
  const noiseTags = ["latest", "dev", "sha256-0123.sig"];

  before(async () => {
    registry = await startOciRegistry({ mode: "anonymous" });
    await registry.pushImage("team/app", [...semverTags, ...mainTags, ...noiseTags], { content: "app" });
  });
  after(() => registry?.stop());

  test("lists more than 100 tags across small pages, following the Link header", async () => {
    const proxy = await startRegistryProxy(registry, {});
    try {
      const tags = await client({ insecure: true, pageSize: 25 }).listTags(proxy.image("team/app"));
      const expected = [...semverTags, ...mainTags, ...noiseTags].sort();
      assert.deepEqual([...tags].sort(), expected);
      assert.equal(tags.length, 129);
      const pages = proxy.requests.filter((line) => line.startsWith("GET /v2/team/app/tags/list"));
      assert.equal(pages.length, 6, pages.join("\n"));
      assert.match(pages[1] ?? "", /last=/);
    } finally {
      await proxy.close();
    }
  });

  test("without a page size the registry's own paging is used", async () => {
    const tags = await client({ insecure: true }).listTags(registry.image("team/app"));
    assert.equal(tags.length, 129);
  });

  test("the listed tags feed the policies: semver, numerical with extract, glob", async () => {
    const tags = await client({ insecure: true, pageSize: 50 }).listTags(registry.image("team/app"));
    const semver = selectTag(tags, { policy: { semver: { range: ">=1.0.0 <2.0.0" } } });
    assert.ok(semver.ok);
    assert.equal(semver.tag, "1.10.0");
    const numerical = selectTag(tags, { policy: { numerical: { order: "asc" } }, filterTags: { pattern: "^main-[a-f0-9]+-(?P<ts>[0-9]+)$", extract: "$ts" } });
    assert.ok(numerical.ok);
    assert.equal(numerical.tag, mainTags.at(-1));
    const none = selectTag(tags, { policy: { alphabetical: {} }, glob: "master-*" });
    assert.equal(none.ok, false);
    assert.equal(none.counts.excluded, 1, "the .sig tag is excluded by default");
  });

  test("digest of a single-arch image, by HEAD, matching what was pushed", async () => {
    const pushed = await registry.pushImage("team/single", ["v1"], { content: "single" });
    const docker = await registry.pushImage("team/single", ["docker-v1"], { content: "docker", docker: true });
    const registryClient = client({ insecure: true });
    const resolved = await registryClient.resolveDigest(registry.image("team/single"), "v1");
    assert.equal(resolved.digest, pushed.digest);
    assert.equal(resolved.mediaType, OCI_MANIFEST);
    assert.ok(resolved.size > 0);
    const dockerResolved = await registryClient.resolveDigest(`${registry.image("team/single")}:docker-v1`);
    assert.equal(dockerResolved.digest, docker.digest);
    assert.equal(dockerResolved.mediaType, DOCKER_MANIFEST);
  });

  test("digest of a multi-arch image is the index's; the manifest lists each platform", async () => {
    const created = new Date("2024-06-01T12:00:00Z");
    const pushed = await registry.pushIndex(
      "team/multi",
      ["1.0.0", "latest"],
      [
        { os: "linux", architecture: "arm64", variant: "v8" },
        { os: "linux", architecture: "amd64" },
      ],
      { content: "multi", created },
    );
    const registryClient = client({ insecure: true });
    const resolved = await registryClient.resolveDigest(`${registry.image("team/multi")}:1.0.0`);
    assert.equal(resolved.digest, pushed.digest);
    assert.equal(resolved.mediaType, OCI_INDEX);
    assert.equal((await registryClient.resolveDigest(registry.image("team/multi"))).digest, pushed.digest, "latest by default");

    const manifest = await registryClient.getManifest(registry.image("team/multi"), "1.0.0");
    assert.equal(manifest.digest, pushed.digest);
    assert.deepEqual(
      manifest.manifests?.map((entry) => [entry.platform?.architecture, entry.digest]),
      pushed.manifests.map((entry) => [entry.platform.architecture, entry.digest]),
    );
    const child = await registryClient.getManifest(registry.image("team/multi"), pushed.manifests[1]?.digest);
    assert.equal(child.config?.digest, pushed.manifests[1]?.configDigest);
    assert.deepEqual(await registryClient.getImageCreated(registry.image("team/multi"), "1.0.0"), created);
  });

  test("creation times order Flux v1 glob tags (newest image)", async () => {
    await registry.pushImage("team/v1", ["master-bbb"], { content: "old", created: new Date("2024-01-01T00:00:00Z") });
    await registry.pushImage("team/v1", ["master-aaa"], { content: "new", created: new Date("2024-02-01T00:00:00Z") });
    await registry.pushImage("team/v1", ["release-zzz"], { content: "newest", created: new Date("2024-03-01T00:00:00Z") });
    const registryClient = client({ insecure: true });
    const tags = await registryClient.listTags(registry.image("team/v1"));
    const createdAt = new Map<string, Date>();
    for (const tag of tags) {
      const time = await registryClient.getImageCreated(registry.image("team/v1"), tag);
      if (time) createdAt.set(tag, time);
    }
    const result = selectTag(tags, { policy: { newest: {} }, glob: "master-*" }, { createdAt });
    assert.ok(result.ok);
    assert.equal(result.tag, "master-aaa");
  });

  test("unknown repository and unknown tag are not-found errors naming the image", async () => {
    const registryClient = client({ insecure: true });
    await rejectsWith(registryClient.listTags(registry.image("team/missing")), "not-found", (error) => {
      assert.match(error.message, new RegExp(`^${registry.host}/team/missing: listing tags: repository not found \\(HTTP 404 \\(NAME_UNKNOWN`));
    });
    await rejectsWith(registryClient.resolveDigest(registry.image("team/app"), "9.9.9"), "not-found", (error) => {
      assert.match(error.message, /tag "9.9.9" not found/);
    });
    await rejectsWith(registryClient.resolveDigest(registry.image("team/app"), "bad tag"), "invalid-reference");
    await rejectsWith(registryClient.listTags("Team/App"), "invalid-reference", (error) => assert.match(error.message, /lowercase/));
  });

  test("plain HTTP is refused for non-loopback hosts", async () => {
    await rejectsWith(client({ insecure: true }).listTags("registry.example.com/app"), "insecure-refused", (error) => {
      assert.match(error.message, /only used for loopback registries/);
    });
  });

  test("a 429 with Retry-After is waited out, then the request succeeds", async () => {
    const proxy = await startRegistryProxy(registry, { rateLimit: { times: 1, retryAfterSeconds: 1, match: (path) => path.includes("/tags/list") } });
    try {
      const started = Date.now();
      const tags = await client({ insecure: true, retries: 2, retryBaseDelayMs: 1 }).listTags(proxy.image("team/app"));
      assert.equal(tags.length, 129);
      assert.ok(Date.now() - started >= 950, `Retry-After honoured (waited ${Date.now() - started}ms)`);
      assert.equal(proxy.faults, 1);
    } finally {
      await proxy.close();
    }
  });

  test("a Retry-After beyond the limit fails at once as rate-limited", async () => {
    const proxy = await startRegistryProxy(registry, { rateLimit: { times: 5, retryAfterSeconds: 3600 } });
    try {
      const started = Date.now();
      await rejectsWith(client({ insecure: true, maxRetryAfterMs: 5_000 }).listTags(proxy.image("team/app")), "rate-limited", (error) => {
        assert.match(error.message, /HTTP 429.*retry after 3600s/);
        assert.equal(error.details.retryAfterMs, 3_600_000);
      });
      assert.ok(Date.now() - started < 2_000);
      assert.equal(proxy.faults, 1);
    } finally {
      await proxy.close();
    }
  });

  test("5xx answers are retried with backoff; too many become a server-error", async () => {
    const flaky = await startRegistryProxy(registry, { unavailable: { times: 2 } });
    const down = await startRegistryProxy(registry, { unavailable: { times: 100 } });
    try {
      assert.equal((await client({ insecure: true, retries: 2 }).listTags(flaky.image("team/app"))).length, 129);
      assert.equal(flaky.faults, 2);
      await rejectsWith(client({ insecure: true, retries: 2 }).listTags(down.image("team/app")), "server-error", (error) => {
        assert.match(error.message, /HTTP 503 after 3 attempts/);
      });
      assert.equal(down.faults, 3);
    } finally {
      await flaky.close();
      await down.close();
    }
  });

  test("Basic auth challenge: credentials from a dockerconfigjson; none or wrong ones are unauthorized", async () => {
    const proxy = await startRegistryProxy(registry, { basicAuth: { username: "basic-user", password: "basic-pass-123" } });
    try {
      const config = (password: string) => JSON.stringify({ auths: { [`http://${proxy.host}`]: { username: "basic-user", password } } });
      const tags = await client({ insecure: true, credentials: parseDockerConfigJson(config("basic-pass-123")) }).listTags(proxy.image("team/app"));
      assert.equal(tags.length, 129);
      await rejectsWith(client({ insecure: true }).listTags(proxy.image("team/app")), "unauthorized", (error) => {
        assert.match(error.message, /no credentials were given for 127\.0\.0\.1:\d+/);
      });
      await rejectsWith(client({ insecure: true, credentials: parseDockerConfigJson(config("wrong-pass-456")) }).listTags(proxy.image("team/app")), "unauthorized", (error) => {
        assert.match(error.message, /rejected the credentials/);
        assert.ok(!error.message.includes("wrong-pass-456"));
      });
    } finally {
      await proxy.close();
    }
  });
});

describe("token-auth registry", () => {
  let registry: OciRegistry;
  let pushed: { digest: string };

  before(async () => {
    registry = await startOciRegistry({ mode: "token", users: { ci: "ci-password-789" } });
    pushed = await registry.pushImage("private/app", ["1.0.0", "1.1.0", "main-abc-100"], { content: "private" });
  });
  after(() => registry?.stop());

  test("credentials from a dockerconfigjson get a Bearer token; tokens are cached per scope", async () => {
    const registryClient = client({ insecure: true, credentials: parseDockerConfigJson(registry.dockerConfigJson("ci", "ci-password-789")) });
    const before = registry.tokenStats.issued;
    assert.deepEqual((await registryClient.listTags(registry.image("private/app"))).sort(), ["1.0.0", "1.1.0", "main-abc-100"]);
    assert.equal((await registryClient.resolveDigest(registry.image("private/app"), "1.1.0")).digest, pushed.digest);
    await registryClient.listTags(registry.image("private/app"));
    assert.equal(registry.tokenStats.issued - before, 1, "one token for repository:private/app:pull, reused");
  });

  test("anonymous access is refused with a message saying which credentials are missing", async () => {
    await rejectsWith(client({ insecure: true }).listTags(registry.image("private/app")), "unauthorized", (error) => {
      assert.match(error.message, /the token service at http:\/\/127\.0\.0\.1:\d+\/token requires credentials \(HTTP 401\); no credentials were given for 127\.0\.0\.1:\d+/);
      assert.equal(error.status, 401);
    });
  });

  test("a wrong password is unauthorized, and the password appears nowhere in the error", async () => {
    const secret = "hunter2-wrong-password";
    const credentials = parseDockerConfigJson(registry.dockerConfigJson("ci", secret));
    const error = await rejectsWith(client({ insecure: true, credentials }).listTags(registry.image("private/app")), "unauthorized", (e) => {
      assert.match(e.message, /rejected the credentials \(HTTP 401\); check the username and password for 127\.0\.0\.1:\d+/);
    });
    const everything = JSON.stringify({ message: error.message, stack: error.stack, details: error.details });
    assert.ok(!everything.includes(secret), everything);
    assert.ok(!everything.includes(Buffer.from(`ci:${secret}`).toString("base64")));
  });

  test("anonymous pull tokens work when the token service grants them", async () => {
    const open = await startOciRegistry({ mode: "token", anonymousPull: true });
    try {
      const image = await open.pushImage("public/app", ["v1"], { content: "public" });
      const registryClient = client({ insecure: true });
      assert.deepEqual(await registryClient.listTags(open.image("public/app")), ["v1"]);
      assert.equal((await registryClient.resolveDigest(open.image("public/app"), "v1")).digest, image.digest);
    } finally {
      await open.stop();
    }
  });
});

describe("TLS registry with a private CA", () => {
  let registry: OciRegistry;
  let pushed: { digest: string };

  before(async () => {
    registry = await startOciRegistry({ mode: "tls" });
    pushed = await registry.pushImage("secure/app", ["2.0.0"], { content: "tls" });
  });
  after(() => registry?.stop());

  test("works with the CA given", async () => {
    const registryClient = client({ caPem: registry.caPem });
    assert.deepEqual(await registryClient.listTags(registry.image("secure/app")), ["2.0.0"]);
    assert.equal((await registryClient.resolveDigest(registry.image("secure/app"), "2.0.0")).digest, pushed.digest);
  });

  test("is refused without the CA, saying to supply it", async () => {
    await rejectsWith(client({}).listTags(registry.image("secure/app")), "tls", (error) => {
      assert.match(error.message, /TLS with 127\.0\.0\.1:\d+ failed \(\w+\); if the registry uses a private CA, give its certificate/);
    });
  });
});

test("a registry that is down is an unreachable error after the retries", async () => {
  const port = await freePort();
  const started = Date.now();
  await rejectsWith(client({ insecure: true, retries: 2, retryBaseDelayMs: 50 }).listTags(`127.0.0.1:${port}/app`), "unreachable", (error) => {
    assert.match(error.message, new RegExp(`^127\\.0\\.0\\.1:${port}/app: listing tags: cannot reach 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED, 3 attempts\\); check the registry address`));
    assert.equal(error.details.attempts, 3);
  });
  assert.ok(Date.now() - started >= 75, "backed off between attempts");
});
