import { compileGoRegExp, GoRegExpError } from "./go-regexp.ts";
import { TagPolicyError } from "./types.ts";

/** Flux's ImageRepository default: cosign signatures are pushed as `sha256-<digest>.sig` tags. */
export const DEFAULT_EXCLUSION_LIST: readonly string[] = ["^.*\\.sig$"];

export function compileExclusionList(list: readonly string[] | undefined): RegExp[] {
  return (list ?? DEFAULT_EXCLUSION_LIST).map((pattern, index) => {
    try {
      return compileGoRegExp(pattern);
    } catch (error) {
      if (error instanceof GoRegExpError) {
        throw new TagPolicyError(`exclusionList[${index}]`, `invalid regular expression ${JSON.stringify(pattern)}: ${error.message}`);
      }
      throw error;
    }
  });
}
