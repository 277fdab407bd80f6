export type { SelectionContext, SelectionCounts, SortOrder, TagOrdering, TagPolicySpec, TagSelection } from "./types.ts";
export { TagPolicyError } from "./types.ts";
export { compileTagPolicy, selectTag, type CompiledTagPolicy } from "./select.ts";
export { DEFAULT_EXCLUSION_LIST } from "./exclusion.ts";
export { parseSemverTag } from "./ordering.ts";
export { fluxV1PolicyFor, parseFluxV1TagFilter, readFluxV1Annotations, type FluxV1Automation } from "./flux-v1.ts";
export { compileGlob, globToPattern } from "./glob.ts";
