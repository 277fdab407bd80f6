/**
 * One POST of a notification, over node:http(s) rather than fetch: a Provider's certSecretRef
 * (a private CA) needs a TLS agent, and its proxy a CONNECT tunnel, neither of which fetch
 * takes without undici as a dependency. Redirects are not followed (a 3xx is a failure, as a
 * receiver moved by someone else must not receive the payload elsewhere), and the answer's
 * body is never read: it may echo what was sent.
 */
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import tls, { rootCertificates } from "node:tls";
import type { Duplex } from "node:stream";

export interface PostOptions {
  /** PEM certificates trusted besides the system roots (a self-signed receiver's CA). */
  caPem?: string;
  /** An http:// proxy: plain-HTTP receivers are asked through it, HTTPS ones tunnelled (CONNECT). */
  proxy?: string;
  timeoutMs: number;
  signal: AbortSignal;
}

/** Resolves to the HTTP status of the answer; rejects on network, TLS, proxy or timeout errors. */
export async function postOnce(url: string, headers: Record<string, string>, body: string, options: PostOptions): Promise<number> {
  const target = new URL(url);
  const secure = target.protocol === "https:";
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]);
  const ca = options.caPem ? [...rootCertificates, options.caPem] : undefined;
  const proxy = options.proxy ? new URL(options.proxy) : undefined;
  const tunnel = proxy && secure ? await connectTunnel(proxy, target, signal) : undefined;
  const payload = Buffer.from(body, "utf8");
  return new Promise<number>((resolve, reject) => {
    const requestOptions: https.RequestOptions = {
      method: "POST",
      headers: { ...headers, "content-length": String(payload.length), ...(proxy && !secure ? proxyAuthorization(proxy) : {}) },
      signal,
      // No connection kept: a notification is rare, and a kept socket would hold a tunnel open.
      agent: false,
      ...(secure ? { ...(ca ? { ca } : {}), ...(tunnel ? { createConnection: () => tlsOverTunnel(tunnel, target, ca) } : {}) } : {}),
    };
    // Plain HTTP through a proxy: the absolute URL goes to the proxy (RFC 9112 absolute-form).
    const request =
      proxy && !secure
        ? http.request({ ...requestOptions, host: proxy.hostname, port: proxy.port || 80, path: target.href })
        : (secure ? https : http).request(target, requestOptions);
    request.once("response", (response) => {
      response.destroy();
      tunnel?.destroy();
      resolve(response.statusCode ?? 0);
    });
    request.once("error", (error) => {
      tunnel?.destroy();
      reject(error);
    });
    request.end(payload);
  });
}

/** TLS to the target inside the tunnel, its certificate checked against the target's name (or IP address). */
function tlsOverTunnel(socket: Duplex, target: URL, ca: string[] | undefined): tls.TLSSocket {
  const host = target.hostname.replace(/^\[|\]$/g, "");
  return tls.connect({ socket, host, ...(isIP(host) === 0 ? { servername: host } : {}), ...(ca ? { ca } : {}) });
}

function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { "proxy-authorization": `Basic ${Buffer.from(credentials).toString("base64")}` };
}

/** A CONNECT tunnel through `proxy` to the target's host and port. */
function connectTunnel(proxy: URL, target: URL, signal: AbortSignal): Promise<Duplex> {
  // URL keeps an IPv6 host in brackets, as the authority wants it.
  const authority = `${target.hostname}:${target.port || 443}`;
  return new Promise((resolve, reject) => {
    const request = http.request({ host: proxy.hostname, port: proxy.port || 80, method: "CONNECT", path: authority, headers: { host: authority, ...proxyAuthorization(proxy) }, signal, agent: false });
    request.once("connect", (response, socket) => {
      if (response.statusCode === 200) return resolve(socket);
      socket.destroy();
      reject(new Error(`the proxy refused the tunnel: HTTP ${response.statusCode ?? 0}`));
    });
    request.once("error", reject);
    request.end();
  });
}
