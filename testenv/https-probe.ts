import http from "node:http";
import https from "node:https";

export interface ProbeTls {
  ca?: string;
  cert?: string;
  key?: string;
  /** Component health endpoints serve self-signed certificates we never see. */
  insecure?: boolean;
}

export interface ProbeResult {
  status: number;
  body: string;
}

/** A single GET with a short timeout; network errors resolve to status 0 so callers just poll. */
export function probe(url: string, tls: ProbeTls = {}, timeoutMs = 2000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const client = url.startsWith("https:") ? https : http;
    const request = client.get(
      url,
      { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.insecure, timeout: timeoutMs },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        response.on("error", () => resolve({ status: 0, body }));
      },
    );
    request.on("timeout", () => request.destroy());
    request.on("error", (error) => resolve({ status: 0, body: error.message }));
  });
}
