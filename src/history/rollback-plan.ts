import type { HistoryEntry } from "./entry.ts";
import { parseRevision, shortCommit, type ParsedRevision } from "./revision.ts";

/**
 * The decisions of `fjord rollback` that need no cluster and no Git: which commit to go back to,
 * which branch the source follows (and what to do instead when it follows none), and the words of
 * the commit. Inputs come from a tenant-writable history, the GitRepository's spec and the
 * command line; only validated revisions and hex SHAs come out.
 */

/** The rollback cannot be made as asked; the message says why and what to do instead. */
export class RollbackRefused extends Error {
  override readonly name = "RollbackRefused";
}

export interface TargetQuery {
  /** `--to`: a commit SHA (7 to 40 hex digits) or a revision from the history (`main@sha1:<sha>`). */
  to?: string;
  /** The Application's history, newest first (as parseEntries returns it). */
  entries: readonly HistoryEntry[];
  /** What the Application runs now (status.lastAppliedRevision). */
  running: ParsedRevision;
  /** `shop/web`, for messages. */
  application: string;
}

/**
 * The commit to restore: a full SHA, or a prefix that the branch's history resolves. Without
 * `--to`, the last revision the history records as applied before the one running now.
 */
export function chooseTarget(query: TargetQuery): string {
  const { running, application } = query;
  const applied = query.entries.filter((entry) => entry.action === "sync" && entry.result === "applied").flatMap((entry) => parseRevision(entry.revision)?.commit ?? []);
  if (query.to === undefined) {
    const current = applied.indexOf(running.commit);
    const previous = applied.slice(current + 1).find((commit) => commit !== running.commit);
    if (previous === undefined) throw new RollbackRefused(`the history of Application ${application} records no applied revision before the one it runs (${shortCommit(running.commit)}); name one with --to <sha>`);
    return previous;
  }
  const wanted = parseRevision(query.to)?.commit ?? (/^[0-9a-fA-F]{7,40}$/.test(query.to) ? query.to.toLowerCase() : undefined);
  if (wanted === undefined) throw new RollbackRefused(`--to ${JSON.stringify(query.to.slice(0, 100))} is neither a commit SHA (7 to 40 hex digits) nor a revision such as main@sha1:<sha>`);
  if (running.commit.startsWith(wanted)) throw new RollbackRefused(`${shortCommit(running.commit)} is what Application ${application} runs now; nothing to roll back`);
  // A prefix the history knows is completed from it; git resolves the others among the branch's commits.
  const known = [...new Set(applied.filter((commit) => commit.startsWith(wanted)))];
  return known.length === 1 && known[0] !== undefined ? known[0] : wanted;
}

/** A GitRepository's spec and artifact, as much as choosing a branch needs. */
export interface SourceRefs {
  name: string;
  namespace: string;
  ref?: { branch?: string; tag?: string; semver?: string; name?: string; commit?: string };
  artifactRevision?: string;
}

/**
 * The branch a rollback commit goes to: the one the GitRepository follows. A source pinned to a
 * tag, a semver range or a commit would not run a new commit on a branch, so each is refused
 * with what to change instead.
 */
export function followedBranch(source: SourceRefs): string {
  const { ref } = source;
  const where = `GitRepository ${source.namespace}/${source.name}`;
  const patch = (field: string) => `kubectl -n ${source.namespace} patch gitrepository ${source.name} --type merge -p '{"spec":{"ref":{"${field}":"..."}}}'`;
  if (ref?.commit !== undefined) {
    throw new RollbackRefused(`${where} is pinned to commit ${ref.commit.slice(0, 12)}, not following a branch; roll back by setting spec.ref.commit to the commit to go back to (${patch("commit")})`);
  }
  if (ref?.tag !== undefined) throw new RollbackRefused(`${where} follows tag "${ref.tag}", not a branch; roll back by pointing spec.ref.tag at the release to go back to (${patch("tag")})`);
  if (ref?.semver !== undefined) {
    throw new RollbackRefused(`${where} follows the highest tag matching semver "${ref.semver}", not a branch; roll back by narrowing spec.ref.semver to the release to go back to (${patch("semver")}) or by deleting the bad tag`);
  }
  if (ref?.name !== undefined) {
    if (ref.name.startsWith("refs/heads/") && ref.name.length > "refs/heads/".length) return ref.name.slice("refs/heads/".length);
    throw new RollbackRefused(`${where} follows ref "${ref.name}", not a branch; roll back by pointing spec.ref at what to go back to`);
  }
  if (ref?.branch !== undefined) return ref.branch;
  // No ref: the remote's default branch, which the artifact names.
  const branch = parseRevision(source.artifactRevision ?? "")?.ref;
  if (branch === undefined) throw new RollbackRefused(`${where} follows the remote's default branch but has fetched no revision yet; wait until it is Ready (fjord get sources -n ${source.namespace})`);
  return branch;
}

/** Where the rollback commit goes when the branch refuses it: `fjord/rollback-web-1a2b3c4`. */
export const rollbackBranch = (application: string, target: string): string => `fjord/rollback-${application}-${shortCommit(target)}`;

export interface RollbackCommit {
  /** `shop/web`. */
  application: string;
  /** The Application's directory in the repository (`.` for the root). */
  directory: string;
  target: { commit: string; subject: string };
  /** Commits after the target that touched the directory, newest first. */
  undone: readonly { commit: string; subject: string }[];
  undoneOmitted: number;
  actor: string;
}

export const ACTOR_TRAILER = "Rollback-requested-by";

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
/** Subjects come from Git: one line, bounded, no terminal codes or forged trailers. */
const oneLine = (text: string, max = 100) => {
  const flat = text.replace(CONTROL, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
};

/** The rollback commit's message: what is restored, where, what it undoes, and who asked (a trailer). */
export function rollbackMessage(commit: RollbackCommit): string {
  const where = commit.directory === "." ? "the whole repository" : `${commit.directory}/`;
  const lines = [
    `Roll back ${commit.application} to ${shortCommit(commit.target.commit)}`,
    "",
    `Restores ${where} to its content at ${commit.target.commit} ("${oneLine(commit.target.subject)}").`,
    ...(commit.directory === "." ? [] : ["Only that directory changes; the rest of the repository stays as it is."]),
    "",
    commit.undone.length === 0 ? "No commit since then touched it." : "Undoes:",
    ...commit.undone.map((undone) => `- ${shortCommit(undone.commit)} ${oneLine(undone.subject)}`),
    ...(commit.undoneOmitted > 0 ? [`- and ${commit.undoneOmitted} earlier commits`] : []),
    "",
    `${ACTOR_TRAILER}: ${oneLine(commit.actor, 256)}`,
  ];
  return `${lines.join("\n")}\n`;
}
