import { isMap, isScalar, stringify, visit, type Document, type Pair, type Scalar, type YAMLMap } from "yaml";
import { describePattern } from "../../util/user-pattern.ts";
import { compileGlob, compileTagPolicy, globToPattern, TagPolicyError, type TagPolicySpec } from "../policy/index.ts";
import type { ManifestFile, UpdateError } from "./apply-policies.ts";
import { findFluxV1Automations, isFluxV1Annotation, type FluxV1Container } from "./flux-v1.ts";
import { parseImageReference } from "./image-ref.ts";
import { formatMarker } from "./markers.ts";
import { applyTextEdits, lineEndAt, lineOf, lineStartAt, parseYaml, trailingComment, type TextEdit } from "./yaml-source.ts";

export const IMAGE_API_VERSION = "fjord.dev/v1alpha1";

export interface MigrationOptions {
  /** Namespace of the generated ImageRepositories and ImagePolicies; default: each workload's own, else "default". */
  namespace?: string;
  /** Scan interval of the generated ImageRepositories (default 5m). */
  interval?: string;
  /** Directory (repository-relative, "" for the root) the generated files go into; default "image-automation". */
  outputDir?: string;
}

export interface ImagePolicySpec {
  imageRepositoryRef: { name: string };
  policy: { semver: { range: string } } | { alphabetical: { order: "asc" | "desc" } } | { numerical: { order: "asc" | "desc" } };
  filterTags?: { pattern: string; extract?: string };
}

export interface ImageRepositorySpec {
  image: string;
  interval: string;
  secretRef?: { name: string };
  exclusionList?: string[];
}

export interface MigratedContainer {
  file: string;
  line: number;
  workload: string;
  container: string;
  filter: string;
  /** `namespace:name` written into the marker. */
  policy: string;
  repository: string;
}

export interface MigrationResult {
  /** Workload files with markers added and the Flux v1 annotations removed. */
  files: ManifestFile[];
  /** New ImageRepository and ImagePolicy files. */
  created: ManifestFile[];
  migrated: MigratedContainer[];
  /** Things a person should review: behaviour that changes, fields left alone. */
  notes: string[];
  errors: UpdateError[];
}

/**
 * Converts Flux v1 automation annotations into `$imagepolicy` markers plus ImageRepository and
 * ImagePolicy objects. Flux v1 chose among the tags a glob or regex admits by build time, which
 * tags do not carry: a timestamp at the end of the current tag becomes a numerical ordering of it,
 * anything else an alphabetical one, and the notes say so.
 */
