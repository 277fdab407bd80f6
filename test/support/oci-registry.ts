// A real OCI registry for tests: distribution's `registry` binary (built from Go modules) on a
// loopback port, storing into a temp directory. Three modes: anonymous (plain HTTP, no auth),
// token (Docker token auth: a token server here checks Basic credentials and issues JWTs signed
// by a key whose CA is the registry's rootcertbundle) and tls (HTTPS with a throw-away CA).
// Images are pushed through the distribution API itself, so tests need no container engine.

import { createHash, randomBytes, sign, timingSafeEqual, X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { gzipSync } from "node:zlib";
import { stringify } from "yaml";
import { createCertificateAuthority, issueCertificate } from "../../src/pki/x509.ts";
import { ensureBinaries } from "../../testenv/ensure-binaries.ts";
import { ManagedProcess } from "../../testenv/managed-process.ts";
import { freePort } from "../../testenv/ports.ts";

export type RegistryMode = "anonymous" | "token" | "tls";

export interface OciRegistryOptions {
  mode?: RegistryMode;
  /** Token mode: accounts the token server accepts (default one: fjord / fjord-secret-pw). */
  users?: Record<string, string>;
  /** Token mode: whether a request without credentials gets a pull token (like a public Docker Hub repository). */
  anonymousPull?: boolean;
  /** Token mode: lifetime of issued tokens. */
  tokenTtlSeconds?: number;
}

export interface PushedImage {
  /** Manifest digest. */
  digest: string;
  configDigest: string;
  mediaType: string;
}

export interface PushedIndex {
  digest: string;
  mediaType: string;
  manifests: Array<PushedImage & { size: number; platform: Platform }>;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageOptions {
  /** The config's `created` time (what Flux v1 ordered glob tags by). */
  created?: Date;
  platform?: Platform;
  /** Makes the image (and so its digest) distinct. */
  content?: string;
  /** Docker v2 media types instead of OCI. */
  docker?: boolean;
}

export interface OciRegistry {
  readonly mode: RegistryMode;
  /** `127.0.0.1:<port>`: the registry part of image names. */
  readonly host: string;
  /** `http(s)://127.0.0.1:<port>` */
  readonly url: string;
  /** TLS mode: the CA that signed the registry's certificate. */
  readonly caPem?: string;
  readonly users: Readonly<Record<string, string>>;
  readonly logFile: string;
  /** Token mode: token requests served, and how many were refused. */
  readonly tokenStats: { issued: number; refused: number };
  /** `host/repository`, e.g. for listTags. */
  image(repository: string): string;
  /** A `.dockerconfigjson` document with an `auths` entry for this registry. */
  dockerConfigJson(username?: string, password?: string): string;
  pushImage(repository: string, tags: readonly string[], options?: ImageOptions): Promise<PushedImage>;
  /** A multi-arch OCI index (one image per platform) under the given tags. */
  pushIndex(repository: string, tags: readonly string[], platforms: readonly Platform[], options?: Omit<ImageOptions, "platform" | "docker">): Promise<PushedIndex>;
  /** Puts an existing manifest (by digest) under more tags. */
  tag(repository: string, digest: string, tags: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
const DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";

const SERVICE = "fjord-test-registry";
const ISSUER = "fjord-test-token-issuer";

export async function startOciRegistry(options: OciRegistryOptions = {}): Promise<OciRegistry> {
  const mode = options.mode ?? "anonymous";
  const users = options.users ?? { fjord: "fjord-secret-pw" };
  const { registry: binary } = await ensureBinaries(["registry"], (line) => process.stderr.write(`[oci-registry] ${line}\n`));

  const dir = await mkdtemp(join(tmpdir(), "fjord-registry-"));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config: Record<string, unknown> = {
    version: "0.1",
    log: { level: "info", accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: join(dir, "data") },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: host, secret: randomBytes(16).toString("hex") },
  };

  let caPem: string | undefined;
  let tokenServer: TokenServer | undefined;
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    if (mode === "tls") {
      const ca = await createCertificateAuthority("fjord-test-registry-ca");
      const serving = await issueCertificate(ca, { commonName: "fjord-test-registry", usage: "server", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
      await writeFile(join(dir, "tls.crt"), serving.certificatePem);
      await writeFile(join(dir, "tls.key"), serving.privateKeyPem, { mode: 0o600 });
      (config.http as Record<string, unknown>).tls = { certificate: join(dir, "tls.crt"), key: join(dir, "tls.key") };
      caPem = ca.certificatePem;
    }
    if (mode === "token") {
      const server = await startTokenServer({ users, anonymousPull: options.anonymousPull ?? false, ttlSeconds: options.tokenTtlSeconds ?? 300 });
      tokenServer = server;
      cleanups.push(() => server.close());
      await writeFile(join(dir, "token-ca.crt"), server.caPem);
      config.auth = { token: { realm: server.realm, service: SERVICE, issuer: ISSUER, rootcertbundle: join(dir, "token-ca.crt") } };
    }
    await writeFile(join(dir, "config.yml"), stringify(config));

    const logFile = join(dir, "registry.log");
    const child = ManagedProcess.start({
      component: "registry",
      binary,
      args: ["serve", join(dir, "config.yml")],
      logFile,
      // Distribution exports traces over OTLP by default; there is no collector here.
      env: { ...process.env, OTEL_TRACES_EXPORTER: "none" },
    });
    cleanups.push(() => stopProcess(child));

    const scheme = mode === "tls" ? "https" : "http";
    const url = `${scheme}://${host}`;
    const agent = mode === "tls" ? new https.Agent({ keepAlive: true, ca: caPem }) : new http.Agent({ keepAlive: true });
    cleanups.push(() => agent.destroy());
    const api = (method: string, path: string, init: { headers?: Record<string, string>; body?: Buffer } = {}) =>
      rawRequest(agent, new URL(path, url), method, init.headers ?? {}, init.body);

    await child.waitReady({
      timeoutMs: 30_000,
      timeoutHint: "read the registry log",
      ready: async () => {
        try {
          const response = await api("GET", "/v2/");
          return response.status === 200 || response.status === 401;
        } catch {
          return false;
        }
      },
    });

    // The test support pushes with a token it signs itself: pushing is set-up, not what is tested.
    const pushAuth = (repository: string): Record<string, string> =>
      tokenServer ? { authorization: `Bearer ${tokenServer.mint("fjord-test-pusher", [{ type: "repository", name: repository, actions: ["pull", "push"] }])}` } : {};

    const uploadBlob = async (repository: string, blob: Buffer): Promise<string> => {
      const digest = sha256(blob);
      const auth = pushAuth(repository);
      if ((await api("HEAD", `/v2/${repository}/blobs/${digest}`, { headers: auth })).status === 200) return digest;
      const started = await api("POST", `/v2/${repository}/blobs/uploads/`, { headers: auth });
      const location = started.headers.location;
      if (started.status !== 202 || typeof location !== "string") throw new Error(`blob upload start failed: HTTP ${started.status} ${started.body.toString()}`);
      const target = new URL(location, url);
      target.searchParams.set("digest", digest);
      const done = await rawRequest(agent, target, "PUT", { ...auth, "content-type": "application/octet-stream" }, blob);
      if (done.status !== 201) throw new Error(`blob upload failed: HTTP ${done.status} ${done.body.toString()}`);
      return digest;
    };

    const putManifest = async (repository: string, reference: string, mediaType: string, body: Buffer): Promise<string> => {
      const response = await api("PUT", `/v2/${repository}/manifests/${reference}`, { headers: { ...pushAuth(repository), "content-type": mediaType }, body });
      if (response.status !== 201) throw new Error(`manifest put ${repository}:${reference} failed: HTTP ${response.status} ${response.body.toString()}`);
      return sha256(body);
    };

    const buildImage = async (repository: string, image: ImageOptions) => {
      const platform = image.platform ?? { os: "linux", architecture: "amd64" };
      const layerText = `fjord test layer ${repository} ${image.content ?? ""} ${platform.os}/${platform.architecture}${platform.variant ?? ""}\n`;
      const layer = gzipSync(Buffer.from(layerText));
      const configBlob = Buffer.from(
        JSON.stringify({
          created: (image.created ?? new Date()).toISOString(),
          architecture: platform.architecture,
          os: platform.os,
          ...(platform.variant ? { variant: platform.variant } : {}),
          config: { Labels: { "dev.fjord.test": image.content ?? "" } },
          rootfs: { type: "layers", diff_ids: [sha256(Buffer.from(layerText))] },
        }),
      );
      const [configDigest, layerDigest] = [await uploadBlob(repository, configBlob), await uploadBlob(repository, layer)];
      const mediaType = image.docker ? DOCKER_MANIFEST : OCI_MANIFEST;
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType,
          config: { mediaType: image.docker ? DOCKER_CONFIG : OCI_CONFIG, digest: configDigest, size: configBlob.length },
          layers: [{ mediaType: image.docker ? DOCKER_LAYER : OCI_LAYER, digest: layerDigest, size: layer.length }],
        }),
      );
      return { manifest, mediaType, configDigest, platform };
    };

    const putUnderTags = async (repository: string, tags: readonly string[], mediaType: string, body: Buffer) => {
      const digest = sha256(body);
      if (tags.length === 0) await putManifest(repository, digest, mediaType, body);
      for (const tag of tags) await putManifest(repository, tag, mediaType, body);
      return digest;
    };

    const registry: OciRegistry = {
      mode,
      host,
      url,
      caPem,
      users,
      logFile,
      get tokenStats() {
        return tokenServer ? { issued: tokenServer.issued, refused: tokenServer.refused } : { issued: 0, refused: 0 };
      },
      image: (repository) => `${host}/${repository}`,
      dockerConfigJson(username = Object.keys(users)[0] ?? "", password = users[username] ?? "") {
        return JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${username}:${password}`).toString("base64") } } });
      },
      async pushImage(repository, tags, image = {}) {
        const built = await buildImage(repository, image);
        const digest = await putUnderTags(repository, tags, built.mediaType, built.manifest);
        return { digest, configDigest: built.configDigest, mediaType: built.mediaType };
      },
      async pushIndex(repository, tags, platforms, image = {}) {
        const manifests: PushedIndex["manifests"] = [];
        for (const platform of platforms) {
          const built = await buildImage(repository, { ...image, platform });
          const digest = await putManifest(repository, sha256(built.manifest), built.mediaType, built.manifest);
          manifests.push({ digest, configDigest: built.configDigest, mediaType: built.mediaType, size: built.manifest.length, platform });
        }
        const index = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_INDEX,
            manifests: manifests.map((entry) => ({ mediaType: entry.mediaType, digest: entry.digest, size: entry.size, platform: entry.platform })),
          }),
        );
        const digest = await putUnderTags(repository, tags, OCI_INDEX, index);
        return { digest, mediaType: OCI_INDEX, manifests };
      },
      async tag(repository, digest, tags) {
        const response = await api("GET", `/v2/${repository}/manifests/${digest}`, {
          headers: { ...pushAuth(repository), accept: [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST].join(", ") },
        });
        if (response.status !== 200) throw new Error(`manifest ${digest} not found: HTTP ${response.status}`);
        const mediaType = String(response.headers["content-type"] ?? OCI_MANIFEST);
        for (const tag of tags) await putManifest(repository, tag, mediaType, response.body);
      },
      async stop() {
        await runCleanups(cleanups);
        await rm(dir, { recursive: true, force: true });
      },
    };
    return registry;
  } catch (error) {
    await runCleanups(cleanups);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Docker token server (https://distribution.github.io/distribution/spec/auth/token/)

interface Access {
  type: string;
  name: string;
  actions: string[];
}

interface TokenServer {
  realm: string;
  caPem: string;
  issued: number;
  refused: number;
  mint(subject: string, access: Access[]): string;
  close(): Promise<void>;
}

async function startTokenServer(options: { users: Record<string, string>; anonymousPull: boolean; ttlSeconds: number }): Promise<TokenServer> {
  const ca = await createCertificateAuthority("fjord-test-token-ca");
  const signer = await issueCertificate(ca, { commonName: "fjord-test-token-signer", usage: "client" });
  // x5c carries the signing certificate; the registry verifies it chains to rootcertbundle.
  const x5c = [new X509Certificate(signer.certificatePem).raw.toString("base64")];

  const mint = (subject: string, access: Access[]) => {
    const now = Math.floor(Date.now() / 1000);
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const signingInput = `${encode({ typ: "JWT", alg: "ES256", x5c })}.${encode({
      iss: ISSUER,
      sub: subject,
      aud: SERVICE,
      exp: now + options.ttlSeconds,
      nbf: now - 5,
      iat: now,
      jti: randomBytes(8).toString("hex"),
      access,
    })}`;
    const signature = sign("sha256", Buffer.from(signingInput), { key: signer.privateKeyPem, dsaEncoding: "ieee-p1363" });
    return `${signingInput}.${signature.toString("base64url")}`;
  };

  const state = { issued: 0, refused: 0 };
  const refuse = (res: ServerResponse, status: number, message: string) => {
    state.refused++;
    res.writeHead(status, { "content-type": "application/json", "www-authenticate": 'Basic realm="fjord-test-token"' });
    res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message }] }));
  };

  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://token");
    if (url.pathname !== "/token" || req.method !== "GET") {
      res.writeHead(404).end();
      return;
    }
    if (url.searchParams.get("service") !== SERVICE) {
      refuse(res, 400, "unknown service");
      return;
    }
    const { sent, user } = checkBasic(req.headers.authorization, options.users);
    if (sent && user === undefined) {
      refuse(res, 401, "invalid username or password");
      return;
    }
    if (user === undefined && !options.anonymousPull) {
      refuse(res, 401, "authentication required");
      return;
    }
    const access: Access[] = url.searchParams.getAll("scope").flatMap((scope) => {
      const match = /^repository:([^:]+):(.+)$/.exec(scope);
      if (!match) return [];
      const allowed = user === undefined ? ["pull"] : ["pull", "push"];
      return [{ type: "repository", name: match[1] ?? "", actions: (match[2] ?? "").split(",").filter((action) => allowed.includes(action)) }];
    });
    state.issued++;
    const token = mint(user ?? "anonymous", access);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token, access_token: token, expires_in: options.ttlSeconds, issued_at: new Date().toISOString() }));
  });
  await listen(server);
  return {
    realm: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`,
    caPem: ca.certificatePem,
    get issued() {
      return state.issued;
    },
    get refused() {
      return state.refused;
    },
    mint,
    close: () => closeServer(server),
  };
}

/** `sent`: whether Basic credentials came at all; `user`: set when they are valid. */
function checkBasic(header: string | undefined, users: Record<string, string>): { sent: boolean; user?: string } {
  if (!header) return { sent: false };
  const match = /^Basic\s+(\S+)$/i.exec(header);
  if (!match) return { sent: true };
  const decoded = Buffer.from(match[1] ?? "", "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const [name, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
  const expected = users[name];
  if (colon < 0 || expected === undefined) return { sent: true };
  const a = Buffer.from(password);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b) ? { sent: true, user: name } : { sent: true };
}

// ---------------------------------------------------------------------------------------------
// A proxy in front of an anonymous registry, for faults the registry itself does not produce.

export interface ProxyOptions {
  /** Answer the first N requests that `match` with 429 and this Retry-After (seconds). */
  rateLimit?: { times: number; retryAfterSeconds: number | string; match?: (path: string) => boolean };
  /** Answer the first N requests with 503. */
  unavailable?: { times: number };
  /** Demand HTTP Basic credentials (answering 401 with a Basic challenge), as registries behind htpasswd do. */
  basicAuth?: { username: string; password: string };
}

export interface RegistryProxy {
  readonly host: string;
  readonly url: string;
  /** Every request the proxy saw, as `METHOD path?query`. */
  readonly requests: string[];
  /** Requests answered by the proxy itself (429, 503, 401). */
  readonly faults: number;
  image(repository: string): string;
  close(): Promise<void>;
}

export async function startRegistryProxy(target: OciRegistry, options: ProxyOptions): Promise<RegistryProxy> {
  if (target.mode !== "anonymous") throw new Error("the fault proxy forwards to an anonymous (plain HTTP) registry");
  const upstream = new URL(target.url);
  const requests: string[] = [];
  const counters = { rateLimited: 0, unavailable: 0, faults: 0 };
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const path = req.url ?? "/";
    requests.push(`${req.method} ${path}`);
    const limit = options.rateLimit;
    if (limit && counters.rateLimited < limit.times && (limit.match ?? (() => true))(path)) {
      counters.rateLimited++;
      counters.faults++;
      res.writeHead(429, { "retry-after": String(limit.retryAfterSeconds), "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "TOOMANYREQUESTS", message: "rate limit exceeded" }] }));
      return;
    }
    if (options.unavailable && counters.unavailable < options.unavailable.times) {
      counters.unavailable++;
      counters.faults++;
      res.writeHead(503).end("unavailable");
      return;
    }
    if (options.basicAuth) {
      const { user } = checkBasic(req.headers.authorization, { [options.basicAuth.username]: options.basicAuth.password });
      if (user === undefined) {
        counters.faults++;
        res.writeHead(401, { "www-authenticate": 'Basic realm="fjord-test-registry"', "content-type": "application/json" });
        res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
        return;
      }
    }
    const headers = { ...req.headers, host: upstream.host };
    delete headers.authorization;
    const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path, headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on("error", () => res.writeHead(502).end());
    req.pipe(forward);
  });
  await listen(server);
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    url: `http://${host}`,
    requests,
    get faults() {
      return counters.faults;
    },
    image: (repository) => `${host}/${repository}`,
    async close() {
      agent.destroy();
      await closeServer(server);
    },
  };
}

// ---------------------------------------------------------------------------------------------

/**
 * SIGTERM, then SIGKILL after a grace period. ManagedProcess.stop would leave its grace timer
 * pending, holding a finished test file open for that long.
 */
async function stopProcess(child: ManagedProcess, graceMs = 5_000): Promise<void> {
  if (!child.running || child.pid === undefined) return;
  process.kill(child.pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (child.running && Date.now() < deadline) await sleep(50);
  if (child.running) child.killNow();
  while (child.running) await sleep(20);
}

/** Last set up, first torn down; one failing step does not keep the others from running. */
async function runCleanups(cleanups: Array<() => Promise<void> | void>): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch {
      // keep tearing down
    }
  }
}

function sha256(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function rawRequest(agent: http.Agent, url: URL, method: string, headers: Record<string, string>, body?: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === "https:" ? https : http;
    const req = transport.request(url, { method, agent, headers: { ...headers, ...(body ? { "content-length": String(body.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${url.pathname} timed out`)));
    req.on("error", reject);
    req.end(body);
  });
}

function listen(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}

async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
