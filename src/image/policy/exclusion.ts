import type { UserPattern } from "../../util/user-pattern.ts";
import { compilePolicyPattern } from "./policy-pattern.ts";

/** Flux's ImageRepository default: cosign signatures are pushed as `sha256-<digest>.sig` tags. */
export const DEFAULT_EXCLUSION_LIST: readonly string[] = ["^.*\\.sig$"];

export function compileExclusionList(list: readonly string[] | undefined): UserPattern[] {
  return (list ?? DEFAULT_EXCLUSION_LIST).map((pattern, index) => compilePolicyPattern(`exclusionList[${index}]`, pattern));
}