export function migrateFluxV1(files: readonly ManifestFile[], options: MigrationOptions = {}): MigrationResult {
  const result: MigrationResult = { files: [], created: [], migrated: [], notes: [], errors: [] };
  const found = findFluxV1Automations(files);
  result.errors.push(...found.errors);
  const outputDir = options.outputDir ?? "image-automation";
  const interval = options.interval ?? "5m";

  const repositories = new Map<string, { name: string; namespace: string; spec: ImageRepositorySpec }>();
  const takenRepositoryNames = new Set<string>();
  const takenPolicyNames = new Set<string>();
  const markers = new Map<FluxV1Container, string>();

  for (const container of found.containers) {
    const label = `${container.workload.kind}/${container.workload.name} container "${container.container}" (${container.file}:${container.line})`;
    if (container.locked) {
      result.notes.push(`${label} is locked (fluxcd.io/locked); left as it is`);
      continue;
    }
    try {
      // The filter's glob or regex must be one Flux (RE2) accepts, within fjord's pattern limits.
      compileTagPolicy({ ...container.policy, exclusionList: [] });
    } catch (error) {
      if (!(error instanceof TagPolicyError)) throw error;
      result.errors.push({ file: container.file, line: container.line, message: `${label}: filter ${describePattern(container.filter)}: ${error.message}` });
      continue;
    }
    const namespace = options.namespace ?? container.workload.namespace ?? "default";
    const image = parseImageReference(container.image);
    const repositoryKey = `${namespace}/${image.name}`;
    let repository = repositories.get(repositoryKey);
    if (!repository) {
      const name = uniqueName(dnsName(image.name.split("/").pop() ?? "image"), takenRepositoryNames, namespace);
      const spec: ImageRepositorySpec = { image: image.name, interval };
      const secret = container.imagePullSecrets[0];
      if (secret !== undefined && namespace === (container.workload.namespace ?? namespace)) spec.secretRef = { name: secret };
      else if (secret !== undefined) result.notes.push(`${label} pulls with Secret "${secret}" in another namespace; set secretRef on ImageRepository ${namespace}/${name} by hand`);
      repository = { name, namespace, spec };
      repositories.set(repositoryKey, repository);
    }
    const base = container.container === "" || container.container === container.workload.name ? container.workload.name : `${container.workload.name}-${container.container}`;
    const policyName = uniqueName(dnsName(base), takenPolicyNames, namespace);
    const spec = policySpec(container, image.tag, repository.name, (note) => result.notes.push(`${label}: ${note}`));
    result.created.push(objectFile(outputDir, "ImagePolicy", policyName, namespace, spec));
    const policy = `${namespace}:${policyName}`;
    markers.set(container, policy);
    result.migrated.push({ file: container.file, line: container.line, workload: `${container.workload.kind}/${container.workload.name}`, container: container.container, filter: container.filter, policy, repository: `${namespace}:${repository.name}` });
  }
  for (const repository of repositories.values()) {
    result.created.unshift(objectFile(outputDir, "ImageRepository", repository.name, repository.namespace, repository.spec));
  }

  for (const file of files) {
    const mine = [...markers].filter(([container]) => container.file === file.path);
    if (mine.length === 0) continue;
    const edited = editWorkloadFile(file, new Map(mine), result.notes);
    if ("error" in edited) result.errors.push(edited.error);
    else result.files.push({ path: file.path, text: edited.text });
  }
  return result;
}

function policySpec(container: FluxV1Container, currentTag: string | undefined, repository: string, note: (text: string) => void): ImagePolicySpec {
  const v1: TagPolicySpec = container.policy;
  const imageRepositoryRef = { name: repository };
  if (v1.policy.semver) return { imageRepositoryRef, policy: { semver: { range: v1.policy.semver.range } } };
  const pattern = v1.filterTags?.pattern ?? (v1.glob !== undefined && v1.glob !== "*" ? globToPattern(v1.glob) : undefined);
  // A tag ending in a Unix timestamp (master-<sha>-1700000000) says when it was built: ordering by it keeps Flux v1's "newest".
  const stamped = currentTag !== undefined ? /^(.*[-_.])(\d{10,})$/.exec(currentTag) : null;
  const prefixGlob = v1.glob !== undefined && v1.glob.endsWith("*") ? v1.glob : undefined;
  const globPrefix = prefixGlob !== undefined ? globToPattern(prefixGlob.slice(0, -1)).replace(/\$$/, "") : undefined;
  if (stamped && (v1.glob === undefined || v1.glob === "*" || (prefixGlob !== undefined && compileGlob(prefixGlob).test(currentTag ?? ""))) && !v1.filterTags) {
    const prefix = globPrefix ?? "^";
    note(`Flux v1 chose the most recently built image; the policy orders by the timestamp at the end of the tag (${currentTag})`);
    return { imageRepositoryRef, policy: { numerical: { order: "asc" } }, filterTags: { pattern: `${prefix}.*[-_.](?P<ts>[0-9]{10,})$`, extract: "$ts" } };
  }
  note(`Flux v1 chose the most recently built image among tags matching ${container.filter}; the policy picks the last one alphabetically, so check that the tags sort in build order`);
  return { imageRepositoryRef, policy: { alphabetical: { order: "asc" } }, ...(pattern !== undefined ? { filterTags: { pattern } } : {}) };
}

