import type { ResourceMapping } from "./resource-path.ts";
export { resourcePath, type ResourceMapping } from "./resource-path.ts";
import type { KubeClient } from "./client.ts";


/** How to reach one kind of object: its plural resource name and whether it lives in namespaces. */

interface AggregatedDiscovery {
  items?: Array<{
    metadata?: { name?: string };
    versions?: Array<{
      version: string;
      resources?: Array<{
        resource: string;
        responseKind?: { group?: string; version?: string; kind?: string };
        scope: "Namespaced" | "Cluster";
        verbs?: string[];
      }>;
    }>;
  }>;
}

// Aggregated discovery (GA in Kubernetes 1.30): all groups and resources in two requests.
const AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;q=0.9";

const key = (group: string, version: string, kind: string) => `${group}/${version}/${kind}`;

/**
 * Maps kinds to resources through the API server's discovery documents (never by guessing
 * plurals), cached, and refreshed when asked about a kind it does not know (a CRD that was
 * just installed), at most once per `minRefreshMs`.
 */
export class Discovery {
  private mappings = new Map<string, ResourceMapping>();
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly minRefreshMs = 1000,
  ) {}

  async refresh(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<void> {
    const [core, groups] = await Promise.all([
      this.client.request<AggregatedDiscovery>("GET", "/api", { accept: AGGREGATED }),
      this.client.request<AggregatedDiscovery>("GET", "/apis", { accept: AGGREGATED }),
    ]);
    const next = new Map<string, ResourceMapping>();
    for (const document of [core, groups]) {
      for (const group of document.items ?? []) {
        const groupName = group.metadata?.name ?? "";
        for (const version of group.versions ?? []) {
          for (const resource of version.resources ?? []) {
            const kind = resource.responseKind?.kind;
            if (!kind || resource.resource.includes("/")) continue;
            next.set(key(groupName, version.version, kind), {
              group: groupName,
              version: version.version,
              kind,
              resource: resource.resource,
              namespaced: resource.scope === "Namespaced",
              verbs: resource.verbs ?? [],
            });
          }
        }
      }
    }
    if (next.size === 0) throw new Error("the API server's discovery returned no resources (is it older than Kubernetes 1.30?)");
    this.mappings = next;
    this.loadedAt = Date.now();
  }

  /** The mapping for group/version/kind, or undefined when the server has no such kind. */
  async find(group: string, version: string, kind: string): Promise<ResourceMapping | undefined> {
    if (this.loadedAt === 0) await this.refresh();
    const found = this.mappings.get(key(group, version, kind));
    if (found || Date.now() - this.loadedAt < this.minRefreshMs) return found;
    await this.refresh();
    return this.mappings.get(key(group, version, kind));
  }

  /**
   * Waits until the server serves every given kind. A CRD reports Established slightly
   * before aggregated discovery lists its kind, so right after installing CRDs this is
   * re-read a few times (once per interval for all kinds, not per object).
   */
  async waitForKinds(kinds: ReadonlyArray<{ group: string; version: string; kind: string }>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const missing = () => kinds.filter(({ group, version, kind }) => !this.mappings.has(key(group, version, kind)));
    await this.refresh();
    while (missing().length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      await this.refresh();
    }
  }

  /** Every version the server serves a kind under (for messages like "did you mean v1?"). */
  versionsOf(group: string, kind: string): string[] {
    return [...this.mappings.values()].filter((m) => m.group === group && m.kind === kind).map((m) => m.version);
  }

  /** All mappings (used to find the preferred version of a kind when only group/kind is known). */
  all(): ResourceMapping[] {
    return [...this.mappings.values()];
  }
}


