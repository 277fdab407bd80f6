import { isMap, isScalar, isSeq, type Document, type YAMLMap } from "yaml";
import { fluxV1PolicyFor, readFluxV1Annotations, type TagPolicySpec } from "../policy/index.ts";
import type { ImageChange, ManifestFile, UpdateError } from "./apply-policies.ts";
import { podContainers, podSpecOf, stringField, workloadIdentity, type WorkloadIdentity } from "./containers.ts";
import { applyTextEdits, lineOf, parseYaml, replaceScalar, scalarText } from "./yaml-source.ts";

/** The kinds Flux v1 updated images of. */
export const FLUX_V1_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "CronJob"]);
const PREFIXES = ["fluxcd.io/", "flux.weave.works/"];

export interface FluxV1Container {
  file: string;
  /** 1-based line of the container's image. */
  line: number;
  workload: WorkloadIdentity;
  /** 0-based index of the document in the file. */
  document: number;
  container: string;
  init: boolean;
  image: string;
  /** The filter as written (`glob:master-*`, `regex:^v`, `semver:~1.2`); `glob:*` when the workload names none. */
  filter: string;
  /** The annotation the filter came from; absent for the default. */
  filterAnnotation?: string;
  policy: TagPolicySpec;
  /** `fluxcd.io/locked: "true"`: Flux v1 left the workload alone. */
  locked: boolean;
  /** The pod's imagePullSecrets, which Flux v1 used to read the registry. */
  imagePullSecrets: string[];
}

/**
 * Finds the containers of workloads automated the Flux v1 way (`fluxcd.io/automated: "true"` or
 * `flux.weave.works/automated: "true"`), each with its tag filter: `fluxcd.io/tag.<container>`
 * (or `flux.weave.works/tag.<container>`), else `flux.weave.works/tag-glob`, else any tag.
 */
export function findFluxV1Automations(files: readonly ManifestFile[]): { containers: FluxV1Container[]; errors: UpdateError[] } {
  const containers: FluxV1Container[] = [];
  const errors: UpdateError[] = [];
  for (const file of files) {
    if (!file.text.includes("fluxcd.io/") && !file.text.includes("flux.weave.works/")) continue;
    const parsed = parseYaml(file.text);
    if (!parsed.ok) {
      errors.push({ file: file.path, ...(parsed.error.line !== undefined ? { line: parsed.error.line } : {}), message: `not valid YAML: ${parsed.error.message}` });
      continue;
    }
    parsed.yaml.documents.forEach((document, index) => {
      const workload = workloadIdentity(document);
      if (!workload || !FLUX_V1_KINDS.has(workload.kind)) return;
      const annotations = annotationsOf(document);
      const automation = readAutomation(annotations, file.path, lineOf(parsed.yaml, document.contents?.range?.[0] ?? 0), errors);
      if (!automation?.automated) return;
      const podSpec = podSpecOf(document, workload.kind);
      if (!podSpec) return;
      const pullSecrets = imagePullSecrets(podSpec);
      for (const container of podContainers(podSpec)) {
        const source = filterSource(annotations, container.name);
        const policy = fluxV1PolicyFor(automation, container.name);
        containers.push({
          file: file.path,
          line: lineOf(parsed.yaml, container.image.range?.[0] ?? 0),
          workload,
          document: index,
          container: container.name,
          init: container.init,
          image: scalarText(container.image),
          filter: source.filter,
          ...(source.annotation !== undefined ? { filterAnnotation: source.annotation } : {}),
          policy,
          locked: automation.locked,
          imagePullSecrets: pullSecrets,
        });
      }
    });
  }
  return { containers, errors };
}

function readAutomation(annotations: Record<string, string>, file: string, line: number, errors: UpdateError[]) {
  try {
    return readFluxV1Annotations(annotations);
  } catch (error) {
    errors.push({ file, line, message: (error as Error).message });
    return undefined;
  }
}

/** A workload's annotations as strings (`"true"` and `true` alike). */
export function annotationsOf(document: Document.Parsed): Record<string, string> {
  const node = document.getIn(["metadata", "annotations"], true);
  const result: Record<string, string> = {};
  if (!isMap(node)) return result;
  for (const pair of node.items) {
    if (!isScalar(pair.key) || !isScalar(pair.value)) continue;
    result[String(pair.key.value)] = String(pair.value.value);
  }
  return result;
}

/** Whether an annotation is one of Flux v1's (automation, locks, tag filters). */
export function isFluxV1Annotation(key: string): boolean {
  return PREFIXES.some((prefix) => key.startsWith(prefix) && /^(automated|locked|locked_msg|locked_user|tag-glob|tag\..+)$/.test(key.slice(prefix.length)));
}

function filterSource(annotations: Record<string, string>, container: string): { filter: string; annotation?: string } {
  for (const name of [`tag.${container}`, "tag-glob"]) {
    for (const prefix of PREFIXES) {
      const value = annotations[prefix + name];
      if (value === undefined) continue;
      const filter = name === "tag-glob" && !/^(glob|regexp?|semver):/.test(value.trim()) ? `glob:${value.trim()}` : value.trim();
      return { filter, annotation: prefix + name };
    }
  }
  return { filter: "glob:*" };
}

function imagePullSecrets(podSpec: YAMLMap): string[] {
  const list = podSpec.get("imagePullSecrets", true);
  if (!isSeq(list)) return [];
  return list.items.flatMap((item) => (isMap(item) ? [stringField(item, "name")].filter((name): name is string => name !== undefined) : []));
}

export interface ContainerTarget {
  kind: string;
  name: string;
  /** When given, the workload must be in it; when absent, any namespace matches. */
  namespace?: string;
  container: string;
}

/** Sets one container's image in a file, leaving every other byte as it was. */
export function setContainerImage(
  file: ManifestFile,
  target: ContainerTarget,
  image: string,
): { text: string; change?: ImageChange } | { error: UpdateError } {
  const parsed = parseYaml(file.text);
  if (!parsed.ok) {
    return { error: { file: file.path, ...(parsed.error.line !== undefined ? { line: parsed.error.line } : {}), message: `not valid YAML, left untouched: ${parsed.error.message}` } };
  }
  const label = `${target.kind}/${target.name}${target.namespace ? ` in ${target.namespace}` : ""}`;
  for (const document of parsed.yaml.documents) {
    const workload = workloadIdentity(document);
    if (!workload || workload.kind !== target.kind || workload.name !== target.name) continue;
    if (target.namespace !== undefined && workload.namespace !== undefined && workload.namespace !== target.namespace) continue;
    const podSpec = podSpecOf(document, workload.kind);
    const container = podSpec && podContainers(podSpec).find((candidate) => candidate.name === target.container);
    if (!container) return { error: { file: file.path, message: `${label} has no container "${target.container}"` } };
    const old = scalarText(container.image);
    if (old === image) return { text: file.text };
    const line = lineOf(parsed.yaml, container.image.range?.[0] ?? 0);
    return {
      text: applyTextEdits(file.text, [replaceScalar(container.image, image)]),
      change: { file: file.path, line, old, new: image, policy: `${label}/${target.container}`, field: "image" },
    };
  }
  return { error: { file: file.path, message: `${label} not found` } };
}
