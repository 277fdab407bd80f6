import type { KubeObject } from "../model/object.ts";
import { DEFAULT_WEBHOOK_CONFIGURATION_NAME, webhookConfiguration } from "../admission/webhook-configuration.ts";
import {
  ADMISSION_PORT,
  ADMISSION_PORT_NAME,
  CACHE_DIR,
  commonLabels,
  CONTROLLER_NAME,
  HTTP_PORT,
  HTTP_PORT_NAME,
  METRICS_PORT,
  METRICS_PORT_NAME,
  WEBHOOK_CONFIG_DIR,
  WEBHOOK_CONFIG_KEY,
  type InstallOptions,
} from "./options.ts";

/**
 * Node flags the controller runs with. On a machine with plenty of memory V8 lets the old
 * generation grow fourfold between collections, so garbage from a burst of reconciles piles
 * up (155 MiB peak for 1,000 Applications). Growing it by 20 % and keeping the young
 * generation small holds the peak near 125 MiB without a hard heap cap, and costs less CPU
 * than the default (14 vs 17 CPU-s) or `--optimize-for-size` (21 CPU-s, 120 MiB), which also
 * slows YAML parsing. `npm run bench -- apps` runs the controller with these flags too.
 */
export const CONTROLLER_NODE_FLAGS = ["--max-semi-space-size=2", "--heap-growing-percent=20"] as const;

/**
 * The container's memory limit, kept at 1 GiB deliberately:
 *   limit >= quiet controller + one YAML syntax tree + concurrency x one reconcile at the limits + drift caches
 *   1 GiB >= ~100 MiB + ~110 MiB + 4 (the default --concurrency) x ~125 MiB + ~300 MiB
 * The limits are those of src/input/limits.ts. Parsing holds one document's syntax tree at a
 * time in the whole process (about 110 MiB at 250,000 tokens). One reconcile at the render
 * limits (16 MiB, 1,000,000 YAML nodes, 5,000 objects) measured about 50 MiB rendered and
 * 125 MiB rendered and applied. The drift watches keep a copy of every managed object (about
 * 11 KiB each at that size, 1-3 KiB for ordinary objects): the last 300 MiB hold tens of
 * thousands. Measured with these node flags: four such reconciles at once (19,600 objects)
 * peaked at 820 MiB; a repository built to exhaust memory (test/controller-limits.test.ts)
 * at about 200 MiB. Each extra unit of --concurrency needs about 125 MiB more.
 */
export const CONTROLLER_MEMORY_LIMIT = "1Gi";

/** Where the image puts the CLI (see Dockerfile). */
const IMAGE_CLI = "/app/bin/fjord.js";

/** The Deployment's selector; immutable once created, so it never includes the version. */
export const SELECTOR_LABELS = { "app.kubernetes.io/name": "fjord", "app.kubernetes.io/component": "controller" } as const;

export function namespaceObject(options: InstallOptions): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    // The controller pod satisfies the restricted Pod Security Standard; enforcing it keeps it so.
    metadata: { name: options.namespace, labels: { ...commonLabels(), "pod-security.kubernetes.io/enforce": "restricted" } },
  };
}

export function serviceAccount(options: InstallOptions): KubeObject {
  return { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: CONTROLLER_NAME, namespace: options.namespace, labels: commonLabels() } };
}

/** Webhook receivers and Prometheus reach the controller through this Service. */
export function service(options: InstallOptions): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: CONTROLLER_NAME, namespace: options.namespace, labels: { ...commonLabels(), ...SELECTOR_LABELS } },
    spec: {
      type: "ClusterIP",
      selector: { ...SELECTOR_LABELS },
      // kubeseal and `fjord seal` proxy to the first port: it must stay the HTTP one.
      ports: [
        { name: HTTP_PORT_NAME, port: HTTP_PORT, targetPort: HTTP_PORT_NAME, protocol: "TCP" },
        { name: METRICS_PORT_NAME, port: METRICS_PORT, targetPort: METRICS_PORT_NAME, protocol: "TCP" },
        ...(options.admission ? [{ name: ADMISSION_PORT_NAME, port: 443, targetPort: ADMISSION_PORT_NAME, protocol: "TCP" }] : []),
      ],
    },
  };
}

/**
 * The ValidatingWebhookConfiguration (src/admission/webhook-configuration.ts) calling the
 * controller through its Service. No caBundle here: the controller generates the CA and
 * patches it in, and a re-install leaves the field to it (server-side apply).
 */
