import { describeRef, describeSource, type ObjectRef, type SourceLocation } from "../model/object.ts";

/**
 * Why a sync stopped; each maps to a CLI exit code. "empty": the revision rendered no objects
 * while the inventory holds some, and allowEmpty was not given (nothing was changed).
 */
export type SyncFailure = "validation" | "apply" | "health" | "source" | "render" | "empty";

export const EXIT_CODES: Record<SyncFailure | "ok" | "error", number> = {
  ok: 0,
  error: 1,
  validation: 2,
  apply: 3,
  health: 4,
  source: 5,
  render: 6,
  // Like a validation failure, the commit is refused and nothing was changed.
  empty: 2,
};

export interface ObjectProblem {
  ref: ObjectRef;
  source?: SourceLocation;
  message: string;
}

export function describeProblem(problem: ObjectProblem): string {
  const where = problem.source ? ` (${describeSource(problem.source)})` : "";
  return `${describeRef(problem.ref)}${where}: ${problem.message}`;
}

/** A sync failure that names every object involved, so one run shows every problem. */
export class SyncError extends Error {
  override readonly name = "SyncError";

  constructor(
    readonly failure: SyncFailure,
    summary: string,
    readonly problems: ObjectProblem[] = [],
  ) {
    super([summary, ...problems.map((problem) => `  - ${describeProblem(problem)}`)].join("\n"));
  }
}
