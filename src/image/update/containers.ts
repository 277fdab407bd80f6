import { isMap, isPair, isScalar, isSeq, visit, type Document, type Scalar, type YAMLMap } from "yaml";
import { primitiveText } from "./yaml-source.ts";

export interface ContainerNode {
  /** The container's `name`, "" when it has none. */
  name: string;
  /** The `image` scalar, to read and to replace in place. */
  image: Scalar;
  init: boolean;
}

const CONTAINER_LISTS = new Set(["containers", "initContainers", "ephemeralContainers"]);

/**
 * Every container with a scalar image anywhere in a document: Pods, workload templates, CronJob
 * job templates and custom resources that embed a pod spec (Argo Rollouts, Knative...).
 */
export function containersIn(document: Document.Parsed): ContainerNode[] {
  const found: ContainerNode[] = [];
  visit(document, {
    Pair(_key, pair) {
      if (!isPair(pair) || !isScalar(pair.key) || !CONTAINER_LISTS.has(String(pair.key.value)) || !isSeq(pair.value)) return;
      const init = pair.key.value === "initContainers";
      for (const item of pair.value.items) {
        if (!isMap(item)) continue;
        const image = item.get("image", true);
        if (!isScalar(image)) continue;
        found.push({ name: stringField(item, "name") ?? "", image, init });
      }
    },
  });
  return found;
}

export function stringField(map: YAMLMap, key: string): string | undefined {
  const value = map.get(key, true);
  return isScalar(value) && value.value !== null && value.value !== undefined ? primitiveText(value.value) : undefined;
}

export interface WorkloadIdentity {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export function workloadIdentity(document: Document.Parsed): WorkloadIdentity | undefined {
  const root = document.contents;
  if (!isMap(root)) return undefined;
  const kind = stringField(root, "kind");
  const metadata = root.get("metadata", true);
  if (kind === undefined || !isMap(metadata)) return undefined;
  const name = stringField(metadata, "name");
  if (name === undefined) return undefined;
  const namespace = stringField(metadata, "namespace");
  return { apiVersion: stringField(root, "apiVersion") ?? "", kind, name, ...(namespace !== undefined ? { namespace } : {}) };
}

/** The pod spec of a workload kind Flux v1 automated, or undefined for other kinds. */
export function podSpecOf(document: Document.Parsed, kind: string): YAMLMap | undefined {
  const path = kind === "CronJob" ? ["spec", "jobTemplate", "spec", "template", "spec"] : ["spec", "template", "spec"];
  const node = document.getIn(path, true);
  return isMap(node) ? node : undefined;
}

/** A pod spec's own containers (not those of nested objects), init containers included. */
export function podContainers(podSpec: YAMLMap): ContainerNode[] {
  const found: ContainerNode[] = [];
  for (const list of ["initContainers", "containers"]) {
    const seq = podSpec.get(list, true);
    if (!isSeq(seq)) continue;
    for (const item of seq.items) {
      if (!isMap(item)) continue;
      const image = item.get("image", true);
      if (isScalar(image)) found.push({ name: stringField(item, "name") ?? "", image, init: list === "initContainers" });
    }
  }
  return found;
}
