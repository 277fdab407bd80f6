/**
 * Image update automation, group `fjord.dev/v1alpha1`, shaped after Flux's image API so a
 * migration is mostly an apiVersion change: an ImageRepository scans a registry for tags, an
 * ImagePolicy picks the latest tag among them, an ImageUpdateAutomation writes the picked images
 * into Git where `$imagepolicy` markers (or Flux v1 annotations) ask for them.
 * The CustomResourceDefinitions in image-crds.ts validate and default exactly these shapes.
 */
import type { KubeObject, ObjectMeta } from "../model/object.ts";
import type { API_VERSION, Condition, LocalObjectReference } from "./types.ts";

export const IMAGE_REPOSITORY_KIND = "ImageRepository";
export const IMAGE_POLICY_KIND = "ImagePolicy";
export const IMAGE_UPDATE_AUTOMATION_KIND = "ImageUpdateAutomation";

export const IMAGE_REPOSITORY_RESOURCE = "imagerepositories";
export const IMAGE_POLICY_RESOURCE = "imagepolicies";
export const IMAGE_UPDATE_AUTOMATION_RESOURCE = "imageupdateautomations";

export const IMAGE_REPOSITORY_DEFAULTS = { interval: "5m", timeout: "60s" } as const;
export const IMAGE_UPDATE_AUTOMATION_DEFAULTS = { interval: "5m", strategy: "Setters" } as const;

/** Tags shown in `ImageRepository.status.lastScanResult.latestTags`; the full list stays in the controller's memory. */
export const LATEST_TAGS_LIMIT = 10;
/** Pushes kept in `ImageUpdateAutomation.status.history`, newest first. */
export const PUSH_HISTORY_LIMIT = 10;
/** Changes listed per history entry; a bulk update of hundreds of files must not bloat the status. */
export const PUSH_CHANGES_LIMIT = 50;

export const ImageConditionReason = {
  /** The registry refused or failed the scan (unreachable, 401, 403, TLS...). */
  ScanFailed: "ScanFailed",
  /** The secretRef or certSecretRef cannot be used. */
  CredentialsFailed: "CredentialsFailed",
  /** A field of the spec cannot work (bad regular expression, bad range); fixing the spec is the only way out. */
  InvalidSpec: "InvalidSpec",
  ImageRepositoryNotReady: "ImageRepositoryNotReady",
  /** No tag passes the policy's filters. */
  NoMatchingTag: "NoMatchingTag",
  /** The tag was selected but its digest could not be resolved. */
  DigestFailed: "DigestFailed",
  /** Pushing was refused by the server (protected branch, hook) or kept losing races. */
  PushRejected: "PushRejected",
  /** Cloning, committing or pushing failed otherwise (auth, network). */
  GitOperationFailed: "GitOperationFailed",
  /** The update ran, but some files or markers could not be updated. */
  UpdateFailed: "UpdateFailed",
} as const;

export type DigestReflectionPolicy = "Never" | "IfNotPresent" | "Always";

export interface ImageRepositorySpec {
  /** `registry/repository` without tag, e.g. `ghcr.io/org/app`; `nginx` means `docker.io/library/nginx`. */
  image: string;
  interval: string;
  /** Budget for one scan. */
  timeout: string;
  /** A `kubernetes.io/dockerconfigjson` Secret in the same namespace. */
  secretRef?: LocalObjectReference;
  /** A Secret in the same namespace whose `ca.crt` is trusted for the registry's certificate. */
  certSecretRef?: LocalObjectReference;
  /** Plain HTTP, for registries on loopback only (the client refuses it for any other host). */
  insecure?: boolean;
  /** Regular expressions of tags never considered; default: cosign signature tags (`^.*\.sig$`). */
  exclusionList?: string[];
  suspend?: boolean;
}

export interface ScanResult {
  /** Tags left after the exclusion list. */
  tagCount: number;
  scanTime: string;
  /** At most LATEST_TAGS_LIMIT tags, reverse-sorted (Flux's order). */
  latestTags: string[];
}

