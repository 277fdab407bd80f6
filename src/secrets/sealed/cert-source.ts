/** Where `fjord seal` gets the certificate: a file, a URL, or the controller (kubeseal's rules). */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { KubeClient } from "../../kube/client.ts";
import { controllerRequest, describeProxyFailure, type ControllerService } from "./controller-proxy.ts";

/** `--cert`: a URL when it has a scheme (http, https, file), a path otherwise; Windows drive letters are paths. */
export async function readCertificateFrom(location: string): Promise<string> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(location)?.[1]?.toLowerCase();
  if (!scheme || scheme.length === 1) return readFile(location, "utf8");
  if (scheme === "file") return readFile(fileURLToPath(location), "utf8");
  if (scheme !== "http" && scheme !== "https") throw new Error(`--cert ${location}: only file paths and http, https or file URLs are supported`);
  const response = await fetch(location, { signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new Error(`cannot fetch ${location}: HTTP ${response.status}`);
  return response.text();
}

export async function fetchControllerCertificate(client: KubeClient, service: ControllerService): Promise<string> {
  const response = await controllerRequest(client, service, "GET", "/v1/cert.pem");
  if (response.statusCode !== 200) {
    throw new Error(`cannot fetch the certificate from the controller ${service.namespace}/${service.name} (${describeProxyFailure(response)}); is it running? Or pass --cert`);
  }
  return response.body;
}
