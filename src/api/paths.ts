import { resourcePath } from "../kube/resource-path.ts";
import { GROUP, VERSION } from "./types.ts";

/** REST path of fjord's own (namespaced) resources: the collection across namespaces, or one object. */
export function fjordResourcePath(resource: string, namespace?: string, name?: string): string {
  return resourcePath({ group: GROUP, version: VERSION, kind: "", resource, namespaced: true, verbs: [] }, namespace, name);
}
