import { isLoopback } from "../../util/loopback.ts";
import type { RegistryCredentials } from "./credentials.ts";
import { Redactor, type RegistryError } from "./errors.ts";
import { createTransport, type HttpRequest, type HttpResponse, type Transport } from "./http.ts";
import { InvalidLinkError, nextPageUrl } from "./link.ts";
import {
  choosePlatform,
  configCreated,
  isIndexMediaType,
  MANIFEST_ACCEPT,
  parseManifest,
  sha256Digest,
  verifyDigest,
  type Descriptor,
  type ManifestInfo,
  type Platform,
} from "./manifest.ts";
import {
  imageName,
  ImageReferenceError,
  isValidDigest,
  isValidTag,
  parseImageReference,
  registryApiHost,
  type ImageReference,
} from "./reference.ts";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry.ts";
import { header, RegistrySession, type Operation } from "./session.ts";
import { parseBoundedJson } from "../../input/json.ts";

export interface RegistryClientOptions {
  /** Credentials by registry host, e.g. from `credentialsFromSecret` or `parseDockerConfigJson`. */
  credentials?: RegistryCredentials;
  /** PEM CA certificate(s) trusted in addition to the system roots, for registries with a private CA. */
  caPem?: string | readonly string[];
  /**
   * Talk plain HTTP to registries on loopback (localhost, 127.0.0.0/8, ::1). Other hosts are
   * always HTTPS: an image name with insecure set for one is refused, not silently downgraded.
   */
  insecure?: boolean;
  /** Per request, including redirects and reading the body. Default 30s. */
  timeoutMs?: number;
  /** Further attempts after a network error, 5xx or 429. Default 3. */
  retries?: number;
  /** First backoff step; doubles each retry (with jitter) up to 8s. Default 250ms. */
  retryBaseDelayMs?: number;
  /** A 429 whose Retry-After asks for longer fails at once as rate-limited. Default 60s. */
  maxRetryAfterMs?: number;
  /** Tags per page (`n`). Default: the registry's own page size. */
  pageSize?: number;
  userAgent?: string;
}

export type ImageInput = string | ImageReference;

export interface RegistryClient {
  /** Every tag of the repository, following pagination, in the registry's order, without duplicates. */
  listTags(image: ImageInput): Promise<string[]>;
  /**
   * The manifest digest a tag (or the image's own tag/digest, else `latest`) points at; for a
   * multi-arch image this is the index digest, which is what a Deployment should pin.
   */
  resolveDigest(image: ImageInput, tag?: string): Promise<Descriptor>;
  /** The manifest with its platforms (index) or config (image). */
  getManifest(image: ImageInput, reference?: string): Promise<ManifestInfo>;
  /** When the image was built (config `created`); for an index, that of the given platform (linux/amd64). */
  getImageCreated(image: ImageInput, tag?: string, platform?: Platform): Promise<Date | undefined>;
  /** Releases pooled connections. */
  close(): void;
}

