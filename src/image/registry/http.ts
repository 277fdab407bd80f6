import http from "node:http";
import https from "node:https";
import { rootCertificates } from "node:tls";

// node:http(s) rather than fetch: a custom CA needs an agent, and fetch's (undici) is not a
// dependency of ours.

export interface HttpRequest {
  method: "GET" | "HEAD";
  url: URL;
  headers: Record<string, string>;
}

export interface HttpResponse {
  status: number;
  /** Header names lowercased; repeated headers (WWW-Authenticate) keep every value. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** After redirects. */
  url: URL;
}

export type TransportFailure = "network" | "timeout" | "tls" | "too-large" | "redirects";

export class TransportError extends Error {
  constructor(
    readonly kind: TransportFailure,
    /** Node's error code (ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT...) when there is one. */
    readonly causeCode: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = "TransportError";
  }
}

export interface TransportOptions {
  /** PEM certificates trusted in addition to the system roots. */
  caPem?: string | readonly string[];
}

export interface Transport {
  request(request: HttpRequest, limits: { timeoutMs: number; maxBodyBytes: number }): Promise<HttpResponse>;
  close(): void;
}

const MAX_REDIRECTS = 5;
const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|ERR_SSL|EPROTO|UNABLE_TO/;

export function createTransport(options: TransportOptions = {}): Transport {
  const extraCa = options.caPem === undefined ? [] : typeof options.caPem === "string" ? [options.caPem] : [...options.caPem];
  const httpsAgent = new https.Agent({
    keepAlive: true,
    // Node's `ca` replaces the system roots; a private registry's CA should add to them.
    ...(extraCa.length > 0 ? { ca: [...rootCertificates, ...extraCa] } : {}),
  });
  const httpAgent = new http.Agent({ keepAlive: true });

  const once = (request: HttpRequest, limits: { timeoutMs: number; maxBodyBytes: number }, deadline: number) =>
    new Promise<HttpResponse>((resolve, reject) => {
      const { url } = request;
      const secure = url.protocol === "https:";
      const remaining = Math.max(1, deadline - Date.now());
      let settled = false;
      const finish = (error: TransportError | undefined, response?: HttpResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(response!);
      };
      const req = (secure ? https : http).request(
        url,
        { method: request.method, headers: request.headers, agent: secure ? httpsAgent : httpAgent },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > limits.maxBodyBytes) {
              req.destroy();
              finish(new TransportError("too-large", undefined, `response larger than ${limits.maxBodyBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on("end", () =>
            finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), url }),
          );
          res.on("error", (error: NodeJS.ErrnoException) => finish(networkError(error)));
        },
      );
      const timer = setTimeout(() => {
        finish(new TransportError("timeout", undefined, `no complete answer within ${limits.timeoutMs}ms`));
        req.destroy();
      }, remaining);
      req.on("error", (error: NodeJS.ErrnoException) => finish(networkError(error)));
      req.end();
    });

  return {
    async request(request, limits) {
      // One deadline across redirects: the timeout is per logical request.
      const deadline = Date.now() + limits.timeoutMs;
      let current = request;
      for (let hop = 0; ; hop++) {
        const response = await once(current, limits, deadline);
        const location = response.headers.location;
        if (![301, 302, 303, 307, 308].includes(response.status) || typeof location !== "string") return response;
        if (hop >= MAX_REDIRECTS) throw new TransportError("redirects", undefined, `more than ${MAX_REDIRECTS} redirects`);
        const next = new URL(location, current.url);
        const headers = { ...current.headers };
        // Blob downloads redirect to storage (S3, a CDN) that must not see the registry's credentials.
        if (next.origin !== current.url.origin) delete headers.authorization;
        if (current.url.protocol === "https:" && next.protocol !== "https:") {
          throw new TransportError("tls", undefined, `redirect from HTTPS to plain HTTP (${next.origin}) refused`);
        }
        current = { method: current.method, url: next, headers };
      }
    },
    close() {
      httpsAgent.destroy();
      httpAgent.destroy();
    },
  };
}

function networkError(error: NodeJS.ErrnoException): TransportError {
  const code = error.code;
  if (code !== undefined && TLS_CODES.test(code)) return new TransportError("tls", code, error.message);
  return new TransportError("network", code, error.message || code || "connection failed");
}
