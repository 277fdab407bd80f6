export type SortOrder = "asc" | "desc";

/**
 * Exactly one ordering decides which tag is the latest. The shapes follow Flux's ImagePolicy
 * (`policy.semver.range`, `policy.alphabetical.order`, `policy.numerical.order`) so a CRD spec can
 * be passed through unchanged.
 */
export interface TagOrdering {
  semver?: { range: string };
  /** `asc` (default) selects the last tag in ascending order, `desc` the first. */
  alphabetical?: { order?: SortOrder };
  numerical?: { order?: SortOrder };
  /**
   * The image built most recently (Flux v1's ordering for glob and regex filters). Tags do not
   * say when they were built, so selection needs creation times from the registry.
   */
  newest?: Record<string, never>;
}

export interface TagPolicySpec {
  policy: TagOrdering;
  /**
   * `pattern` is a (Go RE2-style) regular expression a tag must match; `extract` is a template
   * (`$name`, `${1}`) whose expansion is what the ordering compares, like Flux's `filterTags`.
   */
  filterTags?: { pattern?: string; extract?: string };
  /** Shell-style tag glob such as `master-*` (`*` any run of characters, `?` one). */
  glob?: string;
  /**
   * The ImageRepository's exclusion list: regular expressions of tags never considered.
   * Undefined means Flux's default (signature tags); an empty list excludes nothing.
   */
  exclusionList?: readonly string[];
}

export interface SelectionContext {
  /** Image creation time per tag, required by the `newest` ordering. */
  createdAt?: ReadonlyMap<string, Date>;
}

export interface SelectionCounts {
  /** Tags the registry listed. */
  total: number;
  /** Dropped by the exclusion list. */
  excluded: number;
  /** Passed the exclusion list, the pattern and the glob. */
  matched: number;
  /** Matched and could be ordered (a version in range, a number, a known creation time...). */
  candidates: number;
}

export type TagSelection =
  | {
      ok: true;
      /** The tag to deploy, as listed by the registry. */
      tag: string;
      /** What the ordering compared: the extracted value when `filterTags.extract` is set, else the tag. */
      value: string;
      counts: SelectionCounts;
    }
  | { ok: false; reason: string; counts: SelectionCounts };

/** The policy itself is unusable (bad regex, bad range, no ordering): a configuration error, not "no match". */
export class TagPolicyError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "TagPolicyError";
  }
}
