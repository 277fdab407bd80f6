/**
 * A GitRepository's `spec.ignore`: gitignore lines, as in Flux, whose matches are left out of
 * the source's artifact. The checked-out tree of a commit never holds them, so no Application
 * rendering from the source sees them (src/git/tree.ts applies them when the tree is written).
 *
 * Flux also leaves some paths out by default (`.git/`, `.gitignore`, `*.jpg`, `*.png`,
 * `*.tar.gz`, `*.zip`, `.github/`, `.gitlab-ci.yml`, `.sops.yaml` anywhere...), and drops those
 * defaults as soon as `spec.ignore` is set. fjord deliberately has no defaults: Flux leaves them
 * out to keep its stored tarballs small, while fjord writes no archive (a commit's tree is
 * checked out once and shared), `.git` is never part of a fjord tree, and the render already
 * skips dot-files in plain directories; excluding images or archives would break a chart or a
 * kustomize generator that reads them, and would change what every existing source renders.
 * Flux's `.sourceignore` files inside the repository are not read either.
 *
 * The ignore is part of the artifact's identity: a tree made with other rules is another tree.
 */
import { createHash } from "node:crypto";
import { formatCount, MAX_SOURCE_IGNORE_CHARACTERS, MAX_SOURCE_IGNORE_PATTERNS } from "../input/limits.ts";
import { compileIgnorePatterns, IgnorePatternError, type IgnoreMatcher } from "../render/ignore-patterns.ts";

/**
 * Compiles `spec.ignore`. Throws IgnorePatternError naming the offending line (`spec.ignore
 * line 3: ...`) or the limit exceeded.
 */
export function compileSourceIgnore(text: string): IgnoreMatcher {
  if (text.length > MAX_SOURCE_IGNORE_CHARACTERS) {
    throw new IgnorePatternError(`spec.ignore is ${formatCount(text.length)} characters long, more than the limit of ${formatCount(MAX_SOURCE_IGNORE_CHARACTERS)}`);
  }
  // As Flux reads it: one pattern per line, a CR before the newline dropped.
  const lines = text.split(/\r?\n/);
  const patterns = lines.filter((line) => line.trimEnd() !== "" && !line.startsWith("#")).length;
  if (patterns > MAX_SOURCE_IGNORE_PATTERNS) {
    throw new IgnorePatternError(
      `spec.ignore has ${formatCount(patterns)} patterns, more than the limit of ${MAX_SOURCE_IGNORE_PATTERNS}; leave out whole directories (dir/) or use wildcards rather than listing files`,
    );
  }
  try {
    return compileIgnorePatterns(lines);
  } catch (error) {
    if (error instanceof IgnorePatternError && error.line !== undefined) {
      throw new IgnorePatternError(`spec.ignore line ${error.line}: ${error.message}; fix or remove the line`, error.line);
    }
    throw error;
  }
}

/** Why `spec.ignore` cannot be used, or undefined when it can (or is not set). */
export function sourceIgnoreProblem(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    compileSourceIgnore(text);
    return undefined;
  } catch (error) {
    if (error instanceof IgnorePatternError) return error.message;
    throw error;
  }
}

/** What tells two artifacts apart: the revision, and the ignore rules its trees are made with. */
export function artifactIdentity(artifact: { revision: string; ignore?: string } | undefined): string | undefined {
  return artifact && `${artifact.revision}${ignoreSuffix(artifact.ignore)}`;
}

/** The key of one checked-out tree of a source: its commit, and the ignore rules it was written with. */
export function artifactTreeKey(artifact: { commit: string; ignore?: string }): string {
  return `${artifact.commit}${ignoreSuffix(artifact.ignore)}`;
}

function ignoreSuffix(ignore: string | undefined): string {
  return ignore === undefined ? "" : `+ignore:${createHash("sha256").update(ignore).digest("hex").slice(0, 16)}`;
}
