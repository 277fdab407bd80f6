import { describePattern, type UserPattern } from "../../util/user-pattern.ts";
import { compileExclusionList } from "./exclusion.ts";
import { expandTemplate, templateReferences } from "./expand-template.ts";
import { compilePolicyGlob, compilePolicyPattern } from "./policy-pattern.ts";
import { compileOrdering, examples, type Candidate, type Ordering } from "./ordering.ts";
import type { SelectionContext, SelectionCounts, TagPolicySpec, TagSelection } from "./types.ts";
import { TagPolicyError } from "./types.ts";

export interface CompiledTagPolicy {
  readonly kind: "compiled-tag-policy";
  readonly exclusions: readonly UserPattern[];
  readonly pattern?: UserPattern;
  readonly extract?: string;
  readonly glob?: UserPattern;
  readonly ordering: Ordering;
  readonly spec: TagPolicySpec;
}

/** Checks and compiles a policy once; throws TagPolicyError naming the field at fault. */
export function compileTagPolicy(spec: TagPolicySpec): CompiledTagPolicy {
  const ordering = compileOrdering(spec.policy);
  const exclusions = compileExclusionList(spec.exclusionList);
  const rawPattern = spec.filterTags?.pattern;
  const pattern = rawPattern !== undefined && rawPattern !== "" ? compilePolicyPattern("filterTags.pattern", rawPattern) : undefined;
  const extract = spec.filterTags?.extract || undefined;
  if (extract !== undefined && pattern === undefined) {
    throw new TagPolicyError("filterTags.extract", "needs filterTags.pattern, whose groups it refers to");
  }
  if (extract !== undefined && pattern !== undefined) checkGroups(extract, pattern);
  const glob = spec.glob !== undefined && spec.glob !== "" ? compilePolicyGlob("glob", spec.glob) : undefined;
  return { kind: "compiled-tag-policy", exclusions, pattern, extract, glob, ordering, spec };
}

/** A reference to a group the pattern lacks would silently extract nothing from every tag. */
function checkGroups(extract: string, pattern: UserPattern): void {
  for (const name of templateReferences(extract)) {
    const known = /^\d+$/.test(name) ? Number(name) <= pattern.groupCount : pattern.groupNames.has(name);
    if (!known) {
      throw new TagPolicyError(
        "filterTags.extract",
        `${describePattern(extract)} refers to group "${name}", which pattern ${describePattern(pattern.source)} does not define` +
          (/^\d+$/.test(name) ? "" : "; name it with (?P<" + name + ">...)"),
      );
    }
  }
}

/**
 * Chooses the tag to deploy from a registry's tag list: drops excluded tags, keeps those matching
 * the glob and pattern, orders what `extract` makes of them, and returns the latest. When nothing
 * qualifies, the result says at which step the tags fell out, so a status can tell the user.
 */
export function selectTag(
  tags: readonly string[],
  policy: TagPolicySpec | CompiledTagPolicy,
  context: SelectionContext = {},
): TagSelection {
  const compiled = "kind" in policy && policy.kind === "compiled-tag-policy" ? policy : compileTagPolicy(policy as TagPolicySpec);
  const counts: SelectionCounts = { total: tags.length, excluded: 0, matched: 0, candidates: 0 };
  const fail = (reason: string): TagSelection => ({ ok: false, reason, counts });
  if (tags.length === 0) return fail("the repository has no tags");

  const kept: string[] = [];
  for (const tag of tags) {
    if (compiled.exclusions.some((exclusion) => exclusion.test(tag))) counts.excluded++;
    else kept.push(tag);
  }
  if (kept.length === 0) {
    return fail(`all ${tags.length} tags are excluded by the exclusion list (${compiled.exclusions.map((exclusion) => exclusion.source).join(", ")})`);
  }

  // Keyed by the extracted value: tags that extract to the same value count once, the later one
  // winning as in Flux.
  const byValue = new Map<string, Candidate>();
  for (const tag of kept) {
    if (compiled.glob && !compiled.glob.test(tag)) continue;
    let value = tag;
    if (compiled.pattern) {
      // The boolean test runs on RE2's fast path; groups are only worked out for tags that match.
      if (!compiled.pattern.test(tag)) continue;
      if (compiled.extract !== undefined) {
        const match = compiled.pattern.exec(tag);
        if (!match) continue;
        value = expandTemplate(compiled.extract, match);
      }
    }
    counts.matched++;
    if (value !== "") byValue.set(value, { tag, value });
  }
  if (counts.matched === 0) {
    return fail(`none of the ${kept.length} tags matches ${filterDescription(compiled)}${examples(kept.map((tag) => ({ tag, value: tag })))}`);
  }
  const candidates = [...byValue.values()];
  if (candidates.length === 0) {
    return fail(
      `${counts.matched} tags match the pattern, but extract ${describePattern(compiled.extract ?? "")} yields an empty value for each; check that the group it names always takes part in the match`,
    );
  }

  const picked = compiled.ordering.pick(candidates, context);
  counts.candidates = picked.orderable;
  if ("reason" in picked) {
    const filtered = compiled.glob || compiled.pattern ? ` matching ${filterDescription(compiled)}` : "";
    return fail(`no tag selected by ${compiled.ordering.description}${filtered}: ${picked.reason}`);
  }
  return { ok: true, tag: picked.chosen.tag, value: picked.chosen.value, counts };
}

function filterDescription(compiled: CompiledTagPolicy): string {
  const parts: string[] = [];
  if (compiled.glob) parts.push(`glob ${describePattern(compiled.spec.glob ?? "")}`);
  if (compiled.pattern) parts.push(`pattern ${describePattern(compiled.pattern.source)}`);
  return parts.join(" and ");
}
