/**
 * The CustomResourceDefinitions of fjord's API (types.ts), with structural schemas so the API
 * server validates and defaults objects before fjord ever reads them: a broken spec is refused
 * at `kubectl apply` time, with a message naming the field, instead of surfacing as a failed
 * reconcile later.
 *
 * Choices worth knowing:
 * - A GitRepository `ref` sets exactly one of branch, tag, semver, name or commit (a branch may
 *   accompany a commit as a fetch hint). Flux accepts several and silently prefers one; refusing
 *   the combination means the spec says what is checked out.
 * - Short names are `fgitrepo` and `fapp`, never `gitrepo` (Flux) or `app` (Argo CD): with two
 *   CRDs claiming one short name, kubectl quietly picks one group, which misleads exactly the
 *   people migrating between the tools. `kubectl get fjord` lists both kinds (category).
 * - An Application `path` is required (`./` for the repository root), so an omitted field cannot
 *   silently apply a whole repository.
 */
import type { KubeObject } from "../model/object.ts";
import {
  APPLICATION_DEFAULTS,
  APPLICATION_KIND,
  APPLICATION_RESOURCE,
  DRIFT_REVERT_LIMIT,
  WARNING_LIMIT,
  GIT_REPOSITORY_DEFAULTS,
  GIT_REPOSITORY_KIND,
  GIT_REPOSITORY_RESOURCE,
  GROUP,
  HISTORY_LIMIT,
} from "./types.ts";
import { imageCustomResourceDefinitions } from "./image-crds.ts";
import { notificationCustomResourceDefinitions } from "./notification-crds.ts";
import { receiverCustomResourceDefinition } from "./receiver-crds.ts";
import {
  conditions,
  count,
  crd,
  duration,
  lastHandledReconcileAt,
  name,
  namespace,
  object,
  readyColumns,
  secretName,
  string,
  timestamp,
  withRules,
  DNS_SUBDOMAIN_PATTERN,
} from "./schema.ts";
import { REMOTE_URL_PATTERN } from "../git/remote-url.ts";
import { MAX_SOURCE_IGNORE_CHARACTERS, MAX_SOURCE_IGNORE_PATTERNS } from "../input/limits.ts";

export const GIT_REPOSITORY_CRD_NAME = `${GIT_REPOSITORY_RESOURCE}.${GROUP}`;
export const APPLICATION_CRD_NAME = `${APPLICATION_RESOURCE}.${GROUP}`;

const gitRef = withRules(
  object({
    branch: string("Branch name, e.g. main.", { minLength: 1 }),
    tag: string("Tag name, e.g. v1.2.0.", { minLength: 1 }),
    semver: string("Semver range over the tags, e.g. '>=1.2.0 <2.0.0'; the highest match wins.", { minLength: 1 }),
    name: string("A full ref, e.g. refs/pull/7/head.", { minLength: 1 }),
    commit: string("A full commit SHA; branch may be set alongside as a fetch hint.", { pattern: "^[0-9a-f]{40}([0-9a-f]{24})?$" }),
  }, [], { description: "What to check out; default: the remote's default branch." }),
  [
    {
      rule: "(has(self.branch) && !has(self.commit) ? 1 : 0) + (has(self.tag) ? 1 : 0) + (has(self.semver) ? 1 : 0) + (has(self.name) ? 1 : 0) + (has(self.commit) ? 1 : 0) == 1",
      message: "ref must set exactly one of branch, tag, semver, name or commit (branch may only accompany commit, as a fetch hint)",
    },
  ],
);

