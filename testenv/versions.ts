/** Versions of the binaries fjord builds for its local control plane and as test peers. */
export const KUBERNETES_VERSION = "1.34.4";
export const ETCD_VERSION = "3.6.16";
export const KWOK_VERSION = "0.8.0";
export const KUSTOMIZE_VERSION = "5.8.1";
export const HELM_VERSION = "3.22.0";
export const SOPS_VERSION = "3.13.3";
export const AGE_VERSION = "1.3.2";
export const KUBESEAL_VERSION = "0.40.0";
export const REGISTRY_VERSION = "3.1.2";
/** code.gitea.io/gitea on the module proxy (its go.mod says gitea.dev: built in its own module, see go-build.ts). */
export const GITEA_VERSION = "1.27.3";

/** The control plane's binaries, in start order (kubectl rides along: same version, same build). */
export const COMPONENTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "kubectl"] as const;

/** Real CLIs that fjord's behaviour is checked against ("compatibility peers"). */
export const PEER_TOOLS = ["kustomize", "helm", "sops", "age", "age-keygen", "kubeseal", "registry", "gitea"] as const;

export type Component = (typeof COMPONENTS)[number];
export type PeerTool = (typeof PEER_TOOLS)[number];
export type Binary = Component | PeerTool;

/** Cache sub-directory: one per version set, so upgrading never mixes binaries. */
export function versionKey(): string {
  return `k8s-${KUBERNETES_VERSION}_etcd-${ETCD_VERSION}_kwok-${KWOK_VERSION}`;
}

export const PEER_VERSIONS: Record<PeerTool, string> = {
  kustomize: KUSTOMIZE_VERSION,
  helm: HELM_VERSION,
  sops: SOPS_VERSION,
  age: AGE_VERSION,
  "age-keygen": AGE_VERSION,
  kubeseal: KUBESEAL_VERSION,
  registry: REGISTRY_VERSION,
  gitea: GITEA_VERSION,
};
