/**
 * The fjord API, group `fjord.dev`, version `v1alpha1`: a GitRepository says where manifests
 * come from (Flux's GitRepository), an Application says which path of it to keep applied and
 * how (Flux's Kustomization, Argo CD's Application sync policy).
 * The CustomResourceDefinitions in crds.ts validate and default exactly these shapes.
 */
import type { GitRef } from "../git/types.ts";
import type { KubeObject, ObjectMeta } from "../model/object.ts";

export const GROUP = "fjord.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

export const GIT_REPOSITORY_KIND = "GitRepository";
export const APPLICATION_KIND = "Application";

/** Resource (plural) names, as they appear in URLs: /apis/fjord.dev/v1alpha1/namespaces/x/applications. */
export const GIT_REPOSITORY_RESOURCE = "gitrepositories";
export const APPLICATION_RESOURCE = "applications";

/** Holds an Application until what it applied is pruned (when `prune` is on). */
export const FINALIZER = "finalizers.fjord.dev";

/**
 * Set to any new value (the CLI writes an RFC 3339 time) to ask for a reconcile now; the
 * controller copies the value it handled to `status.lastHandledReconcileAt`.
 */
export const RECONCILE_REQUEST_ANNOTATION = "fjord.dev/reconcile-requested-at";

/** Syncs kept in `Application.status.history`, newest first; older ones drop off. */
export const HISTORY_LIMIT = 10;
/** Drift reverts kept per history entry, so a flapping object cannot bloat the status. */
export const DRIFT_REVERT_LIMIT = 50;
/** Render warnings kept in an Application's status. */
export const WARNING_LIMIT = 20;

/** What the API server fills in when a field is omitted (crds.ts puts them in the schema). */
export const GIT_REPOSITORY_DEFAULTS = { interval: "1m", timeout: "60s" } as const;
export const APPLICATION_DEFAULTS = { interval: "10m", timeout: "5m", prune: false, selfHeal: true, wait: false } as const;

/** kstatus-compatible condition types: Ready is the summary, the other two are abnormal-true. */
export const ConditionType = {
  Ready: "Ready",
  /** The controller is working towards the desired state (it is not there yet). */
  Reconciling: "Reconciling",
  /** The controller cannot make progress without a change (e.g. a spec that cannot work). */
  Stalled: "Stalled",
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const ConditionReason = {
  ReconciliationSucceeded: "ReconciliationSucceeded",
  /** A failure with no more specific reason (an API server error outside the sync, say). */
  ReconciliationFailed: "ReconciliationFailed",
  /** The Git source could not be fetched or checked out (auth, network, unknown ref). */
  ArtifactFailed: "ArtifactFailed",
  /** The source exists but has no artifact yet (its first fetch has not succeeded). */
  SourceNotReady: "SourceNotReady",
  /** Rendering (plain YAML, Kustomize, Helm) failed: bad input, stalled until the source or spec changes. */
  RenderFailed: "RenderFailed",
  /** A SOPS file could not be decrypted, or the decryption Secret is missing or holds no age identity. */
  DecryptionFailed: "DecryptionFailed",
  /** The server-side dry run refused an object; nothing was applied. Stalled until the source or spec changes. */
  ValidationFailed: "ValidationFailed",
  /** The revision rendered no objects while the inventory holds some, and allowEmpty is off; nothing was applied or pruned. Stalled. */
  EmptyRender: "EmptyRender",
  /** The API server refused or failed an apply (after validation passed); retried. */
  ApplyFailed: "ApplyFailed",
  /** Objects that left Git could not be deleted; they stay in the inventory and are retried. */
  PruneFailed: "PruneFailed",
  /** An applied object (or a spec.healthChecks entry) failed or did not become ready within the timeout. */
  HealthCheckFailed: "HealthCheckFailed",
  DependencyNotReady: "DependencyNotReady",
  /** The source reference cannot be resolved (missing GitRepository, missing Secret). */
  SourceNotFound: "SourceNotFound",
  /** A GitRepository URL the controller may not use (a local path, a remote helper), as Flux names it. */
  URLInvalid: "URLInvalid",
  /** A GitRepository `spec.ignore` line that cannot be used, or too many of them. */
  IgnoreInvalid: "IgnoreInvalid",
  /** Reconciling=True: the controller is working on new input (a spec, revision or request). */
  Progressing: "Progressing",
  /** Reconciling=True after a failure that is retried with backoff. */
  ProgressingWithRetry: "ProgressingWithRetry",
  Suspended: "Suspended",
} as const;
export type ConditionReason = (typeof ConditionReason)[keyof typeof ConditionReason];

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  /** The metadata.generation the controller had seen when it set this condition. */
  observedGeneration?: number;
  /** RFC 3339, whole seconds; changes only when `status` does. */
  lastTransitionTime: string;
  /** CamelCase, machine-readable. */
  reason: string;
  message: string;
}