const gitRepositorySpec = object(
  {
    url: withRules(string("https://, http://, ssh:// or scp-like user@host:path (as in Flux, no local paths: the controller would read its own disk).", { minLength: 1, maxLength: 2048 }), [
      {
        rule: `self.matches('${REMOTE_URL_PATTERN}')`,
        message: `url must start with https://, http:// or ssh://, or be scp-like (git@host:path); file:// and local paths are refused: serve the repository over HTTPS or SSH`,
      },
    ]),
    ref: gitRef,
    interval: duration("How often to look for new commits.", GIT_REPOSITORY_DEFAULTS.interval),
    timeout: duration("Budget for one fetch.", GIT_REPOSITORY_DEFAULTS.timeout),
    secretRef: object({ name: secretName("Secret name.") }, ["name"], {
      description: "A Secret in the same namespace: username + password, bearerToken, or identity + known_hosts.",
    }),
    ignore: string(
      `gitignore lines (as in Flux); matching files and directories are left out of the artifact, so no Application sees them. At most ${MAX_SOURCE_IGNORE_PATTERNS} patterns.`,
      { maxLength: MAX_SOURCE_IGNORE_CHARACTERS },
    ),
    suspend: { type: "boolean", description: "Stop fetching; the last artifact stays." },
  },
  ["url"],
);


const driftEntry = object(
  {
    object: string("Kind/namespace/name."),
    changedBy: string("Who made the change: the user the admission webhook saw, else the field manager."),
    fieldManager: string("The field manager of the change, when changedBy names the user."),
    at: timestamp("When it was seen."),
  },
  ["object", "changedBy", "at"],
);

const gitRepositoryStatus = object({
  observedGeneration: count("The metadata.generation last reconciled."),
  lastHandledReconcileAt,
  conditions,
  artifact: object(
    {
      revision: string("main@sha1:<sha>, v1.2.0@sha1:<sha>, or sha1:<sha>."),
      commit: string("Full commit SHA."),
      author: string("Name <email>."),
      committer: string("Who made the commit, Name <email>."),
      date: timestamp("Author date."),
      message: string("Commit message."),
      lastUpdateTime: timestamp("When the artifact was last fetched or confirmed current."),
      ignore: string("spec.ignore when this artifact was recorded; its trees leave out what it matches.", { maxLength: MAX_SOURCE_IGNORE_CHARACTERS }),
    },
    ["revision", "commit", "lastUpdateTime"],
  ),
});

const applicationSpec = object(
  {
    sourceRef: object(
      {
        kind: string("Kind of the source.", { enum: [GIT_REPOSITORY_KIND] }),
        name: name("Name of the source."),
        namespace: namespace("Default: the Application's namespace."),
      },
      ["kind", "name"],
    ),
    path: withRules(string("Directory inside the repository, relative to its root (./ for the root).", { minLength: 1, maxLength: 1024 }), [
      { rule: "!self.startsWith('/')", message: "path must be relative to the repository root" },
      { rule: "!self.matches('(^|/)[.][.](/|$)')", message: "path must not contain '..' segments" },
    ]),
    targetNamespace: namespace("Namespace for every namespaced object applied."),
    interval: duration("How often to re-apply even when nothing changed.", APPLICATION_DEFAULTS.interval),
    retryInterval: duration("The longest wait between retries after a failure (they back off exponentially from 1s up to it); default: interval, at most 30s."),
    prune: { type: "boolean", default: APPLICATION_DEFAULTS.prune, description: "Delete objects that left Git." },
    selfHeal: { type: "boolean", default: APPLICATION_DEFAULTS.selfHeal, description: "Revert changes made in the cluster as soon as they are seen." },
    wait: { type: "boolean", default: APPLICATION_DEFAULTS.wait, description: "Wait for every applied object to be healthy before reporting Ready." },
    timeout: duration("Budget for one sync: apply, prune and health wait.", APPLICATION_DEFAULTS.timeout),
    healthChecks: {
      type: "array",
      description: "Further objects that must be healthy for the Application to be Ready.",
      items: object(
        {
          apiVersion: string("e.g. apps/v1.", { minLength: 1 }),
          kind: string("e.g. Deployment.", { minLength: 1 }),
          name: name("Object name."),
          namespace: namespace("Omitted for cluster-scoped objects."),
        },
        ["apiVersion", "kind", "name"],
      ),
    },
    dependsOn: {
      type: "array",
      description: "Applications that must be Ready first.",
      maxItems: 100,
      items: object({ name: name("Application name."), namespace: namespace("Default: this Application's namespace.") }, ["name"]),
    },
    serviceAccountName: string("Apply as this ServiceAccount of the Application's namespace.", { pattern: DNS_SUBDOMAIN_PATTERN, maxLength: 253 }),
    suspend: { type: "boolean", description: "Stop syncing; applied objects stay as they are." },
    force: { type: "boolean", description: "Recreate objects whose immutable fields changed." },
    decryption: object(
      {
        provider: string("Only sops (age keys).", { enum: ["sops"] }),
        secretRef: object({ name: secretName("Secret name.") }, ["name"], { description: "A Secret in this namespace; entries ending in .agekey hold age identities." }),
      },
      ["provider", "secretRef"],
      { description: "Decrypt SOPS-encrypted files before applying." },
    ),
    allowEmpty: { type: "boolean", description: "Let a revision that renders no objects empty the path (with prune, delete everything applied); default: refused with reason EmptyRender." },
  },
  ["sourceRef", "path"],
);

