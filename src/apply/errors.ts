import { describeRef, describeSource, type ObjectRef, type SourceLocation } from "../model/object.ts";

/**
 * Why a sync stopped; each maps to a CLI exit code and an Application reason. "empty": the
 * revision rendered no objects while the inventory holds some, and allowEmpty was not given
 * (nothing was changed); "decryption": a SOPS file or its key; "prune": objects that left Git
 * could not be deleted.
 */
export type SyncFailure = "validation" | "apply" | "prune" | "health" | "source" | "render" | "decryption" | "empty";

export const EXIT_CODES: Record<SyncFailure | "ok" | "error", number> = {
  ok: 0,
  error: 1,
  validation: 2,
  apply: 3,
  prune: 3,
  health: 4,
  source: 5,
  render: 6,
  decryption: 6,
  // Like a validation failure, the commit is refused and nothing was changed.
  empty: 2,
};

export interface ObjectProblem {
  ref: ObjectRef;
  source?: SourceLocation;
  message: string;
  /**
   * The cluster, not the object, may be at fault: a kind not served yet, a Namespace missing,
   * access refused, an admission webhook down. Such a failure may pass on a retry without a new
   * commit, so it must not stall the Application.
   */
  clusterDependent?: boolean;
}

/** Answers the API server gives to an object that is itself wrong (a retry cannot fix it). */
const INVALID_OBJECT_STATUS = new Set([400, 422]);

/** Whether the API server's refusal may pass later without a new commit (see ObjectProblem.clusterDependent). */
export function isClusterDependentRefusal(statusCode: number): boolean {
  return !INVALID_OBJECT_STATUS.has(statusCode);
}

export function describeProblem(problem: ObjectProblem): string {
  const where = problem.source ? ` (${describeSource(problem.source)})` : "";
  return `${describeRef(problem.ref)}${where}: ${problem.message}`;
}

/**
 * A sync failure that names every object involved, so one run shows every problem. `cause`
 * keeps the error it wraps (a git or render error), so a caller can still tell what it was.
 */
export class SyncError extends Error {
  override readonly name = "SyncError";

  constructor(
    readonly failure: SyncFailure,
    summary: string,
    readonly problems: ObjectProblem[] = [],
    options?: { cause?: unknown },
  ) {
    super([summary, ...problems.map((problem) => `  - ${describeProblem(problem)}`)].join("\n"), options);
  }

  /** `error` as a SyncError of `failure` with the same message, keeping it as the cause; a SyncError already classified stays as it is. */
  static wrap(failure: SyncFailure, error: unknown): SyncError {
    if (error instanceof SyncError) return error;
    return new SyncError(failure, error instanceof Error ? error.message : String(error), [], { cause: error });
  }
}
