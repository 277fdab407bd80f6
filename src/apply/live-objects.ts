import type { KubeClient } from "../kube/client.ts";
import { resourcePath, type ResourceMapping } from "../kube/discovery.ts";
import { KubeApiError } from "../kube/errors.ts";
import { refKey, refOf, type KubeObject } from "../model/object.ts";
import { mapLimit } from "../util/map-limit.ts";
import { ownerSelector, type Owner } from "../model/ownership.ts";

interface ObjectList {
  items?: KubeObject[];
  metadata?: { continue?: string };
}

/** Up to this many namespaces per type are listed one by one, beyond it cluster-wide. */
const PER_NAMESPACE_LISTS = 4;

/**
 * The live objects this owner already manages, keyed by refKey: one labelled LIST per
 * resource type (paged), not one GET per object, so a sync of thousands of objects costs a
 * handful of reads. Objects in a few namespaces are listed per namespace: the API server
 * filters a namespace's objects, not the whole cluster's, so a thousand small Applications do
 * not each scan everyone's objects. Where a cluster-wide list is forbidden (a namespaced
 * identity), it lists per namespace too.
 */
export async function listOwnedObjects(
  client: KubeClient,
  wanted: ReadonlyArray<{ mapping: ResourceMapping; namespace: string }>,
  owner: Owner,
  concurrency = 8,
): Promise<Map<string, KubeObject>> {
  const byResource = new Map<string, { mapping: ResourceMapping; namespaces: Set<string> }>();
  for (const { mapping, namespace } of wanted) {
    const id = `${mapping.group}/${mapping.version}/${mapping.resource}`;
    const entry = byResource.get(id) ?? { mapping, namespaces: new Set<string>() };
    entry.namespaces.add(namespace);
    byResource.set(id, entry);
  }
  const found = new Map<string, KubeObject>();
  const listInto = async (mapping: ResourceMapping, namespace: string | undefined) => {
    let continueToken: string | undefined;
    do {
      const page = await client.request<ObjectList>("GET", resourcePath(mapping, namespace), {
        query: { labelSelector: ownerSelector(owner), limit: 500, continue: continueToken },
      });
      for (const item of page.items ?? []) {
        // Lists omit apiVersion/kind on items.
        const object = { ...item, apiVersion: mapping.group ? `${mapping.group}/${mapping.version}` : mapping.version, kind: mapping.kind };
        found.set(refKey(refOf(object)), object);
      }
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken);
  };
  await mapLimit([...byResource.values()], concurrency, async ({ mapping, namespaces }) => {
    if (!mapping.namespaced) return listInto(mapping, undefined);
    if (namespaces.size <= PER_NAMESPACE_LISTS) {
      await mapLimit([...namespaces], concurrency, (namespace) => listInto(mapping, namespace));
      return;
    }
    try {
      await listInto(mapping, undefined);
    } catch (error) {
      if (!(error instanceof KubeApiError && error.statusCode === 403)) throw error;
      await mapLimit([...namespaces], concurrency, (namespace) => listInto(mapping, namespace));
    }
  });
  return found;
}