function editWorkloadFile(file: ManifestFile, markers: ReadonlyMap<FluxV1Container, string>, notes: string[]): { text: string } | { error: UpdateError } {
  const parsed = parseYaml(file.text);
  if (!parsed.ok) return { error: { file: file.path, message: parsed.error.message } };
  const { yaml } = parsed;
  const edits: TextEdit[] = [];
  const documents = new Set([...markers.keys()].map((container) => container.document));
  for (const index of documents) {
    const document = yaml.documents[index];
    if (!document) continue;
    for (const [container, policy] of markers) {
      if (container.document !== index) continue;
      const scalar = imageScalarAt(document, container.line, (offset) => lineOf(yaml, offset));
      if (!scalar) return { error: { file: file.path, line: container.line, message: `cannot find the image of container "${container.container}"` } };
      const comment = trailingComment(file.text, scalar);
      const end = scalar.range?.[1] ?? 0;
      if (comment && !comment.text.includes("$imagepolicy")) notes.push(`${file.path}:${container.line}: the comment "#${comment.text}" after the image gave way to the marker`);
      edits.push({ start: end, end: comment ? comment.end : end, replacement: ` # ${formatMarker(policy)}` });
    }
    const annotations = document.getIn(["metadata", "annotations"], true);
    const metadata = document.get("metadata", true);
    if (!isMap(annotations) || !isMap(metadata)) continue;
    const flux = annotations.items.filter((pair) => isScalar(pair.key) && isFluxV1Annotation(String(pair.key.value)));
    if (annotations.flow) {
      notes.push(`${file.path}: the Flux v1 annotations are in a flow mapping ({...}) and were left in place; remove them by hand`);
      continue;
    }
    if (flux.length === annotations.items.length) {
      const pair = metadata.items.find((candidate) => isScalar(candidate.key) && candidate.key.value === "annotations");
      if (pair) edits.push(removeLines(file.text, pair));
    } else {
      for (const pair of flux) edits.push(removeLines(file.text, pair));
    }
  }
  const text = applyTextEdits(file.text, edits);
  const check = parseYaml(text);
  if (!check.ok) return { error: { file: file.path, message: `could not convert without breaking the file (${check.error.message}); left untouched` } };
  return { text };
}

function imageScalarAt(document: Document.Parsed, line: number, lineAt: (offset: number) => number): Scalar | undefined {
  let found: Scalar | undefined;
  visit(document, {
    Pair(_key, pair) {
      if (isScalar(pair.key) && pair.key.value === "image" && isScalar(pair.value) && lineAt(pair.value.range?.[0] ?? 0) === line) {
        found = pair.value;
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/** Removes the lines of a block-mapping pair, its nested lines and trailing comment included. */
function removeLines(text: string, pair: Pair): TextEdit {
  const key = pair.key as Scalar;
  const value = pair.value as Scalar | YAMLMap | null;
  const start = lineStartAt(text, key.range?.[0] ?? 0);
  const last = Math.max((value?.range?.[2] ?? key.range?.[2] ?? 0) - 1, key.range?.[1] ?? 0);
  const end = lineEndAt(text, Math.max(last, start));
  return { start, end: Math.min(text.length, end + 1), replacement: "" };
}

function objectFile(dir: string, kind: "ImageRepository" | "ImagePolicy", name: string, namespace: string, spec: ImageRepositorySpec | ImagePolicySpec): ManifestFile {
  const object = { apiVersion: IMAGE_API_VERSION, kind, metadata: { name, namespace }, spec };
  const file = `${kind.toLowerCase()}-${namespace}-${name}.yaml`;
  return { path: dir === "" ? file : `${dir.replace(/\/+$/, "")}/${file}`, text: stringify(object, { lineWidth: 0 }) };
}

/** A valid object name (RFC 1123 label, 63 characters at most). */
function dnsName(candidate: string): string {
  const name = candidate.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63).replace(/-+$/, "");
  return name === "" ? "image" : name;
}

function uniqueName(base: string, taken: Set<string>, namespace: string): string {
  let name = base;
  for (let n = 2; taken.has(`${namespace}/${name}`); n += 1) name = `${base.slice(0, 60)}-${n}`;
  taken.add(`${namespace}/${name}`);
  return name;
}
