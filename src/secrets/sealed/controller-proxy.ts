/**
 * Talking to the controller's HTTP server through the API server's service proxy, as kubeseal
 * does: `/api/v1/namespaces/<ns>/services/http:<name>:<port>/proxy/<path>`, with the port name
 * read from the Service (its first port). Only the kubeconfig's credentials are needed, no
 * port-forward. Bodies are text (PEM, YAML), so this does not go through KubeClient's JSON.
 */
import http from "node:http";
import https from "node:https";
import type { KubeClient } from "../../kube/client.ts";
import { isNotFound, KubeApiError } from "../../kube/errors.ts";

export interface ControllerService {
  namespace: string;
  name: string;
}

interface Service {
  spec?: { ports?: Array<{ name?: string; port?: number }> };
}

export async function controllerProxyPath(client: KubeClient, service: ControllerService): Promise<string> {
  let found: Service;
  try {
    found = await client.request<Service>("GET", `/api/v1/namespaces/${service.namespace}/services/${service.name}`);
  } catch (error) {
    const why = isNotFound(error) ? "it does not exist" : error instanceof KubeApiError ? `${error.statusCode} ${error.reason}` : String(error);
    throw new Error(`cannot find the controller's Service ${service.namespace}/${service.name} (${why}); set --controller-namespace and --controller-name, or pass --cert`, { cause: error });
  }
  const port = found.spec?.ports?.[0];
  const portName = port?.name || String(port?.port ?? "http");
  return `/api/v1/namespaces/${service.namespace}/services/http:${service.name}:${portName}/proxy`;
}

export interface ProxyResponse {
  statusCode: number;
  body: string;
}

/** One request to the controller; never throws on an HTTP status, the caller words the failure. */
export async function controllerRequest(client: KubeClient, service: ControllerService, method: "GET" | "POST", path: string, body?: string): Promise<ProxyResponse> {
  const url = new URL(client.server + (await controllerProxyPath(client, service)) + path);
  const { headers: authHeaders, ...options } = await client.connection();
  const headers: Record<string, string> = { ...authHeaders, Accept: "application/x-pem-file, application/json, */*" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    headers["Content-Length"] = String(Buffer.byteLength(body));
  }
  const transport = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(url, { ...options, method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ statusCode: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      response.on("error", reject);
    });
    request.on("error", reject);
    if (body !== undefined) request.write(body);
    request.end();
  });
}

/** The API server wraps proxy failures in a Status; its message is the useful part. */
export function describeProxyFailure(response: ProxyResponse): string {
  try {
    const status = JSON.parse(response.body) as { message?: string; error?: string };
    const message = status.message ?? status.error;
    if (message) return `HTTP ${response.statusCode}: ${message}`;
  } catch {
    // not JSON: a plain-text answer
  }
  return `HTTP ${response.statusCode}${response.body.trim() ? `: ${response.body.trim().slice(0, 200)}` : ""}`;
}