export interface LocalObjectReference {
  name: string;
}

export interface GitRepositorySpec {
  /** `https://`, `http://`, `ssh://` or scp-like `git@host:path`: no local paths (the controller would read its own disk). */
  url: string;
  /**
   * What to check out; default: the remote's default branch. Unlike Flux, exactly one of
   * branch, tag, semver, name or commit is allowed (a branch may accompany a commit as a
   * fetch hint): the schema refuses combinations instead of silently preferring one.
   */
  ref?: GitRef;
  /** How often to look for new commits (Go duration: `1m`, `1h30m`). */
  interval: string;
  /** Budget for one fetch. */
  timeout: string;
  /**
   * A Secret in the same namespace, with Flux's keys: `username` + `password` (HTTPS basic),
   * `bearerToken` (HTTPS token), or `identity` + `known_hosts` (SSH private key and host keys).
   */
  secretRef?: LocalObjectReference;
  /**
   * gitignore lines (Flux's format); matching files and directories are left out of the
   * artifact, so no Application rendering from this source sees them. At most
   * MAX_SOURCE_IGNORE_CHARACTERS characters and MAX_SOURCE_IGNORE_PATTERNS patterns.
   */
  ignore?: string;
  /** Stop fetching; the last artifact stays. */
  suspend?: boolean;
}

export interface Artifact {
  /** Flux-style: `main@sha1:<sha>`, `v1.2.0@sha1:<sha>`, or `sha1:<sha>` for a bare commit. */
  revision: string;
  commit: string;
  /** `Name <email>`. */
  author: string;
  /** `Name <email>` of who made the commit (absent in artifacts recorded before it was kept). */
  committer?: string;
  /** Author date, RFC 3339. */
  date: string;
  message: string;
  /** When the controller last fetched this artifact (or confirmed it is current). */
  lastUpdateTime: string;
  /** The source's `spec.ignore` when this artifact was recorded: its trees leave out what it matches. Absent: nothing is left out. */
  ignore?: string;
}

export interface GitRepositoryStatus {
  observedGeneration?: number;
  /** The last RECONCILE_REQUEST_ANNOTATION value acted on. */
  lastHandledReconcileAt?: string;
  conditions?: Condition[];
  artifact?: Artifact;
}

export interface GitRepository extends KubeObject {
  apiVersion: typeof API_VERSION;
  kind: typeof GIT_REPOSITORY_KIND;
  metadata: ObjectMeta & { name: string; namespace: string };
  spec: GitRepositorySpec;
  status?: GitRepositoryStatus;
}

export interface SourceReference {
  kind: typeof GIT_REPOSITORY_KIND;
  name: string;
  /** Default: the Application's namespace. */
  namespace?: string;
}

/** An object that must be healthy, besides the applied ones, for the Application to be Ready. */
export interface HealthCheckReference {
  apiVersion: string;
  kind: string;
  name: string;
  /** Omitted for cluster-scoped objects. */
  namespace?: string;
}

export interface DependencyReference {
  name: string;
  /** Default: the Application's namespace. */
  namespace?: string;
}

