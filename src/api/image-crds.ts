/**
 * CustomResourceDefinitions of the image automation kinds (image-types.ts), registered with the
 * others in crds.ts so install, RBAC and the controller's start-up pick them up.
 *
 * Short names are `fimagerepo`, `fimagepolicy` and `fimageupdate`, never Flux's `imagerepo`,
 * `imagepolicy` or `imageupdateauto`: with two CRDs claiming a short name kubectl silently picks
 * one group. Schemas are built inside functions because crds.ts (whose helpers they use) imports
 * this module: nothing may run at load time in either direction of that cycle.
 */
import type { KubeObject } from "../model/object.ts";
import { conditions, count, crd, duration, lastHandledReconcileAt, name, namespace, secretName, object, readyColumns, string, timestamp, withRules, type Schema } from "./schema.ts";
import {
  IMAGE_POLICY_KIND,
  IMAGE_POLICY_RESOURCE,
  IMAGE_REPOSITORY_DEFAULTS,
  IMAGE_REPOSITORY_KIND,
  IMAGE_REPOSITORY_RESOURCE,
  IMAGE_UPDATE_AUTOMATION_DEFAULTS,
  IMAGE_UPDATE_AUTOMATION_KIND,
  IMAGE_UPDATE_AUTOMATION_RESOURCE,
  LATEST_TAGS_LIMIT,
  PUSH_CHANGES_LIMIT,
  PUSH_HISTORY_LIMIT,
} from "./image-types.ts";
import { GIT_REPOSITORY_KIND, GROUP } from "./types.ts";

export const IMAGE_REPOSITORY_CRD_NAME = `${IMAGE_REPOSITORY_RESOURCE}.${GROUP}`;
export const IMAGE_POLICY_CRD_NAME = `${IMAGE_POLICY_RESOURCE}.${GROUP}`;
export const IMAGE_UPDATE_AUTOMATION_CRD_NAME = `${IMAGE_UPDATE_AUTOMATION_RESOURCE}.${GROUP}`;

const localReference = (description: string): Schema => object({ name: secretName("Secret name.") }, ["name"], { description });
const order = (): Schema => string("asc (default) picks the highest, desc the lowest.", { enum: ["asc", "desc"], default: "asc" });
const imageRef = (description: string): Schema =>
  object({ name: string("Image name without tag."), tag: string("Tag."), digest: string("Manifest digest, when reflected.") }, ["name", "tag"], { description });

function imageRepositorySpec(): Schema {
  return object(
    {
      image: string("registry/repository without tag or digest, e.g. ghcr.io/org/app.", { minLength: 1, maxLength: 512, pattern: "^[^:@]+(:[0-9]+)?(/[^:@]+)*$" }),
      interval: duration("How often to scan for tags.", IMAGE_REPOSITORY_DEFAULTS.interval),
      timeout: duration("Budget for one scan.", IMAGE_REPOSITORY_DEFAULTS.timeout),
      secretRef: localReference("A kubernetes.io/dockerconfigjson Secret in the same namespace."),
      certSecretRef: localReference("A Secret in the same namespace whose ca.crt is trusted for the registry."),
      insecure: { type: "boolean", description: "Plain HTTP; only ever used for loopback registries." },
      exclusionList: { type: "array", maxItems: 25, description: "Regular expressions of tags never considered; default: ^.*\\.sig$.", items: string("RE2 regular expression.", { minLength: 1 }) },
      suspend: { type: "boolean", description: "Stop scanning; the last result stays." },
    },
    ["image"],
  );
}

function imageRepositoryStatus(): Schema {
  return object({
    observedGeneration: count("The metadata.generation last reconciled."),
    lastHandledReconcileAt,
    conditions,
    canonicalImageName: string("The image name as registries know it, e.g. docker.io/library/nginx."),
    lastScanResult: object(
      {
        tagCount: count("Tags left after the exclusion list."),
        scanTime: timestamp("When the scan finished."),
        latestTags: { type: "array", maxItems: LATEST_TAGS_LIMIT, description: `At most ${LATEST_TAGS_LIMIT} tags, reverse-sorted.`, items: { type: "string" } },
      },
      ["tagCount", "scanTime"],
    ),
  });
}

function imagePolicySpec(): Schema {
  const policy = withRules(
    object({
      semver: object({ range: string("Semver range, e.g. '>=1.0.0 <2.0.0' or '1.x'.", { minLength: 1 }) }, ["range"]),
      alphabetical: object({ order: order() }),
      numerical: object({ order: order() }),
    }),
    [{ rule: "(has(self.semver) ? 1 : 0) + (has(self.alphabetical) ? 1 : 0) + (has(self.numerical) ? 1 : 0) == 1", message: "policy must set exactly one of semver, alphabetical or numerical" }],
  );
  return object(
    {
      imageRepositoryRef: object({ name: name("ImageRepository name."), namespace: namespace("Default: the policy's namespace.") }, ["name"]),
      policy,
      filterTags: withRules(
        object({
          pattern: string("RE2 regular expression a tag must match; (?P<name>...) names a group."),
          extract: string("What the ordering compares, e.g. $ts; needs pattern."),
        }),
        [{ rule: "!has(self.extract) || self.extract == '' || (has(self.pattern) && self.pattern != '')", message: "filterTags.extract needs filterTags.pattern" }],
      ),
      glob: string("Shell-style tag glob, e.g. master-*.", { minLength: 1 }),
      digestReflectionPolicy: string("Never (default), IfNotPresent or Always.", { enum: ["Never", "IfNotPresent", "Always"], default: "Never" }),
    },
    ["imageRepositoryRef", "policy"],
  );
}

