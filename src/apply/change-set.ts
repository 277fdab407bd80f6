import type { ObjectRef, SourceLocation } from "../model/object.ts";

export type Action = "created" | "configured" | "unchanged" | "deleted" | "skipped";

/** What one verb of the engine did (or, planning, would do) to one object. */
export interface ChangeSetEntry {
  ref: ObjectRef;
  version: string;
  action: Action;
  source?: SourceLocation;
  /** Why, when it is not obvious: "recreated: immutable field changed", "took fields from kubectl-edit". */
  note?: string;
}
