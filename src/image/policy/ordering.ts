import semver from "semver";
import type { SelectionContext, SortOrder, TagOrdering } from "./types.ts";
import { TagPolicyError } from "./types.ts";

/** A tag that passed the filters, with the value the ordering compares. */
export interface Candidate {
  tag: string;
  value: string;
}

export type Pick = { chosen: Candidate; orderable: number } | { reason: string; orderable: number };

export interface Ordering {
  /** For messages, e.g. `semver range ">=1.0.0 <2.0.0"`. */
  readonly description: string;
  pick(candidates: readonly Candidate[], context: SelectionContext): Pick;
}

export function compileOrdering(policy: TagOrdering | undefined): Ordering {
  const chosen = (["semver", "alphabetical", "numerical", "newest"] as const).filter((key) => policy?.[key] !== undefined);
  if (chosen.length !== 1) {
    throw new TagPolicyError(
      "policy",
      chosen.length === 0
        ? "no ordering given; set one of semver: {range}, alphabetical: {order}, numerical: {order}"
        : `only one ordering may be set, got ${chosen.join(" and ")}`,
    );
  }
  switch (chosen[0]) {
    case "semver":
      return semverOrdering(policy?.semver?.range);
    case "alphabetical":
      return alphabeticalOrdering(orderOf(policy?.alphabetical?.order, "policy.alphabetical.order"));
    case "numerical":
      return numericalOrdering(orderOf(policy?.numerical?.order, "policy.numerical.order"));
    default:
      return newestOrdering();
  }
}

function orderOf(order: unknown, field: string): SortOrder {
  if (order === undefined || order === "asc" || order === "desc") return order ?? "asc";
  throw new TagPolicyError(field, `must be asc or desc, got ${JSON.stringify(order)}`);
}

/** Keeps the greatest candidate by `compare`; equal values fall back to the tag so the result never depends on listing order. */
function greatest<T extends Candidate>(items: readonly T[], compare: (a: T, b: T) => number): T | undefined {
  let best: T | undefined;
  for (const item of items) {
    if (best === undefined) {
      best = item;
      continue;
    }
    const order = compare(item, best) || byBytes(item.tag, best.tag);
    if (order > 0) best = item;
  }
  return best;
}

/** Go's sort.Strings order (Flux's alphabetical policy), not the locale's. */
function byBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const STRICT_SEMVER = /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

export function parseSemverTag(value: string): semver.SemVer | null {
  return STRICT_SEMVER.test(value) ? semver.parse(value) : null;
}

function semverOrdering(rawRange: string | undefined): Ordering {
  const field = "policy.semver.range";
  // Flux's semver library (Masterminds) also accepts commas between ANDed comparators.
  const text = (rawRange ?? "").replace(/,/g, " ").trim();
  if (text === "") throw new TagPolicyError(field, "is empty; write a range such as >=1.0.0 <2.0.0 or ~1.2");
  let range: semver.Range;
  try {
    range = new semver.Range(text);
  } catch {
    throw new TagPolicyError(field, `${JSON.stringify(rawRange)} is not a semver range; write one such as >=1.0.0 <2.0.0 or ^1.2`);
  }
  // As in Flux, a range that names a prerelease (`>=1.0.0-0`) admits prereleases of any version
  // in it; otherwise prereleases are never selected.
  const includePrerelease = range.set.some((comparators) =>
    comparators.some((comparator) => comparator.semver instanceof semver.SemVer && comparator.semver.prerelease.length > 0),
  );
  const effective = includePrerelease ? new semver.Range(text, { includePrerelease }) : range;
  const description = `semver range ${JSON.stringify(rawRange)}`;
  return {
    description,
    pick(candidates) {
      const versions = candidates.flatMap((candidate) => {
        const version = parseSemverTag(candidate.value);
        return version ? [{ ...candidate, version }] : [];
      });
      const inRange = versions.filter((item) => effective.test(item.version));
      const best = greatest(inRange, (a, b) => semver.compareBuild(a.version, b.version));
      if (best) return { chosen: { tag: best.tag, value: best.value }, orderable: inRange.length };
      if (versions.length === 0) {
        return {
          orderable: 0,
          reason: `none of the ${candidates.length} tags is a semver version (like 1.2.3 or v1.2.3)${examples(candidates)}`,
        };
      }
      const highest = greatest(versions, (a, b) => semver.compareBuild(a.version, b.version));
      const prereleaseHint =
        !includePrerelease && versions.some((item) => item.version.prerelease.length > 0 && semver.satisfies(item.version, range, { includePrerelease: true }))
          ? "; prereleases are only considered when the range names one, e.g. >=1.0.0-0"
          : "";
      return {
        orderable: 0,
        reason: `none of the ${versions.length} semver tags satisfies ${description} (highest is ${highest?.value ?? "?"})${prereleaseHint}`,
      };
    },
  };
}

function alphabeticalOrdering(order: SortOrder): Ordering {
  return {
    description: `alphabetical order ${order}`,
    pick(candidates) {
      const best = greatest(candidates, (a, b) => (order === "asc" ? 1 : -1) * byBytes(a.value, b.value));
      return best ? { chosen: best, orderable: candidates.length } : { reason: "no tags to order", orderable: 0 };
    },
  };
}

const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

/** Integers compare exactly however long (timestamps with nanoseconds exceed a double's precision); others as doubles. */
function compareNumbers(a: string, b: string): number {
  if (INTEGER.test(a) && INTEGER.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return Math.sign(Number(a) - Number(b));
}

function numericalOrdering(order: SortOrder): Ordering {
  return {
    description: `numerical order ${order}`,
    pick(candidates) {
      // Flux fails the whole policy on one non-numeric tag; skipping them keeps a noise tag such
      // as `latest` from blocking updates, and the reason below still names them when nothing is left.
      const numbers = candidates.filter((candidate) => DECIMAL.test(candidate.value));
      const best = greatest(numbers, (a, b) => (order === "asc" ? 1 : -1) * compareNumbers(a.value, b.value));
      if (best) return { chosen: best, orderable: numbers.length };
      return {
        orderable: 0,
        reason: `none of the ${candidates.length} tags is a number${examples(candidates, (c) => c.value)}; use filterTags.extract to pick the numeric part, e.g. pattern '^main-[a-f0-9]+-(?P<ts>[0-9]+)' with extract '$ts'`,
      };
    },
  };
}

function newestOrdering(): Ordering {
  return {
    description: "newest image",
    pick(candidates, context) {
      const createdAt = context.createdAt;
      if (!createdAt) return { orderable: 0, reason: "the newest-image ordering needs the images' creation times, and none were given" };
      const dated = candidates.flatMap((candidate) => {
        const time = createdAt.get(candidate.tag)?.getTime();
        return time === undefined || Number.isNaN(time) ? [] : [{ ...candidate, time }];
      });
      const best = greatest(dated, (a, b) => Math.sign(a.time - b.time));
      if (best) return { chosen: { tag: best.tag, value: best.value }, orderable: dated.length };
      return { orderable: 0, reason: `no creation time is known for any of the ${candidates.length} matching tags${examples(candidates)}` };
    },
  };
}

export function examples(candidates: readonly Candidate[], show: (candidate: Candidate) => string = (c) => c.tag): string {
  if (candidates.length === 0) return "";
  const shown = candidates.slice(0, 3).map(show).join(", ");
  return ` (e.g. ${shown}${candidates.length > 3 ? ", ..." : ""})`;
}