export function admissionWebhook(options: InstallOptions): KubeObject {
  return webhookConfiguration({
    name: DEFAULT_WEBHOOK_CONFIGURATION_NAME,
    mode: options.admission?.mode ?? "observe",
    clientConfig: { service: { namespace: options.namespace, name: CONTROLLER_NAME, port: 443 } },
    controllerUser: `system:serviceaccount:${options.namespace}:${CONTROLLER_NAME}`,
    labels: commonLabels(),
  });
}

/** The arguments after the command (`node <flags> /app/bin/fjord.js`). */
export function controllerArgs(options: InstallOptions): string[] {
  return [
    "controller",
    "--leader-elect",
    `--leader-election-namespace=${options.namespace}`,
    `--bind-address=0.0.0.0:${HTTP_PORT}`,
    `--metrics-bind-address=0.0.0.0:${METRICS_PORT}`,
    ...(options.webhookSecret ? [`--webhook-config=${WEBHOOK_CONFIG_DIR}/${WEBHOOK_CONFIG_KEY}`] : []),
    ...(options.defaultServiceAccount ? [`--default-service-account=${options.defaultServiceAccount}`] : []),
    ...(options.noCrossNamespaceRefs ? ["--no-cross-namespace-refs"] : []),
    ...(options.admission ? [`--admission=${options.admission.mode}`, `--admission-bind-address=0.0.0.0:${ADMISSION_PORT}`, ...options.admission.breakGlassGroups.map((group) => `--break-glass-group=${group}`)] : []),
  ];
}

export function deployment(options: InstallOptions): KubeObject {
  const probe = (path: string, extra: Record<string, number>) => ({ httpGet: { path, port: HTTP_PORT_NAME }, periodSeconds: 10, timeoutSeconds: 5, ...extra });
  const webhookVolume = options.webhookSecret
    ? { volumes: [{ name: "webhook", secret: { secretName: options.webhookSecret, items: [{ key: WEBHOOK_CONFIG_KEY, path: WEBHOOK_CONFIG_KEY }] } }], mounts: [{ name: "webhook", mountPath: WEBHOOK_CONFIG_DIR, readOnly: true }] }
    : { volumes: [], mounts: [] };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: CONTROLLER_NAME, namespace: options.namespace, labels: { ...commonLabels(), ...SELECTOR_LABELS } },
    spec: {
      // One replica: leader election makes a second one a warm standby at most, not more throughput.
      replicas: 1,
      selector: { matchLabels: { ...SELECTOR_LABELS } },
      template: {
        metadata: {
          labels: { ...commonLabels(), ...SELECTOR_LABELS },
          annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(METRICS_PORT), "prometheus.io/path": "/metrics" },
        },
        spec: {
          serviceAccountName: CONTROLLER_NAME,
          terminationGracePeriodSeconds: 30,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "controller",
              image: options.image,
              imagePullPolicy: "IfNotPresent",
              // V8 flags are not allowed in NODE_OPTIONS, so the command line carries them.
              command: ["node", ...CONTROLLER_NODE_FLAGS, IMAGE_CLI],
              args: controllerArgs(options),
              env: [
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "XDG_CACHE_HOME", value: CACHE_DIR },
                // git, ssh and helm write small config files under $HOME; the root filesystem is read-only.
                { name: "HOME", value: "/tmp" },
              ],
              ports: [
                { name: HTTP_PORT_NAME, containerPort: HTTP_PORT, protocol: "TCP" },
                { name: METRICS_PORT_NAME, containerPort: METRICS_PORT, protocol: "TCP" },
                ...(options.admission ? [{ name: ADMISSION_PORT_NAME, containerPort: ADMISSION_PORT, protocol: "TCP" }] : []),
              ],
              livenessProbe: probe("/healthz", { initialDelaySeconds: 5, failureThreshold: 3 }),
              readinessProbe: probe("/readyz", { failureThreshold: 3 }),
              resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: CONTROLLER_MEMORY_LIMIT } },
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
              volumeMounts: [{ name: "cache", mountPath: CACHE_DIR }, { name: "tmp", mountPath: "/tmp" }, ...webhookVolume.mounts],
            },
          ],
          volumes: [{ name: "cache", emptyDir: {} }, { name: "tmp", emptyDir: {} }, ...webhookVolume.volumes],
        },
      },
    },
  };
}
