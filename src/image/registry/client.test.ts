// Protocol corners that distribution's registry does not exhibit but others do (paging without
// Link headers, HEAD without a digest, blob redirects to storage, expiring tokens), played by a
// small loopback server. The real registry is exercised in test/image-registry.test.ts.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { createRegistryClient } from "./client.ts";
import type { RegistryError } from "./errors.ts";
import { MEDIA_TYPES } from "./manifest.ts";

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

const servers: http.Server[] = [];
after(() => servers.forEach((server) => server.closeAllConnections()));
after(() => Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve)))));

async function serve(handler: Handler): Promise<{ host: string; seen: Array<{ method: string; path: string; authorization?: string }> }> {
  const seen: Array<{ method: string; path: string; authorization?: string }> = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    seen.push({ method: req.method ?? "", path: url.pathname + url.search, authorization: req.headers.authorization });
    handler(req, res, url);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
const sha = (body: string | Buffer) => `sha256:${createHash("sha256").update(body).digest("hex")}`;
const quick = { insecure: true, retries: 1, retryBaseDelayMs: 5 };

test("pages without a Link header are followed with last= while pages come back full", async () => {
  const all = Array.from({ length: 23 }, (_, i) => `t${String(i).padStart(2, "0")}`);
  const { host, seen } = await serve((_req, res, url) => {
    const n = Number(url.searchParams.get("n") ?? all.length);
    const last = url.searchParams.get("last");
    const start = last ? all.indexOf(last) + 1 : 0;
    json(res, 200, { name: "app", tags: all.slice(start, start + n) });
  });
  const client = createRegistryClient({ ...quick, pageSize: 10 });
  try {
    assert.deepEqual(await client.listTags(`${host}/app`), all);
    assert.deepEqual(
      seen.map((s) => s.path),
      ["/v2/app/tags/list?n=10", "/v2/app/tags/list?n=10&last=t09", "/v2/app/tags/list?n=10&last=t19"],
    );
  } finally {
    client.close();
  }
});

test("tags the distribution spec does not allow (over 128 characters, other characters) are left out of the listing", async () => {
  const valid = ["1.0.0", "main-abc_1", "_x", "a".repeat(128)];
  const { host } = await serve((_req, res) => json(res, 200, { name: "app", tags: [...valid, "a".repeat(129), "a".repeat(10_000), "-dash", ".dot", "sp ace", "ünï", ""] }));
  const client = createRegistryClient(quick);
  try {
    assert.deepEqual(await client.listTags(`${host}/app`), valid);
  } finally {
    client.close();
  }
});

test("a registry that caps n below the page size is asked again without n", async () => {
  const { host, seen } = await serve((_req, res, url) => {
    if (url.searchParams.has("n")) return json(res, 400, { errors: [{ code: "PAGINATION_NUMBER_INVALID", message: "invalid number of results requested" }] });
    json(res, 200, { name: "app", tags: ["a", "b"] });
  });
  const client = createRegistryClient({ ...quick, pageSize: 5000 });
  try {
    assert.deepEqual(await client.listTags(`${host}/app`), ["a", "b"]);
    assert.equal(seen.length, 2);
  } finally {
    client.close();
  }
});

test("a Link to another host or back to a visited page is refused", async () => {
  const foreign = await serve((_req, res) => json(res, 200, { name: "app", tags: ["a"] }, { link: '<http://evil.example/v2/app/tags/list?last=a>; rel="next"' }));
  const looping = await serve((_req, res) => json(res, 200, { name: "app", tags: ["a"] }, { link: '</v2/app/tags/list>; rel="next"' }));
  const client = createRegistryClient(quick);
  try {
    await assert.rejects(client.listTags(`${foreign.host}/app`), (error: RegistryError) => error.code === "invalid-response" && /another host \(evil.example\)/.test(error.message));
    await assert.rejects(client.listTags(`${looping.host}/app`), (error: RegistryError) => error.code === "invalid-response" && /pagination does not end/.test(error.message));
  } finally {
    client.close();
  }
});

test("HEAD without Docker-Content-Digest falls back to GET and hashes the body", async () => {
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifest, config: { digest: `sha256:${"c".repeat(64)}`, size: 2, mediaType: "x" }, layers: [] });
  const { host, seen } = await serve((req, res) => {
    if (req.method === "HEAD") return res.writeHead(200, { "content-type": MEDIA_TYPES.dockerManifest }).end();
    res.writeHead(200, { "content-type": MEDIA_TYPES.dockerManifest }).end(manifest);
  });
  const client = createRegistryClient(quick);
  try {
    const resolved = await client.resolveDigest(`${host}/app:v1`);
    assert.deepEqual(resolved, { digest: sha(manifest), mediaType: MEDIA_TYPES.dockerManifest, size: manifest.length });
    assert.deepEqual(seen.map((s) => s.method), ["HEAD", "GET"]);
    assert.match(String(seen[0]?.path), /\/v2\/app\/manifests\/v1$/);
  } finally {
    client.close();
  }
});

