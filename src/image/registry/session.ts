import { setTimeout as sleep } from "node:timers/promises";
import { parseWwwAuthenticate, type AuthChallenge } from "./challenge.ts";
import { findCredential, type RegistryCredential, type RegistryCredentials } from "./credentials.ts";
import type { Redactor, RegistryError } from "./errors.ts";
import { TransportError, type HttpRequest, type HttpResponse, type Transport } from "./http.ts";
import { backoffDelay, isRetryableStatus, parseRetryAfter, type RetryPolicy } from "./retry.ts";
import { TokenCache, tokenExpiry } from "./token-cache.ts";
import { parseBoundedJson } from "../../input/json.ts";

/** What one client operation is about, for messages and for picking credentials. */
export interface Operation {
  /** `registry/repository`, the prefix of every error message. */
  image: string;
  /** Registry as named in the image (`docker.io`), the key for credentials. */
  registry: string;
  /** e.g. "listing tags" */
  action: string;
  /** Token scope, e.g. `repository:library/nginx:pull`. */
  scope: string;
}

export interface SessionOptions {
  transport: Transport;
  credentials?: RegistryCredentials;
  retry: RetryPolicy;
  timeoutMs: number;
  userAgent: string;
  redactor: Redactor;
  /** Whether a plain-HTTP URL (token realm) may be used for this host. */
  allowsPlainHttp: (host: string) => boolean;
}

export interface Attempted {
  response: HttpResponse;
  attempts: number;
}

/**
 * The request layer under every operation: retries with backoff on network errors and 5xx,
 * waits out 429s that name a bearable Retry-After, and answers 401 challenges (Bearer tokens from
 * the realm, cached per scope; Basic with the registry's credentials).
 */
export class RegistrySession {
  private readonly tokens = new TokenCache();
  /** Challenge learned per registry host, so later requests authenticate up front. */
  private readonly challenges = new Map<string, AuthChallenge>();

  constructor(private readonly options: SessionOptions) {
    for (const credential of options.credentials?.values() ?? []) {
      options.redactor.add(credential.password);
      options.redactor.add(basic(credential).slice("Basic ".length));
    }
  }

  /** A request made with whatever authentication the registry asks for. */
  async send(op: Operation, request: HttpRequest, maxBodyBytes: number): Promise<Attempted> {
    const host = request.url.host;
    const known = this.challenges.get(host);
    let authorization = await this.authorization(op, known, op.scope);
    let result = await this.execute(op, withAuthorization(request, authorization), maxBodyBytes);
    if (result.response.status !== 401) return result;

    const challenge = preferred(parseWwwAuthenticate(result.response.headers["www-authenticate"]));
    if (!challenge) {
      throw this.fail(op, "unauthorized", `${op.action}: the registry answered HTTP 401 without a Bearer or Basic challenge; check the registry address`, 401);
    }
    const credential = findCredential(this.options.credentials, op.registry);
    if (authorization !== undefined && challenge.scheme === "basic") {
      throw this.unauthorized(op, credential, "the registry rejected the credentials");
    }
    // A cached token may have been revoked or cut short; one fresh token is worth a try.
    const scope = challenge.scheme === "bearer" && challenge.params.scope ? challenge.params.scope : op.scope;
    if (known && challenge.scheme === "bearer") this.tokens.delete(this.tokenKey(challenge, scope, credential));
    this.challenges.set(host, challenge);
    authorization = await this.authorization(op, challenge, scope);
    if (authorization === undefined) throw this.unauthorized(op, undefined, "the registry requires authentication");
    result = await this.execute(op, withAuthorization(request, authorization), maxBodyBytes);
    if (result.response.status === 401) {
      const again = preferred(parseWwwAuthenticate(result.response.headers["www-authenticate"]));
      const insufficient = again?.params.error === "insufficient_scope";
      throw this.unauthorized(
        op,
        credential,
        insufficient || challenge.scheme === "bearer"
          ? "the registry refused the token it issued: not allowed to pull (the repository may not exist, or the account lacks access to it)"
          : "the registry rejected the credentials",
      );
    }
    return result;
  }

  /** One logical request with retries; the last response is returned even if it is a 5xx. */
  async execute(op: Operation, request: HttpRequest, maxBodyBytes: number): Promise<Attempted> {
    const { retry } = this.options;
    const headers = { "user-agent": this.options.userAgent, ...request.headers };
    for (let attempt = 0; ; attempt++) {
      const attempts = attempt + 1;
      let response: HttpResponse;
      try {
        response = await this.options.transport.request({ ...request, headers }, { timeoutMs: this.options.timeoutMs, maxBodyBytes });
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        if ((error.kind === "network" || error.kind === "timeout") && attempt < retry.retries) {
          await sleep(backoffDelay(attempt, retry));
          continue;
        }
        throw this.transportFailure(op, request.url, error, attempts);
      }
      if (response.status === 429) {
        const retryAfter = parseRetryAfter(header(response, "retry-after"));
        const wait = retryAfter ?? backoffDelay(attempt, retry);
        if (attempt < retry.retries && wait <= retry.maxRetryAfterMs) {
          await sleep(wait);
          continue;
        }
        const after = retryAfter !== undefined ? `; it asks to retry after ${Math.ceil(retryAfter / 1000)}s` : "";
        throw this.fail(
          op,
          "rate-limited",
          `${op.action}: ${request.url.host} is rate limiting requests (HTTP 429, ${attempts === 1 ? "1 attempt" : `${attempts} attempts`})${after}; retry later, or authenticate to get a higher limit`,
          429,
          { retryAfterMs: retryAfter, attempts },
        );
      }
      if (isRetryableStatus(response.status) && attempt < retry.retries) {
        await sleep(backoffDelay(attempt, retry));
        continue;
      }
      return { response, attempts };
    }
  }