const applicationStatus = object({
  observedGeneration: count("The metadata.generation last reconciled."),
  lastHandledReconcileAt,
  drift: { type: "array", description: "Changes made in the cluster and not reverted (selfHeal off).", maxItems: DRIFT_REVERT_LIMIT, items: driftEntry },
  warnings: { type: "array", description: "What the last render warned about, such as files it did not read.", maxItems: WARNING_LIMIT, items: { type: "string", maxLength: 4096 } },
  conditions,
  lastAppliedRevision: string("The revision last applied successfully."),
  lastAttemptedRevision: string("The revision last tried, successfully or not."),
  inventory: object(
    {
      entries: {
        type: "array",
        items: object({ id: string("<namespace>_<name>_<group>_<kind>."), v: string("API version.") }, ["id", "v"]),
      },
    },
    ["entries"],
    { description: "What the last successful sync applied." },
  ),
  history: {
    type: "array",
    description: `The last ${HISTORY_LIMIT} syncs, newest first.`,
    maxItems: HISTORY_LIMIT,
    items: object(
      {
        revision: string("main@sha1:<sha>."),
        author: string("Commit author, Name <email>."),
        message: string("Commit message."),
        startedAt: timestamp("When the sync started."),
        finishedAt: timestamp("When the sync finished."),
        result: string("Succeeded or Failed.", { enum: ["Succeeded", "Failed"] }),
        summary: object(
          { created: count("Objects created."), configured: count("Objects changed."), deleted: count("Objects pruned."), unchanged: count("Objects already as in Git.") },
          ["created", "configured", "deleted", "unchanged"],
        ),
        driftReverts: {
          type: "array",
          maxItems: DRIFT_REVERT_LIMIT,
          items: driftEntry,
        },
      },
      ["revision", "startedAt", "finishedAt", "result", "summary"],
    ),
  },
});

/** Every CRD, ready for server-side apply (order: sources first). */
export function customResourceDefinitions(): KubeObject[] {
  return [
    crd({
      kind: GIT_REPOSITORY_KIND,
      plural: GIT_REPOSITORY_RESOURCE,
      shortNames: ["fgitrepo"],
      spec: gitRepositorySpec,
      status: gitRepositoryStatus,
      columns: [
        { name: "URL", type: "string", jsonPath: ".spec.url" },
        { name: "Revision", type: "string", jsonPath: ".status.artifact.revision" },
        ...readyColumns,
      ],
    }),
    crd({
      kind: APPLICATION_KIND,
      plural: APPLICATION_RESOURCE,
      shortNames: ["fapp"],
      spec: applicationSpec,
      status: applicationStatus,
      columns: [
        { name: "Source", type: "string", jsonPath: ".spec.sourceRef.name" },
        { name: "Path", type: "string", jsonPath: ".spec.path" },
        { name: "Revision", type: "string", jsonPath: ".status.lastAppliedRevision" },
        ...readyColumns,
      ],
      rootRules: [
        {
          rule: "!has(self.spec.dependsOn) || !self.spec.dependsOn.exists(d, d.name == self.metadata.name && !has(d.namespace))",
          message: "an Application cannot depend on itself",
        },
      ],
    }),
    ...imageCustomResourceDefinitions(),
    ...notificationCustomResourceDefinitions(),
    receiverCustomResourceDefinition(),
  ];
}
