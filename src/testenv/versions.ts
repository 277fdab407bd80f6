/** Versions of the control-plane binaries fjord builds and tests against. */
export const KUBERNETES_VERSION = "1.34.4";
export const ETCD_VERSION = "3.6.16";
export const KWOK_VERSION = "0.8.0";

/** Every binary the local control plane needs, in start order. */
export const COMPONENTS = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kwok",
  "kubectl",
] as const;

export type Component = (typeof COMPONENTS)[number];

/** Cache sub-directory: one per version set, so upgrading never mixes binaries. */
export function versionKey(): string {
  return `k8s-${KUBERNETES_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}`;
}
