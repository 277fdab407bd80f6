import type { TagPolicySpec } from "./types.ts";
import { TagPolicyError } from "./types.ts";

// Flux v1 chose among the tags a filter admits by image creation time, except for semver filters,
// which order by version. Both map onto the same policy model as ImagePolicy.

/**
 * Parses a Flux v1 tag filter: `glob:master-*`, `regex:^master-[a-f0-9]+$` (also `regexp:`),
 * `semver:~1.2`, or a bare glob as the `flux.weave.works/tag-glob` annotation holds it.
 */
export function parseFluxV1TagFilter(filter: string): TagPolicySpec {
  const value = filter.trim();
  const prefix = /^(glob|regexp?|semver):/.exec(value);
  const body = prefix ? value.slice(prefix[0].length) : value;
  switch (prefix?.[1]) {
    case "semver":
      if (body.trim() === "") throw new TagPolicyError("semver", `Flux v1 filter ${JSON.stringify(filter)} has no range; write e.g. semver:~1.2`);
      return { policy: { semver: { range: body } } };
    case "regex":
    case "regexp":
      if (body === "") throw new TagPolicyError("regex", `Flux v1 filter ${JSON.stringify(filter)} has no expression; write e.g. regex:^master-`);
      return { policy: { newest: {} }, filterTags: { pattern: body } };
    default:
      // An empty glob meant "any tag" in Flux v1.
      return { policy: { newest: {} }, glob: body === "" ? "*" : body };
  }
}

const PREFIXES = ["fluxcd.io/", "flux.weave.works/"] as const;

export interface FluxV1Automation {
  /** `fluxcd.io/automated: "true"` (or the flux.weave.works form). */
  automated: boolean;
  /** `fluxcd.io/locked: "true"`: Flux v1 left such workloads alone. */
  locked: boolean;
  /** Filters per container name, from `fluxcd.io/tag.<container>`. */
  containers: Record<string, TagPolicySpec>;
  /** For containers without their own filter: `flux.weave.works/tag-glob`, else any tag (newest image). */
  fallback: TagPolicySpec;
}

/** Reads a workload's Flux v1 annotations; `fluxcd.io/` wins over `flux.weave.works/` when both are set. */
export function readFluxV1Annotations(annotations: Readonly<Record<string, string>> | undefined): FluxV1Automation {
  const entries = Object.entries(annotations ?? {});
  const lookup = (name: string) => PREFIXES.map((prefix) => annotations?.[prefix + name]).find((value) => value !== undefined);
  const containers: Record<string, TagPolicySpec> = {};
  // The older prefix first so the newer one overwrites it.
  for (const prefix of [...PREFIXES].reverse()) {
    for (const [key, value] of entries) {
      if (key.startsWith(`${prefix}tag.`)) containers[key.slice(prefix.length + 4)] = parseFluxV1TagFilter(value);
    }
  }
  const tagGlob = lookup("tag-glob");
  return {
    automated: lookup("automated")?.trim().toLowerCase() === "true",
    locked: lookup("locked")?.trim().toLowerCase() === "true",
    containers,
    fallback: parseFluxV1TagFilter(tagGlob === undefined ? "glob:*" : tagGlob),
  };
}

export function fluxV1PolicyFor(automation: FluxV1Automation, container: string): TagPolicySpec {
  return automation.containers[container] ?? automation.fallback;
}
