import { isIP } from "node:net";
import { ADMISSION_MODES, type AdmissionMode } from "../admission/decision.ts";
import type { AdmissionRequest } from "../admission/review.ts";
import { patchCaBundle, servingCertificate, type CertificateLocation, type ServingCertificate } from "../admission/serving-certificate.ts";
import type { KubeClient } from "../kube/client.ts";
import { isNotFound } from "../kube/errors.ts";
import { createAdmissionServer, type AdmissionAnswer, type AdmissionServer } from "../server/index.ts";
import type { Logger } from "../util/logger.ts";

/** How often the certificate's expiry and the webhook configuration's CA bundle are checked. */
export const CERTIFICATE_CHECK_MS = 60 * 60_000;
/** Until the CA bundle is in place (the configuration may be applied after the controller starts). */
const CA_BUNDLE_RETRY_MS = 30_000;

export function admissionMode(value: string): AdmissionMode {
  if (!ADMISSION_MODES.includes(value as AdmissionMode)) throw new Error(`--admission must be observe or lock, not ${JSON.stringify(value)}`);
  return value as AdmissionMode;
}

/** The names the serving certificate is valid for: the Service's DNS names, and any --admission-host. */
export function certificateNames(service: string, namespace: string, hosts: readonly string[]): Pick<CertificateLocation, "dnsNames" | "ipAddresses"> {
  const names = [`${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`, ...hosts.filter((host) => !isIP(host))];
  return { dnsNames: [...new Set(names)], ipAddresses: [...new Set(hosts.filter((host) => isIP(host)))] };
}

export interface AdmissionWebhookOptions {
  client: KubeClient;
  logger: Logger;
  mode: AdmissionMode;
  location: CertificateLocation;
  webhookConfigurationName: string;
  address: { host: string; port: number };
  review: (request: AdmissionRequest) => AdmissionAnswer;
  signal: AbortSignal;
}

/**
 * Serves the admission webhook: the certificate from its Secret (issued when missing or near
 * expiry), the CA bundle patched into the ValidatingWebhookConfiguration, and both checked
 * again every hour. At a renewal the bundle (new CA and previous CA) is patched before the new
 * certificate is served, so the API server never sees a certificate it does not trust.
 */
export async function startAdmissionWebhook(options: AdmissionWebhookOptions): Promise<{ server: AdmissionServer; address: string }> {
  const { client, logger } = options;
  let { served } = await servingCertificate(client, options.location);
  const server = createAdmissionServer({ logger, mode: options.mode, certificate: served, review: options.review });
  const address = await server.listen(options.address);
  let bundleInPlace = false;
  const placeBundle = async (certificate: ServingCertificate) => {
    try {
      const patched = await patchCaBundle(client, options.webhookConfigurationName, certificate.caBundle);
      if (patched) logger.info({ configuration: options.webhookConfigurationName, webhooks: patched }, "admission webhook CA bundle updated");
      bundleInPlace = true;
    } catch (error) {
      bundleInPlace = false;
      const why = isNotFound(error)
        ? `the ValidatingWebhookConfiguration ${options.webhookConfigurationName} does not exist (fjord install --admission ${options.mode} creates it)`
        : error instanceof Error
          ? error.message
          : String(error);
      logger.warn({ configuration: options.webhookConfigurationName }, `could not put the CA bundle into the admission webhook configuration: ${why}; retrying`);
    }
  };
  await placeBundle(served);
  const check = async () => {
    try {
      const next = await servingCertificate(client, options.location);
      if (next.renewed || next.served.certificate !== served.certificate) {
        await placeBundle(next.served);
        server.setCertificate(next.served);
        served = next.served;
        logger.info({ secret: `${options.location.namespace}/${options.location.secretName}`, why: next.renewed || "another replica renewed it" }, "admission webhook certificate renewed");
      } else {
        await placeBundle(served);
      }
    } catch (error) {
      logger.warn({ error: error instanceof Error ? error.message : String(error) }, "could not check the admission webhook certificate; retrying");
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    timer = setTimeout(() => void check().then(() => !options.signal.aborted && schedule()), bundleInPlace ? CERTIFICATE_CHECK_MS : CA_BUNDLE_RETRY_MS);
    timer.unref();
  };
  schedule();
  options.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  return { server, address };
}
