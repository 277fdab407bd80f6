import { createRequire } from "node:module";
import type { AdmissionMode } from "../admission/decision.ts";

const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

/** The version of this build; the default image tag, so a CLI installs the controller it was released with. */
export const FJORD_VERSION = version;
export const DEFAULT_NAMESPACE = "fjord-system";
export const DEFAULT_IMAGE = `ghcr.io/fjord-dev/fjord:${FJORD_VERSION}`;

/** Name of the ServiceAccount, Deployment, Service and the controller's RBAC objects. */
export const CONTROLLER_NAME = "fjord-controller";
/** Webhooks (/hook/<token>), the sealing routes kubeseal uses (/v1/...), /healthz and /readyz (`fjord controller --bind-address`). */
export const HTTP_PORT = 8080;
export const HTTP_PORT_NAME = "http";
/** /metrics alone (`fjord controller --metrics-bind-address`), so that a NetworkPolicy can open it to Prometheus only. */
export const METRICS_PORT = 8081;
export const METRICS_PORT_NAME = "metrics";
/** The admission webhook, over TLS (`fjord controller --admission-bind-address`); the Service exposes it on 443. */
export const ADMISSION_PORT = 9443;
export const ADMISSION_PORT_NAME = "admission";
/** The git cache and Helm's caches live under $XDG_CACHE_HOME (src/util/cache-dir.ts), on an emptyDir. */
export const CACHE_DIR = "/cache";
/** Where a `--webhook-secret` Secret is mounted; the Secret holds `receiver.json`. */
export const WEBHOOK_CONFIG_DIR = "/etc/fjord/webhook";
export const WEBHOOK_CONFIG_KEY = "receiver.json";

export interface InstallOptions {
  namespace: string;
  image: string;
  /** Bind cluster-admin instead of the least-privilege ClusterRole. */
  clusterAdmin: boolean;
  /** An existing Secret in `namespace` with a `receiver.json` key (see `fjord controller --webhook-config`). */
  webhookSecret?: string;
  /** `fjord controller --default-service-account`: Applications without one apply as this ServiceAccount of their namespace. */
  defaultServiceAccount?: string;
  /** `fjord controller --no-cross-namespace-refs`. */
  noCrossNamespaceRefs?: boolean;
  /** `fjord install --admission`: the validating webhook's mode and break-glass groups. */
  admission?: { mode: AdmissionMode; breakGlassGroups: string[] };
}

export function installOptions(partial: Partial<InstallOptions> = {}): InstallOptions {
  return {
    namespace: partial.namespace ?? DEFAULT_NAMESPACE,
    image: partial.image ?? DEFAULT_IMAGE,
    clusterAdmin: partial.clusterAdmin ?? false,
    ...(partial.webhookSecret ? { webhookSecret: partial.webhookSecret } : {}),
    ...(partial.defaultServiceAccount ? { defaultServiceAccount: partial.defaultServiceAccount } : {}),
    ...(partial.noCrossNamespaceRefs ? { noCrossNamespaceRefs: true } : {}),
    ...(partial.admission ? { admission: { mode: partial.admission.mode, breakGlassGroups: [...partial.admission.breakGlassGroups] } } : {}),
  };
}

/** Labels every install object carries, so `kubectl get all -l app.kubernetes.io/part-of=fjord` finds them. */
export function commonLabels(): Record<string, string> {
  return { "app.kubernetes.io/part-of": "fjord", "app.kubernetes.io/version": FJORD_VERSION };
}
