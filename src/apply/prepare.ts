import type { Discovery, ResourceMapping } from "../kube/discovery.ts";
import { groupOf, refOf, versionOf, type KubeObject, type ObjectRef, type RenderedObject } from "../model/object.ts";
import type { ObjectProblem } from "./errors.ts";
import { ownerLabels, type Owner } from "../model/ownership.ts";
import { isPrerequisite, kindsDefinedBy } from "./staging.ts";

/** A desired object made ready to apply: normalised, labelled, mapped to its resource. */
export interface PreparedObject {
  rendered: RenderedObject;
  object: KubeObject;
  ref: ObjectRef;
  /** Unknown until its CRD (in the same set) is established. */
  mapping: ResourceMapping | undefined;
  stage: 1 | 2;
}

/** Sets the namespace the server will use and adds owner labels; pure given the mapping. */
export function normalise(object: KubeObject, namespaced: boolean, defaultNamespace: string, owner: Owner): KubeObject {
  const metadata = { ...object.metadata, labels: { ...object.metadata.labels, ...ownerLabels(owner) } };
  if (namespaced) metadata.namespace = object.metadata.namespace || defaultNamespace;
  else delete metadata.namespace;
  return { ...object, metadata };
}

/**
 * Resolves every object's resource through discovery and normalises it. Kinds the server
 * does not know are problems, unless a CRD in the same set defines them.
 */
export async function prepareObjects(
  discovery: Discovery,
  rendered: readonly RenderedObject[],
  owner: Owner,
  defaultNamespace: string,
): Promise<{ prepared: PreparedObject[]; problems: ObjectProblem[] }> {
  const definedHere = kindsDefinedBy(rendered.map((item) => item.object));
  const prepared: PreparedObject[] = [];
  const problems: ObjectProblem[] = [];
  for (const item of rendered) {
    const { object } = item;
    const group = groupOf(object.apiVersion);
    const version = versionOf(object.apiVersion);
    if (!object.metadata.name) {
      problems.push({ ref: refOf(object), source: item.source, message: "metadata.name is required (generateName cannot be applied declaratively)" });
      continue;
    }
    const mapping = await discovery.find(group, version, object.kind);
    if (!mapping && !definedHere.has(`${group}/${object.kind}`)) {
      const served = discovery.versionsOf(group, object.kind);
      problems.push({
        ref: refOf(object),
        source: item.source,
        clusterDependent: true,
        message: served.length
          ? `apiVersion ${object.apiVersion} is not served for kind ${object.kind}; the server has ${served.map((v) => (group ? `${group}/${v}` : v)).join(", ")}`
          : `unknown kind ${object.kind} in apiVersion ${object.apiVersion}: the server has no such resource; install its CustomResourceDefinition first or fix apiVersion/kind`,
      });
      continue;
    }
    // Objects of kinds defined by a CRD in this set: CRDs are namespaced unless they say Cluster.
    const namespaced = mapping ? mapping.namespaced : crdScopeOf(rendered, group, object.kind) === "Namespaced";
    const normalised = normalise(object, namespaced, defaultNamespace, owner);
    prepared.push({ rendered: item, object: normalised, ref: refOf(normalised), mapping, stage: isPrerequisite(object) ? 1 : 2 });
  }
  return { prepared, problems };
}

function crdScopeOf(rendered: readonly RenderedObject[], group: string, kind: string): string {
  for (const { object } of rendered) {
    const spec = object.spec as { group?: string; scope?: string; names?: { kind?: string } } | undefined;
    if (object.kind === "CustomResourceDefinition" && spec?.group === group && spec.names?.kind === kind) return spec.scope ?? "Namespaced";
  }
  return "Namespaced";
}