test("a manifest that does not match its announced digest is refused", async () => {
  const { host } = await serve((_req, res) => {
    res.writeHead(200, { "content-type": MEDIA_TYPES.ociManifest, "docker-content-digest": `sha256:${"0".repeat(64)}` }).end("{}");
  });
  const client = createRegistryClient(quick);
  try {
    await assert.rejects(client.getManifest(`${host}/app:v1`), (error: RegistryError) => error.code === "invalid-response" && /does not match its Docker-Content-Digest/.test(error.message));
  } finally {
    client.close();
  }
});

test("blob redirects to storage on another host drop the registry's Authorization", async () => {
  const config = Buffer.from(JSON.stringify({ created: "2024-04-01T00:00:00Z" }));
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha(config), size: config.length }, layers: [] });
  const storage = await serve((_req, res) => res.writeHead(200).end(config));
  const registry = await serve((req, res, url) => {
    if (req.headers.authorization !== "Basic dTpw") return json(res, 401, {}, { "www-authenticate": 'Basic realm="r"' });
    if (url.pathname.includes("/blobs/")) return res.writeHead(307, { location: `http://${storage.host}/bucket/blob?sig=1` }).end();
    res.writeHead(200, { "content-type": MEDIA_TYPES.ociManifest }).end(manifest);
  });
  const client = createRegistryClient({ ...quick, credentials: new Map([[registry.host, { username: "u", password: "p" }]]) });
  try {
    assert.deepEqual(await client.getImageCreated(`${registry.host}/app:v1`), new Date("2024-04-01T00:00:00Z"));
    assert.equal(storage.seen.length, 1);
    assert.equal(storage.seen[0]?.authorization, undefined);
    // After the first challenge, Basic credentials go along up front.
    assert.deepEqual(registry.seen.map((s) => s.authorization ?? "-"), ["-", "Basic dTpw", "Basic dTpw"]);
  } finally {
    client.close();
  }
});

test("a rejected cached token is renewed once, and the new one reused", async () => {
  let issued = 0;
  let revoked = new Set<string>();
  const auth = await serve((_req, res, url) => {
    issued++;
    json(res, 200, { token: `tok-${issued}-${url.searchParams.get("scope")}`, expires_in: 1 });
  });
  const registry = await serve((req, res) => {
    const token = req.headers.authorization?.replace(/^Bearer /, "");
    if (!token || revoked.has(token)) {
      return json(res, 401, { errors: [{ code: "UNAUTHORIZED" }] }, { "www-authenticate": `Bearer realm="http://${auth.host}/token",service="reg",scope="repository:app:pull"` });
    }
    json(res, 200, { name: "app", tags: ["v1"] });
  });
  const client = createRegistryClient(quick);
  try {
    await client.listTags(`${registry.host}/app`);
    assert.equal(issued, 1);
    revoked = new Set(["tok-1-repository:app:pull"]);
    await client.listTags(`${registry.host}/app`);
    assert.equal(issued, 2, "a fresh token after the cached one was refused");
    await client.listTags(`${registry.host}/app`);
    assert.equal(issued, 2, "the fresh token is reused");
  } finally {
    client.close();
  }
});

test("a request that gets no answer in time is a timeout error", async () => {
  const { host } = await serve(() => {
    // never answers
  });
  const client = createRegistryClient({ ...quick, timeoutMs: 200, retries: 1 });
  try {
    const started = Date.now();
    await assert.rejects(client.listTags(`${host}/app`), (error: RegistryError) => error.code === "timeout" && /did not answer within 200ms, 2 attempts/.test(error.message));
    assert.ok(Date.now() - started >= 400);
  } finally {
    client.close();
  }
});
