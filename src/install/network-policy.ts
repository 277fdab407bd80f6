import type { KubeObject } from "../model/object.ts";
import { ADMISSION_PORT, commonLabels, CONTROLLER_NAME, HTTP_PORT, METRICS_PORT, type InstallOptions } from "./options.ts";
import { SELECTOR_LABELS } from "./workload.ts";

/**
 * Ingress to the controller Pod on its two ports and nothing else: the HTTP port (webhooks,
 * the sealing routes and the kubelet's probes) and the metrics port. Neither names its
 * sources: Git hosts call webhooks through whatever ingress the cluster has, and kubeseal
 * reaches the sealing routes through the API server's service proxy, whose address a
 * NetworkPolicy cannot name portably. A cluster that knows where Prometheus runs can narrow
 * the metrics rule with a `from` of its own. Egress stays open: fjord fetches from Git hosts,
 * chart and image registries wherever they are.
 */
export function networkPolicy(options: InstallOptions): KubeObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: CONTROLLER_NAME, namespace: options.namespace, labels: { ...commonLabels(), ...SELECTOR_LABELS } },
    spec: {
      podSelector: { matchLabels: { ...SELECTOR_LABELS } },
      policyTypes: ["Ingress"],
      // The admission port, when served, is called by the API server (whose address is not portable either).
      ingress: [{ ports: [{ protocol: "TCP", port: HTTP_PORT }] }, { ports: [{ protocol: "TCP", port: METRICS_PORT }] }, ...(options.admission ? [{ ports: [{ protocol: "TCP", port: ADMISSION_PORT }] }] : [])],
    },
  };
}