  private async authorization(op: Operation, challenge: AuthChallenge | undefined, scope: string): Promise<string | undefined> {
    if (!challenge) return undefined;
    const credential = findCredential(this.options.credentials, op.registry);
    if (challenge.scheme === "basic") return credential ? basic(credential) : undefined;
    return `Bearer ${await this.token(op, challenge, scope, credential)}`;
  }

  private tokenKey(challenge: AuthChallenge, scope: string, credential: RegistryCredential | undefined): string {
    return TokenCache.key({ realm: challenge.params.realm ?? "", service: challenge.params.service, scope, account: credential?.username });
  }

  /** Docker token spec: GET realm?service=..&scope=.., with Basic credentials when there are any. */
  private async token(op: Operation, challenge: AuthChallenge, scope: string, credential: RegistryCredential | undefined): Promise<string> {
    const key = this.tokenKey(challenge, scope, credential);
    const cached = this.tokens.get(key);
    if (cached !== undefined) return cached;

    const realm = this.realmUrl(op, challenge.params.realm);
    if (challenge.params.service) realm.searchParams.set("service", challenge.params.service);
    if (scope) realm.searchParams.set("scope", scope);
    const headers: Record<string, string> = { accept: "application/json" };
    if (credential) headers.authorization = basic(credential);
    const { response, attempts } = await this.execute(op, { method: "GET", url: realm, headers }, 1024 * 1024);
    if (response.status === 401 || response.status === 403) {
      const service = `the token service at ${realm.origin}${realm.pathname}`;
      throw this.unauthorized(op, credential, credential ? `${service} rejected the credentials` : `${service} requires credentials`, response.status);
    }
    if (response.status !== 200) {
      throw this.fail(op, "server-error", `${op.action}: the token service at ${realm.origin}${realm.pathname} answered HTTP ${response.status} (${attempts} attempts); try again later`, response.status);
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      body = parseBoundedJson(response.body.toString("utf8"), "the token", Number.POSITIVE_INFINITY) as typeof body;
    } catch {
      throw this.fail(op, "invalid-response", `${op.action}: the token service at ${realm.origin}${realm.pathname} did not answer with JSON`);
    }
    const token = typeof body.token === "string" && body.token !== "" ? body.token : body.access_token;
    if (typeof token !== "string" || token === "") {
      throw this.fail(op, "invalid-response", `${op.action}: the token service at ${realm.origin}${realm.pathname} answered without a token`);
    }
    this.options.redactor.addToken(token);
    this.tokens.set(key, { token, expiresAt: tokenExpiry(body, Date.now()) });
    return token;
  }

  private realmUrl(op: Operation, realm: string | undefined): URL {
    let url: URL;
    try {
      url = new URL(realm ?? "");
    } catch {
      throw this.fail(op, "invalid-response", `${op.action}: the registry's Bearer challenge names no usable realm (${JSON.stringify(realm ?? "")})`);
    }
    if (url.protocol === "https:") return url;
    if (url.protocol === "http:" && this.options.allowsPlainHttp(url.host)) return url;
    throw this.fail(op, "insecure-refused", `${op.action}: the token realm ${url.origin} is not HTTPS; credentials are only sent over plain HTTP to loopback hosts with insecure set`);
  }

  private unauthorized(op: Operation, credential: RegistryCredential | undefined, what: string, status = 401): RegistryError {
    // The username is left out too: some registries take a token in its place.
    const fix = credential
      ? `check the username and password for ${op.registry} in the kubernetes.io/dockerconfigjson Secret`
      : `no credentials were given for ${op.registry}; add an "auths" entry for ${op.registry} to a kubernetes.io/dockerconfigjson Secret and reference it`;
    return this.fail(op, "unauthorized", `${op.action}: ${what} (HTTP ${status}); ${fix}`, status);
  }

  private transportFailure(op: Operation, url: URL, error: TransportError, attempts: number): RegistryError {
    const tries = attempts > 1 ? `, ${attempts} attempts` : "";
    switch (error.kind) {
      case "tls":
        return this.fail(
          op,
          "tls",
          `${op.action}: TLS with ${url.host} failed (${error.causeCode ?? error.message}); if the registry uses a private CA, give its certificate (caPem), and check the registry serves HTTPS on that port`,
        );
      case "timeout":
        return this.fail(op, "timeout", `${op.action}: ${url.host} did not answer within ${this.options.timeoutMs}ms${tries}; check the registry is healthy or raise the timeout`, undefined, { attempts });
      case "too-large":
        return this.fail(op, "invalid-response", `${op.action}: ${url.host} sent a ${error.message}`);
      case "redirects":
        return this.fail(op, "invalid-response", `${op.action}: ${url.host} redirected ${error.message}`);
      default:
        return this.fail(
          op,
          "unreachable",
          `${op.action}: cannot reach ${url.host} (${error.causeCode ?? error.message}${tries}); check the registry address and that the registry is up and reachable from here`,
          undefined,
          { attempts },
        );
    }
  }

  fail(op: Operation, code: RegistryError["code"], message: string, status?: number, extra: RegistryError["details"] = {}): RegistryError {
    return this.options.redactor.error(code, op.image, message, { ...extra, ...(status !== undefined ? { status } : {}) });
  }
}

function preferred(challenges: AuthChallenge[]): AuthChallenge | undefined {
  return challenges.find((c) => c.scheme === "bearer") ?? challenges.find((c) => c.scheme === "basic");
}

function basic(credential: RegistryCredential): string {
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`;
}

function withAuthorization(request: HttpRequest, authorization: string | undefined): HttpRequest {
  return authorization === undefined ? request : { ...request, headers: { ...request.headers, authorization } };
}

export function header(response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