export interface ApplicationSpec {
  sourceRef: SourceReference;
  /** Directory inside the repository, relative (`./clusters/prod`); `..` segments are refused. */
  path: string;
  /** Namespace for objects that name none, and the namespace every namespaced object is moved to. */
  targetNamespace?: string;
  /** How often to re-apply even when nothing changed (drift is also caught between runs by watches). */
  interval: string;
  /**
   * The longest wait between retries after a failure: retries back off exponentially (1 s, 2 s,
   * 4 s ...) up to it. Default: `interval`, at most 30 s. Stalled failures are not retried.
   */
  retryInterval?: string;
  /** Delete objects that left Git. */
  prune: boolean;
  /** Revert changes made in the cluster as soon as they are seen, not only at the next interval. */
  selfHeal: boolean;
  /** Wait for every applied object to be healthy before reporting Ready. */
  wait: boolean;
  /** Budget for one sync: apply, prune and health wait. */
  timeout: string;
  healthChecks?: HealthCheckReference[];
  /** Applications that must be Ready first. */
  dependsOn?: DependencyReference[];
  /** Apply as this ServiceAccount of the Application's namespace (impersonation); default: the controller's own identity. */
  serviceAccountName?: string;
  suspend?: boolean;
  /** Recreate objects whose immutable fields changed. */
  force?: boolean;
  /** Decrypt SOPS-encrypted files before applying, with age identities from a Secret of the Application's namespace. */
  decryption?: Decryption;
  /**
   * A revision that renders no objects may empty the path (with prune: delete everything it
   * applied). Default false: such a revision fails with reason EmptyRender and changes nothing.
   */
  allowEmpty?: boolean;
}

export interface Decryption {
  provider: "sops";
  /** A Secret whose entries ending in `.agekey` hold age identities (Flux's convention). */
  secretRef: LocalObjectReference;
}

export interface InventoryEntry {
  /** `<namespace>_<name>_<group>_<kind>` (Flux's form; namespace and group empty when they do not apply). */
  id: string;
  /** API version the object was applied as. */
  v: string;
}

export interface SyncSummary {
  created: number;
  configured: number;
  deleted: number;
  unchanged: number;
}

export interface DriftRevert {
  /** `Kind/namespace/name` (or `Kind/name` for cluster-scoped objects), group-qualified when it has one. */
  object: string;
  /** Who changed it: the user when the admission webhook saw the request, else the field manager (e.g. `kubectl-edit`). */
  changedBy: string;
  /** The field manager, when `changedBy` names the user. */
  fieldManager?: string;
  at: string;
}

export type SyncResult = "Succeeded" | "Failed";

export interface SyncRecord {
  /** The artifact revision, `main@sha1:<sha>`. */
  revision: string;
  /** Commit author, `Name <email>`. */
  author?: string;
  /** Commit message. */
  message?: string;
  startedAt: string;
  finishedAt: string;
  result: SyncResult;
  summary: SyncSummary;
  driftReverts?: DriftRevert[];
}

export interface ApplicationStatus {
  observedGeneration?: number;
  /** The last RECONCILE_REQUEST_ANNOTATION value acted on. */
  lastHandledReconcileAt?: string;
  /**
   * Changes made in the cluster that were not reverted because `selfHeal` is off; cleared by
   * the next sync that puts them back (the next interval, a new commit, or a manual reconcile).
   */
  drift?: DriftRevert[];
  conditions?: Condition[];
  lastAppliedRevision?: string;
  lastAttemptedRevision?: string;
  inventory?: { entries: InventoryEntry[] };
  /** Newest first, at most HISTORY_LIMIT entries. */
  history?: SyncRecord[];
  /** What the last render warned about (files it did not read), at most WARNING_LIMIT. */
  warnings?: string[];
}

export interface Application extends KubeObject {
  apiVersion: typeof API_VERSION;
  kind: typeof APPLICATION_KIND;
  metadata: ObjectMeta & { name: string; namespace: string };
  spec: ApplicationSpec;
  status?: ApplicationStatus;
}

/** Label of the ClusterRoles whose rules aggregate into what the controller may watch for drift (see src/install/rbac.ts). */
export const WATCH_RULES_LABEL = "fjord.dev/aggregate-to-controller";
