/**
 * The webhook's TLS certificate, managed by fjord with the same PKI code as the sealing keys: a
 * CA and a serving certificate kept in a Secret of fjord's namespace, issued again before they
 * expire, and the CA bundle patched into the ValidatingWebhookConfiguration. At a renewal the
 * bundle holds the new CA and the previous one, so the API server trusts both the old and the
 * new serving certificate while replicas switch.
 */
// First: pki/x509.ts loads the Reflect metadata API @peculiar/x509 needs when it is loaded.
import { createCertificateAuthority, issueCertificate } from "../pki/x509.ts";
import * as x509 from "@peculiar/x509";
import type { KubeClient } from "../kube/client.ts";
import { isNotFound, KubeApiError } from "../kube/errors.ts";

export const DEFAULT_CERTIFICATE_SECRET = "fjord-admission-tls";
/** Certificates live 90 days and are issued again when 30 are left (checked hourly). */
export const CERTIFICATE_VALID_DAYS = 90;
export const RENEW_BEFORE_MS = 30 * 86_400_000;

export interface ServingCertificate {
  /** PEM: the CAs the API server must trust (newest first). */
  caBundle: string;
  certificate: string;
  privateKey: string;
}

export interface CertificateLocation {
  namespace: string;
  secretName: string;
  dnsNames: string[];
  ipAddresses: string[];
}

interface TlsSecret {
  metadata: { resourceVersion?: string };
  data?: Record<string, string>;
}

const b64 = (text: string) => Buffer.from(text).toString("base64");
const unb64 = (text: string | undefined) => (text ? Buffer.from(text, "base64").toString("utf8") : "");

/** Why a stored certificate cannot be served as is (empty: it can). Pure, for tests with any clock. */
export function renewalReason(stored: ServingCertificate | undefined, location: Pick<CertificateLocation, "dnsNames" | "ipAddresses">, now: Date): string {
  if (!stored?.certificate || !stored.privateKey || !stored.caBundle) return "none stored";
  let certificate: x509.X509Certificate;
  try {
    certificate = new x509.X509Certificate(stored.certificate);
  } catch {
    return "the stored certificate does not parse";
  }
  if (certificate.notAfter.getTime() - now.getTime() < RENEW_BEFORE_MS) return `it expires at ${certificate.notAfter.toISOString()}`;
  const names = certificate.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
  const has = new Set(names.map((name) => `${name.type}:${name.value}`));
  const wanted = [...location.dnsNames.map((name) => `dns:${name}`), ...location.ipAddresses.map((ip) => `ip:${ip}`)];
  if (wanted.some((name) => !has.has(name)) || has.size !== wanted.length) return "its names changed";
  return "";
}

/** The first certificate of a PEM bundle still valid at `now` (the previous CA, kept during a renewal). */
function stillValid(bundle: string, now: Date): string[] {
  const pems = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g) ?? [];
  return pems.filter((pem) => {
    try {
      return new x509.X509Certificate(pem).notAfter.getTime() > now.getTime();
    } catch {
      return false;
    }
  });
}

/**
 * The certificate to serve: the stored one, or a new CA and certificate (written to the Secret)
 * when there is none, it nears expiry or its names changed. Two replicas racing: the loser of
 * the create or update conflict uses what the winner stored.
 */
export async function servingCertificate(client: KubeClient, location: CertificateLocation, now = new Date(), attempt = 1): Promise<{ served: ServingCertificate; renewed: string }> {
  const path = `/api/v1/namespaces/${location.namespace}/secrets/${location.secretName}`;
  const existing = await client.request<TlsSecret>("GET", path).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
  const stored = existing ? { caBundle: unb64(existing.data?.["ca.crt"]), certificate: unb64(existing.data?.["tls.crt"]), privateKey: unb64(existing.data?.["tls.key"]) } : undefined;
  const reason = renewalReason(stored, location, now);
  if (stored && !reason) return { served: stored, renewed: "" };
  const ca = await createCertificateAuthority("fjord admission CA", CERTIFICATE_VALID_DAYS + 30);
  const leaf = await issueCertificate(ca, { commonName: location.dnsNames[0] ?? location.ipAddresses[0] ?? "fjord-admission", dnsNames: location.dnsNames, ipAddresses: location.ipAddresses, usage: "server", validDays: CERTIFICATE_VALID_DAYS });
  const previous = stored ? stillValid(stored.caBundle, now).slice(0, 1) : [];
  const served: ServingCertificate = { caBundle: [ca.certificatePem, ...previous].join(""), certificate: leaf.certificatePem, privateKey: leaf.privateKeyPem };
  const body = {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/tls",
    metadata: { name: location.secretName, namespace: location.namespace, labels: { "app.kubernetes.io/part-of": "fjord", "app.kubernetes.io/component": "admission" }, ...(existing?.metadata.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}) },
    data: { "ca.crt": b64(served.caBundle), "tls.crt": b64(served.certificate), "tls.key": b64(served.privateKey) },
  };
  try {
    if (existing) await client.request("PUT", path, { body });
    else await client.request("POST", `/api/v1/namespaces/${location.namespace}/secrets`, { body });
  } catch (error) {
    if (attempt < 3 && error instanceof KubeApiError && error.statusCode === 409) return servingCertificate(client, location, now, attempt + 1);
    throw error;
  }
  return { served, renewed: reason };
}

interface WebhookConfigurationObject {
  webhooks?: { name: string; clientConfig?: { caBundle?: string } }[];
}

/**
 * Puts `caBundle` into every webhook of the configuration that does not hold it yet (a JSON
 * patch guarded by each webhook's name). Returns how many were patched; throws NotFound when
 * the configuration is not installed.
 */
export async function patchCaBundle(client: KubeClient, configurationName: string, caBundle: string): Promise<number> {
  const path = `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${configurationName}`;
  const configuration = await client.request<WebhookConfigurationObject>("GET", path);
  const wanted = b64(caBundle);
  const operations = (configuration.webhooks ?? []).flatMap((webhook, index) =>
    webhook.clientConfig?.caBundle === wanted
      ? []
      : [
          { op: "test", path: `/webhooks/${index}/name`, value: webhook.name },
          { op: "add", path: `/webhooks/${index}/clientConfig/caBundle`, value: wanted },
        ],
  );
  if (operations.length === 0) return 0;
  await client.request("PATCH", path, { body: operations, contentType: "application/json-patch+json", query: { fieldManager: "fjord-controller" } });
  return operations.length / 2;
}
