import type { ImageRepository } from "../api/image-types.ts";
import { compileTagPolicy, selectTag, TagPolicyError, type CompiledTagPolicy } from "../image/policy/index.ts";
import { createRegistryClient, imageName, ImageReferenceError, parseImageReference as parseRegistryReference, RegistryError, type RegistryClientOptions } from "../image/registry/index.ts";
import { parseImageReference, type FluxV1Container } from "../image/update/index.ts";
import type { KubeClient } from "../kube/client.ts";
import { pullSecretCredentials, registryOptionsFor, RegistryAccessError } from "./image-registry-access.ts";
import { canonicalImageName, tagStoreKey } from "./image-repository-reconciler.ts";
import { readyOf } from "./image-status.ts";
import type { ImageCreatedCache, ImageTagStore } from "./image-tag-store.ts";

/** Registry reads for creation times per image and run: Flux v1's `newest` costs a manifest and a config blob per tag. */
export const MAX_CREATED_LOOKUPS = 64;
const DIRECT_SCAN_TIMEOUT_MS = 30_000;

export interface FluxV1ResolverOptions {
  client: KubeClient;
  /** The automation's namespace: where ImageRepositories are looked up and pull Secrets read. */
  namespace: string;
  repositories: readonly ImageRepository[];
  tags: ImageTagStore;
  created: ImageCreatedCache;
}

interface Source {
  tags: readonly string[];
  registry: RegistryClientOptions;
}

/** Tags the filters (not the ordering) of a policy admit. */
export function admittedTags(compiled: CompiledTagPolicy, tags: readonly string[]): string[] {
  return tags.filter((tag) => !compiled.exclusions.some((exclusion) => exclusion.test(tag)) && (!compiled.glob || compiled.glob.test(tag)) && (!compiled.pattern || compiled.pattern.test(tag)));
}

/**
 * Resolves the image a Flux v1 automated container should run: the tags come from the
 * namespace's ImageRepository for that image when there is a ready one, else from a scan of the
 * registry made here, with the workload's imagePullSecrets (from the automation's namespace).
 * The `newest` ordering reads image creation times, a bounded number per run, memoized across
 * runs. One resolver serves one automation run: scans are shared by the containers of that run
 * and by the retries of a push race.
 */
export class FluxV1Resolver {
  private readonly sources = new Map<string, Promise<Source>>();

  constructor(private readonly options: FluxV1ResolverOptions) {}

  /** The new `image` value for the container, or an error message naming the workload. */
  async resolve(container: FluxV1Container): Promise<{ image: string } | { error: string }> {
    const label = `${container.workload.kind}/${container.workload.name} container "${container.container}"`;
    try {
      const current = parseImageReference(container.image);
      const canonical = imageName(parseRegistryReference(current.name));
      const compiled = compileTagPolicy({ ...container.policy, exclusionList: [] });
      const source = await this.source(canonical, container.imagePullSecrets);
      const context = compiled.spec.policy.newest ? { createdAt: await this.creationTimes(canonical, source, admittedTags(compiled, source.tags)) } : {};
      const selection = selectTag(source.tags, compiled, context);
      if (!selection.ok) return { error: `${label} (${container.filter}): ${selection.reason}` };
      return { image: `${current.name}:${selection.tag}` };
    } catch (error) {
      if (error instanceof RegistryError || error instanceof RegistryAccessError || error instanceof ImageReferenceError || error instanceof TagPolicyError) {
        return { error: `${label} (${container.filter}): ${error.message}` };
      }
      throw error;
    }
  }

  private source(canonical: string, pullSecrets: readonly string[]): Promise<Source> {
    const repository = this.options.repositories.find((candidate) => readyOf(candidate.status?.conditions)?.status === "True" && repositoryImage(candidate) === canonical);
    const key = repository ? `repository:${repository.metadata.name}` : `direct:${canonical}:${pullSecrets.join(",")}`;
    let source = this.sources.get(key);
    if (!source) {
      source = repository ? this.fromRepository(repository) : this.scan(canonical, pullSecrets);
      this.sources.set(key, source);
    }
    return source;
  }

  private async fromRepository(repository: ImageRepository): Promise<Source> {
    const { namespace, name } = repository.metadata;
    const tags = this.options.tags.get(tagStoreKey(namespace, name));
    if (tags === undefined) throw new RegistryAccessError(`ImageRepository ${namespace}/${name} has not been scanned since the controller started`);
    return { tags, registry: await registryOptionsFor(this.options.client, namespace, repository.spec) };
  }

  private async scan(canonical: string, pullSecrets: readonly string[]): Promise<Source> {
    const credentials = await pullSecretCredentials(this.options.client, this.options.namespace, pullSecrets);
    // Plain HTTP is only ever used for loopback registries (the client refuses it for other hosts).
    const registry: RegistryClientOptions = { credentials, insecure: true, timeoutMs: DIRECT_SCAN_TIMEOUT_MS };
    const client = createRegistryClient(registry);
    try {
      const listed = await client.listTags(canonical);
      // Flux's default exclusion list (signature tags) applies as it does to an ImageRepository.
      const { exclusions } = compileTagPolicy({ policy: { alphabetical: {} } });
      return { tags: listed.filter((tag) => !exclusions.some((exclusion) => exclusion.test(tag))), registry };
    } finally {
      client.close();
    }
  }

  private async creationTimes(canonical: string, source: Source, candidates: readonly string[]): Promise<Map<string, Date>> {
    const { created } = this.options;
    const times = new Map<string, Date>();
    const unknown: string[] = [];
    for (const tag of candidates) {
      const known = created.get(canonical, tag);
      if (known === undefined) unknown.push(tag);
      else if (known !== null) times.set(tag, known);
    }
    // Highest sorting first: for most tag schemes those are the recent builds.
    const lookups = unknown.sort().reverse().slice(0, MAX_CREATED_LOOKUPS);
    if (lookups.length > 0) {
      const client = createRegistryClient(source.registry);
      try {
        for (const tag of lookups) {
          const time = await client.getImageCreated(canonical, tag);
          created.set(canonical, tag, time);
          if (time) times.set(tag, time);
        }
      } finally {
        client.close();
      }
    }
    return times;
  }
}

function repositoryImage(repository: ImageRepository): string | undefined {
  if (repository.status?.canonicalImageName) return repository.status.canonicalImageName;
  try {
    return canonicalImageName(repository.spec.image);
  } catch {
    return undefined;
  }
}
