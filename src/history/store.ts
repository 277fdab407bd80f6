import { createHash } from "node:crypto";
import { API_VERSION, APPLICATION_KIND } from "../api/types.ts";
import type { KubeClient } from "../kube/client.ts";
import { KubeApiError, isNotFound } from "../kube/errors.ts";
import { decodeCompressedJson, encodeCompressedJson } from "../util/compressed-json.ts";
import { boundHistory, parseEntries, type HistoryBounds, type HistoryEntry } from "./entry.ts";

/**
 * Where an Application's history lives: a ConfigMap `fjord-history-<app>` beside it, its
 * entries gzip-compressed JSON (the inventory's encoding), owned by the Application so it goes
 * when the Application does. Not the Application's status: status is rewritten by every
 * reconcile and read by every watcher of Applications, and a hundred entries of change sets
 * would make each of those reads and writes heavy; the ConfigMap is written only when an entry
 * is added and read only by `fjord history` and `fjord audit`.
 */
export const HISTORY_LABEL = "fjord.dev/history";
const APPLICATION_ANNOTATION = "fjord.dev/application";
export const HISTORY_DATA_KEY = "history.json.gz";
const DATA_KEY = HISTORY_DATA_KEY;

export interface HistoryConfigMap {
  metadata: {
    name: string;
    namespace: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion?: string; kind: string; name: string; uid: string }[];
  };
  binaryData?: Record<string, string>;
}

export interface HistoryOwner {
  namespace: string;
  name: string;
  uid: string;
}

/** A valid ConfigMap name for any Application name (a long one is shortened and made unique by a hash). */
export function historyConfigMapName(application: string): string {
  const name = `fjord-history-${application}`;
  if (name.length <= 253) return name;
  return `${name.slice(0, 236)}-${createHash("sha256").update(application).digest("hex").slice(0, 16)}`;
}

const configMapPath = (namespace: string, name?: string) => `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps${name ? `/${encodeURIComponent(name)}` : ""}`;

/** The entries a stored ConfigMap holds, newest first; an unreadable one is an error naming it. */
export function entriesOf(configMap: HistoryConfigMap): HistoryEntry[] {
  const encoded = configMap.binaryData?.[DATA_KEY];
  if (!encoded) return [];
  try {
    return parseEntries(decodeCompressedJson(encoded, "the stored history"));
  } catch (error) {
    throw new Error(`ConfigMap ${configMap.metadata.namespace}/${configMap.metadata.name} does not hold a readable history: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** The Application a history ConfigMap belongs to. */
export function applicationOf(configMap: HistoryConfigMap): string {
  return configMap.metadata.annotations?.[APPLICATION_ANNOTATION] ?? configMap.metadata.ownerReferences?.find((owner) => owner.kind === APPLICATION_KIND)?.name ?? configMap.metadata.name;
}

export async function loadHistory(client: KubeClient, namespace: string, application: string): Promise<HistoryEntry[]> {
  try {
    return entriesOf(await client.request<HistoryConfigMap>("GET", configMapPath(namespace, historyConfigMapName(application))));
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

/** Every history ConfigMap of a namespace, or of all (namespace undefined). */
export async function listHistories(client: KubeClient, namespace: string | undefined): Promise<HistoryConfigMap[]> {
  const path = namespace ? configMapPath(namespace) : "/api/v1/configmaps";
  const list = await client.request<{ items?: HistoryConfigMap[] }>("GET", path, { query: { labelSelector: HISTORY_LABEL } });
  return list.items ?? [];
}

/** Whether an entry with this action and start time is stored already (a request seen before a controller restart). */
const sameEntry = (a: HistoryEntry, b: HistoryEntry) => a.action === b.action && a.startedAt === b.startedAt && a.revision === b.revision;

/**
 * Adds entries (newest first) to an Application's history, then applies the bounds. One GET and
 * one write; the write carries the resourceVersion read, and a conflict (someone else wrote
 * meanwhile) is retried on the new content. Entries already stored are not added twice.
 * Returns how many entries the history holds, its stored size, and the entries it added.
 */
export async function appendHistory(
  client: KubeClient,
  owner: HistoryOwner,
  added: readonly HistoryEntry[],
  bounds: HistoryBounds,
  now: Date,
  /**
   * What the caller knows the ConfigMap holds, so the first attempt spends no GET: the copy it
   * wrote last, or null when there is none yet (a new Application). A stale guess costs only a
   * conflict, after which the ConfigMap is read.
   */
  known?: HistoryConfigMap | null,
): Promise<{ entries: number; bytes: number; added: number; addedEntries: HistoryEntry[]; written?: HistoryConfigMap }> {
  const name = historyConfigMapName(owner.name);
  for (let attempt = 0; ; attempt++) {
    let existing: HistoryConfigMap | undefined;
    if (attempt === 0 && known !== undefined) existing = known ?? undefined;
    else {
      try {
        existing = await client.request<HistoryConfigMap>("GET", configMapPath(owner.namespace, name));
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    let stored: HistoryEntry[] = [];
    try {
      stored = existing ? entriesOf(existing) : [];
    } catch {
      // An edited, unreadable history is replaced rather than blocking every later entry; the new one says so by starting afresh.
      stored = [];
    }
    const fresh = added.filter((entry) => !stored.some((old) => sameEntry(old, entry)));
    if (fresh.length === 0) return { entries: stored.length, bytes: existing?.binaryData?.[DATA_KEY]?.length ?? 0, added: 0, addedEntries: [] };
    const entries = boundHistory([...fresh, ...stored].sort((a, b) => Date.parse(b.finishedAt) - Date.parse(a.finishedAt)), bounds, now);
    const data = encodeCompressedJson({ entries });
    const body: HistoryConfigMap & { apiVersion: string; kind: string; metadata: Record<string, unknown> } = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name,
        namespace: owner.namespace,
        ...(existing?.metadata.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}),
        labels: { "app.kubernetes.io/managed-by": "fjord", [HISTORY_LABEL]: "true" },
        annotations: { [APPLICATION_ANNOTATION]: owner.name, "fjord.dev/entries": String(entries.length) },
        ownerReferences: [{ apiVersion: API_VERSION, kind: APPLICATION_KIND, name: owner.name, uid: owner.uid }],
      },
      binaryData: { [DATA_KEY]: data },
    };
    try {
      const written = existing
        ? await client.request<HistoryConfigMap>("PUT", configMapPath(owner.namespace, name), { body })
        : await client.request<HistoryConfigMap>("POST", configMapPath(owner.namespace), { body });
      return { entries: entries.length, bytes: data.length, added: fresh.length, addedEntries: fresh, written };
    } catch (error) {
      // 409: written meanwhile (or created meanwhile); 404: a guessed copy that is gone. Read again and merge.
      const guessed = attempt === 0 && known !== undefined;
      if (!(error instanceof KubeApiError && (error.conflict || (guessed && isNotFound(error)))) || attempt >= 4) throw error;
    }
  }
}