function imagePolicyStatus(): Schema {
  return object({
    observedGeneration: count("The metadata.generation last reconciled."),
    lastHandledReconcileAt,
    conditions,
    latestRef: imageRef("The latest image the policy selected."),
    observedPreviousRef: imageRef("The latestRef before the last change."),
  });
}

function imageUpdateAutomationSpec(): Schema {
  const branch = (description: string) => string(description, { minLength: 1, maxLength: 250 });
  return object(
    {
      sourceRef: object(
        {
          kind: string("Kind of the source.", { enum: [GIT_REPOSITORY_KIND] }),
          name: name("GitRepository name."),
          namespace: namespace("Default: the automation's namespace."),
        },
        ["kind", "name"],
      ),
      git: object(
        {
          checkout: object({ ref: object({ branch: branch("Branch to start from.") }, ["branch"]) }, ["ref"], { description: "Default: the GitRepository's branch." }),
          push: object({ branch: branch("Branch to push to.") }, ["branch"], { description: "Default: the checkout branch." }),
          commit: object(
            {
              author: object({ name: string("Author name.", { minLength: 1 }), email: string("Author email.", { minLength: 1 }) }, ["name", "email"]),
              messageTemplate: string("Commit message; placeholders {{changes}}, {{policies}}, {{files}}, {{count}}, {{automation}}.", { maxLength: 4096 }),
            },
            ["author"],
          ),
        },
        ["commit"],
      ),
      update: object(
        {
          path: withRules(string("Directory (or file) of the repository to update, relative to its root.", { minLength: 1, maxLength: 1024, default: "./" }), [
            { rule: "!self.startsWith('/')", message: "update.path must be relative to the repository root" },
            { rule: "!self.matches('(^|/)[.][.](/|$)')", message: "update.path must not contain '..' segments" },
          ]),
          strategy: string("Setters: fields marked with $imagepolicy comments (and Flux v1 annotated workloads).", { enum: ["Setters"], default: IMAGE_UPDATE_AUTOMATION_DEFAULTS.strategy }),
        },
        [],
        { default: {} },
      ),
      interval: duration("How often to run the update.", IMAGE_UPDATE_AUTOMATION_DEFAULTS.interval),
      suspend: { type: "boolean", description: "Stop updating Git." },
    },
    ["sourceRef", "git", "update"],
  );
}

function imageUpdateAutomationStatus(): Schema {
  return object({
    observedGeneration: count("The metadata.generation last reconciled."),
    lastHandledReconcileAt,
    conditions,
    lastAutomationRunTime: timestamp("When the update last ran."),
    lastPushCommit: string("The commit last pushed."),
    lastPushTime: timestamp("When it was pushed."),
    observedPolicies: { type: "object", description: "The Ready policies of the namespace at the last run, by name.", additionalProperties: imageRef("The policy's latest image.") },
    history: {
      type: "array",
      description: `The last ${PUSH_HISTORY_LIMIT} pushes, newest first.`,
      maxItems: PUSH_HISTORY_LIMIT,
      items: object(
        {
          commit: string("Pushed commit."),
          branch: string("Branch pushed to."),
          pushedAt: timestamp("When."),
          changes: { type: "array", maxItems: PUSH_CHANGES_LIMIT, items: { type: "string" }, description: "file:line: old -> new." },
        },
        ["commit", "branch", "pushedAt"],
      ),
    },
  });
}

export function imageCustomResourceDefinitions(): KubeObject[] {
  return [
    crd({
      kind: IMAGE_REPOSITORY_KIND,
      plural: IMAGE_REPOSITORY_RESOURCE,
      shortNames: ["fimagerepo"],
      spec: imageRepositorySpec(),
      status: imageRepositoryStatus(),
      columns: [
        { name: "Image", type: "string", jsonPath: ".spec.image" },
        { name: "Tags", type: "integer", jsonPath: ".status.lastScanResult.tagCount" },
        { name: "Last scan", type: "date", jsonPath: ".status.lastScanResult.scanTime" },
        ...readyColumns,
      ],
    }),
    crd({
      kind: IMAGE_POLICY_KIND,
      plural: IMAGE_POLICY_RESOURCE,
      shortNames: ["fimagepolicy"],
      spec: imagePolicySpec(),
      status: imagePolicyStatus(),
      columns: [
        { name: "Repository", type: "string", jsonPath: ".spec.imageRepositoryRef.name" },
        { name: "Latest", type: "string", jsonPath: ".status.latestRef.tag" },
        ...readyColumns,
      ],
    }),
    crd({
      kind: IMAGE_UPDATE_AUTOMATION_KIND,
      plural: IMAGE_UPDATE_AUTOMATION_RESOURCE,
      shortNames: ["fimageupdate"],
      spec: imageUpdateAutomationSpec(),
      status: imageUpdateAutomationStatus(),
      columns: [
        { name: "Source", type: "string", jsonPath: ".spec.sourceRef.name" },
        { name: "Last push", type: "string", jsonPath: ".status.lastPushCommit" },
        { name: "Pushed", type: "date", jsonPath: ".status.lastPushTime" },
        ...readyColumns,
      ],
    }),
  ];
}