const MAX_TAG_PAGE_BYTES = 16 * 1024 * 1024;
/** Distribution refuses manifests over 4 MiB. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;
const MAX_PAGES = 10_000;
/** The distribution spec's tag grammar: at most 128 characters. */
const VALID_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export function createRegistryClient(options: RegistryClientOptions = {}, transport: Transport = createTransport({ caPem: options.caPem })): RegistryClient {
  const retry: RetryPolicy = {
    ...DEFAULT_RETRY_POLICY,
    ...(options.retries !== undefined ? { retries: options.retries } : {}),
    ...(options.retryBaseDelayMs !== undefined ? { baseDelayMs: options.retryBaseDelayMs } : {}),
    ...(options.maxRetryAfterMs !== undefined ? { maxRetryAfterMs: options.maxRetryAfterMs } : {}),
  };
  const insecure = options.insecure === true;
  const session = new RegistrySession({
    transport,
    credentials: options.credentials,
    retry,
    timeoutMs: options.timeoutMs ?? 30_000,
    userAgent: options.userAgent ?? "fjord-image-scanner",
    redactor: new Redactor(),
    allowsPlainHttp: (host) => insecure && isLoopback(host),
  });

  const start = (image: ImageInput, action: string): { ref: ImageReference; op: Operation; base: URL } => {
    let ref: ImageReference;
    try {
      ref = typeof image === "string" ? parseImageReference(image) : image;
    } catch (error) {
      if (error instanceof ImageReferenceError) {
        const text = typeof image === "string" ? image : imageName(image);
        throw session.fail({ image: text, registry: "", action, scope: "" }, "invalid-reference", `${action}: ${error.message}`);
      }
      throw error;
    }
    const op: Operation = { image: imageName(ref), registry: ref.registry, action, scope: `repository:${ref.repository}:pull` };
    const host = registryApiHost(ref.registry);
    if (insecure && !isLoopback(host)) {
      throw session.fail(
        op,
        "insecure-refused",
        `${action}: plain HTTP is only used for loopback registries (localhost, 127.0.0.1, ::1), not ${host}; serve the registry over HTTPS and give its CA certificate (caPem) if it is private`,
      );
    }
    return { ref, op, base: new URL(`${insecure ? "http" : "https"}://${host}`) };
  };

  const get = (url: URL, accept: string): HttpRequest => ({ method: "GET", url, headers: { accept } });

  /** Turns a final non-2xx answer into the error that says what to do. */
  const failure = (op: Operation, response: HttpResponse, attempts: number, subject: string): RegistryError => {
    const registryError = describeRegistryErrors(response.body);
    const detail = registryError ? ` (${registryError})` : "";
    switch (response.status) {
      case 404:
        return session.fail(op, "not-found", `${op.action}: ${subject} not found (HTTP 404${detail}); check the image name and tag`, 404);
      case 403:
        return session.fail(op, "forbidden", `${op.action}: access denied (HTTP 403${detail}); check that the account in the pull secret may pull this repository`, 403);
      case 401:
        return session.fail(op, "unauthorized", `${op.action}: unauthorized (HTTP 401${detail}); check the pull secret`, 401);
      default:
        return session.fail(
          op,
          "server-error",
          `${op.action}: the registry answered HTTP ${response.status}${detail}${attempts > 1 ? ` after ${attempts} attempts` : ""}; check the registry's health`,
          response.status,
          { attempts },
        );
    }
  };

  const checkReference = (op: Operation, reference: string) => {
    if (!isValidTag(reference) && !isValidDigest(reference)) {
      throw session.fail(op, "invalid-reference", `${op.action}: ${JSON.stringify(reference)} is neither a valid tag nor a digest`);
    }
  };

  const fetchManifest = async (op: Operation, base: URL, ref: ImageReference, reference: string): Promise<ManifestInfo> => {
    checkReference(op, reference);
    const url = new URL(`/v2/${ref.repository}/manifests/${reference}`, base);
    const { response, attempts } = await session.send(op, get(url, MANIFEST_ACCEPT), MAX_MANIFEST_BYTES);
    if (response.status !== 200) throw failure(op, response, attempts, `manifest ${JSON.stringify(reference)}`);
    const digest = manifestDigest(op, response, reference);
    const info = parseManifest(response.body, header(response, "content-type"), digest);
    if (typeof info === "string") throw session.fail(op, "invalid-response", `${op.action}: ${info}`);
    return info;
  };

  const manifestDigest = (op: Operation, response: HttpResponse, reference: string): string => {
    const computed = sha256Digest(response.body);
    const announced = header(response, "docker-content-digest");
    if (isValidDigest(reference) && !verifyDigest(reference, response.body)) {
      throw session.fail(op, "invalid-response", `${op.action}: the manifest served for ${reference} does not match that digest`);
    }
    if (announced !== undefined && isValidDigest(announced)) {
      if (!verifyDigest(announced, response.body)) {
        throw session.fail(op, "invalid-response", `${op.action}: the manifest does not match its Docker-Content-Digest ${announced}`);
      }
      return announced;
    }
    return isValidDigest(reference) ? reference : computed;
  };

  return {
    async listTags(image) {
      const { ref, op, base } = start(image, "listing tags");
      const first = new URL(`/v2/${ref.repository}/tags/list`, base);
      if (options.pageSize !== undefined) first.searchParams.set("n", String(options.pageSize));
      const tags: string[] = [];
      const seen = new Set<string>();
      const visited = new Set<string>();
      let url: URL | undefined = first;
      while (url) {
        if (visited.has(url.href) || visited.size >= MAX_PAGES) {
          throw session.fail(op, "invalid-response", `${op.action}: the registry's pagination does not end (page ${visited.size + 1} repeats or exceeds ${MAX_PAGES})`);
        }
        visited.add(url.href);
        const { response, attempts } = await session.send(op, get(url, "application/json"), MAX_TAG_PAGE_BYTES);
        if (response.status === 400 && visited.size === 1 && url.searchParams.has("n") && /PAGINATION_NUMBER_INVALID/.test(response.body.toString("utf8"))) {
          // The registry caps `n` below our page size: let it choose.
          url = new URL(url);
          url.searchParams.delete("n");
          visited.clear();
          continue;
        }
        if (response.status !== 200) throw failure(op, response, attempts, "repository");
        const page = parseTagPage(response.body);
        if (page === undefined) throw session.fail(op, "invalid-response", `${op.action}: the tag list is not {"name": ..., "tags": [...]} JSON`);
        let added = 0;
        for (const tag of page) {
          if (seen.has(tag)) continue;
          seen.add(tag);
          // A tag the distribution spec does not allow cannot be pulled, so it is never a
          // candidate; leaving it out also keeps every tag a policy's patterns see short.
          if (VALID_TAG.test(tag)) tags.push(tag);
          added++;
        }
        try {
          url = nextPageUrl(header(response, "link"), response.url);
        } catch (error) {
          if (error instanceof InvalidLinkError) throw session.fail(op, "invalid-response", `${op.action}: ${error.message}`);
          throw error;
        }
        const requested = Number(response.url.searchParams.get("n") ?? Number.NaN);
        // Some registries page without a Link header; a full page means there may be more.
        if (url === undefined && page.length > 0 && page.length === requested && added > 0) {
          url = new URL(response.url);
          url.searchParams.set("last", page[page.length - 1] ?? "");
        }
        if (url !== undefined && url.origin !== base.origin) {
          throw session.fail(op, "invalid-response", `${op.action}: the registry's next-page link points to another host (${url.host}); not followed`);
        }
      }
      return tags;
    },

    async resolveDigest(image, tag) {
      const { ref, op, base } = start(image, "resolving the digest");
      const reference = tag ?? ref.digest ?? ref.tag ?? "latest";
      checkReference(op, reference);
      const url = new URL(`/v2/${ref.repository}/manifests/${reference}`, base);
      const { response, attempts } = await session.send(op, { method: "HEAD", url, headers: { accept: MANIFEST_ACCEPT } }, MAX_MANIFEST_BYTES);
      const announced = header(response, "docker-content-digest");
      if (response.status === 200 && announced !== undefined && isValidDigest(announced)) {
        return {
          digest: announced,
          mediaType: header(response, "content-type")?.split(";")[0]?.trim() ?? "",
          size: Number(header(response, "content-length") ?? 0),
        };
      }
      // No digest on HEAD (some registries) or HEAD not allowed: read the manifest and hash it.
      if (response.status !== 200 && response.status !== 405 && response.status !== 400) throw failure(op, response, attempts, `tag ${JSON.stringify(reference)}`);
      const info = await fetchManifest(op, base, ref, reference);
      return { digest: info.digest, mediaType: info.mediaType, size: info.size };
    },

    async getManifest(image, reference) {
      const { ref, op, base } = start(image, "reading the manifest");
      return fetchManifest(op, base, ref, reference ?? ref.digest ?? ref.tag ?? "latest");
    },

    async getImageCreated(image, tag, platform) {
      const { ref, op, base } = start(image, "reading the image's creation time");
      let manifest = await fetchManifest(op, base, ref, tag ?? ref.digest ?? ref.tag ?? "latest");
      if (isIndexMediaType(manifest.mediaType) || manifest.manifests !== undefined) {
        const entry = choosePlatform(manifest.manifests ?? [], platform);
        if (!entry) return undefined;
        manifest = await fetchManifest(op, base, ref, entry.digest);
      }
      if (!manifest.config) return undefined;
      const url = new URL(`/v2/${ref.repository}/blobs/${manifest.config.digest}`, base);
      const { response, attempts } = await session.send(op, get(url, "application/json, */*"), MAX_CONFIG_BYTES);
      if (response.status !== 200) throw failure(op, response, attempts, `config blob ${manifest.config.digest}`);
      if (!verifyDigest(manifest.config.digest, response.body)) {
        throw session.fail(op, "invalid-response", `${op.action}: the config blob does not match its digest ${manifest.config.digest}`);
      }
      return configCreated(response.body);
    },

    close() {
      transport.close();
    },
  };
}

function parseTagPage(body: Buffer): string[] | undefined {
  try {
    // Sizes are bounded by the transport (MAX_TAG_PAGE_BYTES); nesting is checked here.
    const parsed = parseBoundedJson(body.toString("utf8"), "the tag list", Number.POSITIVE_INFINITY) as { tags?: unknown };
    // An empty repository is `"tags": null` on some registries.
    if (parsed.tags === null || parsed.tags === undefined) return [];
    if (!Array.isArray(parsed.tags) || !parsed.tags.every((tag) => typeof tag === "string")) return undefined;
    return parsed.tags;
  } catch {
    return undefined;
  }
}

/** The distribution API's `{"errors": [{"code", "message"}]}`, short; details are left out as they may echo input. */
function describeRegistryErrors(body: Buffer): string | undefined {
  try {
    const parsed = parseBoundedJson(body.toString("utf8"), "the error", Number.POSITIVE_INFINITY) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    const parts = (parsed.errors ?? [])
      .slice(0, 3)
      .map((error) => [error.code, error.message].filter((part) => typeof part === "string" && part !== "").join(": "))
      .filter((part) => part !== "");
    return parts.length > 0 ? parts.join("; ").slice(0, 300) : undefined;
  } catch {
    return undefined;
  }
}