export interface ImageRepositoryStatus {
  observedGeneration?: number;
  lastHandledReconcileAt?: string;
  conditions?: Condition[];
  /** `docker.io/library/nginx` for `nginx`: what markers and Flux v1 workloads are matched against. */
  canonicalImageName?: string;
  lastScanResult?: ScanResult;
}

export interface ImageRepository extends KubeObject {
  apiVersion: typeof API_VERSION;
  kind: typeof IMAGE_REPOSITORY_KIND;
  metadata: ObjectMeta & { name: string; namespace: string };
  spec: ImageRepositorySpec;
  status?: ImageRepositoryStatus;
}

/** Exactly one ordering; the same shapes as Flux's ImagePolicy. */
export interface ImagePolicyChoice {
  semver?: { range: string };
  alphabetical?: { order?: "asc" | "desc" };
  numerical?: { order?: "asc" | "desc" };
}

export interface ImageRef {
  /** Image name without tag (the ImageRepository's canonical name). */
  name: string;
  tag: string;
  digest?: string;
}

export interface ImagePolicySpec {
  imageRepositoryRef: { name: string; namespace?: string };
  policy: ImagePolicyChoice;
  /** `pattern` (RE2 syntax, `(?P<name>...)` groups) a tag must match; `extract` (`$name`) is what the ordering compares. */
  filterTags?: { pattern?: string; extract?: string };
  /** Shell-style glob such as `master-*`, applied before `filterTags`. */
  glob?: string;
  /** Whether `status.latestRef.digest` is filled: Never (default), IfNotPresent (once per tag), Always (every reconcile, catches re-pushed tags). */
  digestReflectionPolicy?: DigestReflectionPolicy;
}

export interface ImagePolicyStatus {
  observedGeneration?: number;
  lastHandledReconcileAt?: string;
  conditions?: Condition[];
  latestRef?: ImageRef;
  /** The latestRef before the last change. */
  observedPreviousRef?: ImageRef;
}

export interface ImagePolicy extends KubeObject {
  apiVersion: typeof API_VERSION;
  kind: typeof IMAGE_POLICY_KIND;
  metadata: ObjectMeta & { name: string; namespace: string };
  spec: ImagePolicySpec;
  status?: ImagePolicyStatus;
}

export interface ImageUpdateAutomationSpec {
  sourceRef: { kind: "GitRepository"; name: string; namespace?: string };
  git: {
    /** Default: the GitRepository's branch. */
    checkout?: { ref: { branch: string } };
    /** Default: the checkout branch. */
    push?: { branch: string };
    commit: {
      author: { name: string; email: string };
      /** Placeholders: see image-commit-message.ts (`{{changes}}`, `{{policies}}`...). */
      messageTemplate?: string;
    };
  };
  update: { path: string; strategy: "Setters" };
  interval: string;
  suspend?: boolean;
}

export interface PushRecord {
  commit: string;
  branch: string;
  pushedAt: string;
  /** `file:line: old -> new`, at most PUSH_CHANGES_LIMIT. */
  changes: string[];
}

export interface ImageUpdateAutomationStatus {
  observedGeneration?: number;
  lastHandledReconcileAt?: string;
  conditions?: Condition[];
  lastAutomationRunTime?: string;
  lastPushCommit?: string;
  lastPushTime?: string;
  /** The Ready policies of the namespace at the last run, by name. */
  observedPolicies?: Record<string, ImageRef>;
  /** Newest first, at most PUSH_HISTORY_LIMIT. */
  history?: PushRecord[];
}

export interface ImageUpdateAutomation extends KubeObject {
  apiVersion: typeof API_VERSION;
  kind: typeof IMAGE_UPDATE_AUTOMATION_KIND;
  metadata: ObjectMeta & { name: string; namespace: string };
  spec: ImageUpdateAutomationSpec;
  status?: ImageUpdateAutomationStatus;
}
