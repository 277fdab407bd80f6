import { parse, rcompare, satisfies, validRange, type SemVer } from "semver";
import { GitSourceError } from "./errors.ts";
import type { GitRef } from "./types.ts";

/** A GitRef after precedence and validation: exactly one way to find the commit. */
export type RefRequest =
  | { kind: "default" }
  /** A full ref name; `label` says how the user wrote it, for messages. */
  | { kind: "ref"; ref: string; label: string; listing: "branches" | "tags" | "none" }
  /** A name without `refs/`, as git's command line accepts it: a branch or a tag of that name. */
  | { kind: "short"; name: string }
  | { kind: "semver"; range: string }
  | { kind: "commit"; commit: string; branch?: string };

export interface RemoteRef {
  name: string;
  /** What the ref points at: a commit, or a tag object for annotated tags. */
  object: string;
  /** The commit behind it (annotated tags peeled). */
  commit: string;
}

export interface RemoteRefs {
  refs: Map<string, RemoteRef>;
  /** Symbolic refs the server advertised, e.g. HEAD -> refs/heads/main. */
  symrefs: Map<string, string>;
}

const FULL_SHA = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * Applies Flux's precedence (commit > name > semver > tag > branch) to whatever fields are set,
 * so a spec with both `tag` and `branch` behaves as it does in Flux, and validates the winner.
 */
export function toRefRequest(ref: GitRef | undefined): RefRequest {
  if (ref === undefined) return { kind: "default" };
  const fields = ref as Partial<{ branch: string; tag: string; semver: string; name: string; commit: string }>;
  if (isSet(fields.commit)) {
    const commit = fields.commit.trim().toLowerCase();
    if (!FULL_SHA.test(commit)) {
      throw new GitSourceError("invalid-ref", `commit "${fields.commit}" is not a full SHA (40 or 64 hex digits)`);
    }
    if (!isSet(fields.branch)) return { kind: "commit", commit };
    requireValidRef(`refs/heads/${fields.branch}`, `branch "${fields.branch}"`);
    return { kind: "commit", commit, branch: fields.branch };
  }
  if (isSet(fields.name)) {
    const name = fields.name;
    if (name === "HEAD") return { kind: "default" };
    if (!name.startsWith("refs/")) {
      requireValidRef(`refs/heads/${name}`, `ref name "${name}"`);
      return { kind: "short", name };
    }
    requireValidRef(name, `ref name "${name}"`);
    return { kind: "ref", ref: name, label: `ref "${name}"`, listing: "none" };
  }
  if (isSet(fields.semver)) {
    if (validRange(fields.semver) === null) {
      throw new GitSourceError("invalid-ref", `"${fields.semver}" is not a valid semver range (examples: ">=1.2.0 <2.0.0", "1.x", "~1.2")`);
    }
    return { kind: "semver", range: fields.semver };
  }
  if (isSet(fields.tag)) {
    const ref = `refs/tags/${fields.tag}`;
    requireValidRef(ref, `tag "${fields.tag}"`);
    return { kind: "ref", ref, label: `tag "${fields.tag}"`, listing: "tags" };
  }
  if (isSet(fields.branch)) {
    const ref = `refs/heads/${fields.branch}`;
    requireValidRef(ref, `branch "${fields.branch}"`);
    return { kind: "ref", ref, label: `branch "${fields.branch}"`, listing: "branches" };
  }
  return { kind: "default" };
}

/** Flux specs leave unused fields empty rather than absent. */
function isSet(value: string | undefined): value is string {
  return value !== undefined && value !== "";
}

/** How a request reads in a message. */
export function describeRequest(request: RefRequest): string {
  switch (request.kind) {
    case "default":
      return "default branch";
    case "ref":
      return request.label;
    case "short":
      return `ref "${request.name}"`;
    case "semver":
      return `semver "${request.range}"`;
    case "commit":
      return request.branch === undefined ? `commit ${request.commit}` : `commit ${request.commit} on branch "${request.branch}"`;
  }
}

/**
 * git's ref-name rules (git check-ref-format), checked here because a name ends up in a refspec,
 * where a `:` or a leading `+` or `-` would change what git does.
 */
export function isValidRefName(ref: string): boolean {
  if (ref === "" || ref === "@" || ref.startsWith("-") || ref.startsWith("/") || ref.endsWith("/") || ref.endsWith(".")) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]|\.\.|\/\/|@\{/.test(ref)) return false;
  return ref.split("/").every((part) => part !== "" && !part.startsWith(".") && !part.endsWith(".lock"));
}

function requireValidRef(ref: string, label: string): void {
  if (!isValidRefName(ref)) throw new GitSourceError("invalid-ref", `${label} is not a valid git ref name`);
}

/** Parses `git ls-remote [--symref]` output, pairing each annotated tag with its peeled (`^{}`) commit. */
export function parseLsRemote(output: string): RemoteRefs {
  const refs = new Map<string, RemoteRef>();
  const symrefs = new Map<string, string>();
  const peeled = new Map<string, string>();
  for (const line of output.split("\n")) {
    if (line === "") continue;
    const tab = line.indexOf("\t");
    if (tab < 0) continue;
    const left = line.slice(0, tab);
    const name = line.slice(tab + 1);
    if (left.startsWith("ref: ")) {
      symrefs.set(name, left.slice("ref: ".length));
    } else if (name.endsWith("^{}")) {
      peeled.set(name.slice(0, -3), left);
    } else {
      refs.set(name, { name, object: left, commit: left });
    }
  }
  for (const [name, commit] of peeled) {
    const ref = refs.get(name);
    if (ref) ref.commit = commit;
  }
  return { refs, symrefs };
}

/** Tags that are semantic versions (a leading `v` allowed), highest first; ties broken by tag name. */
export function semverTags(refs: Iterable<RemoteRef>): { ref: RemoteRef; tag: string; version: SemVer }[] {
  const tags = [];
  for (const ref of refs) {
    if (!ref.name.startsWith("refs/tags/")) continue;
    const tag = ref.name.slice("refs/tags/".length);
    const version = tagVersion(tag);
    if (version) tags.push({ ref, tag, version });
  }
  return tags.sort((a, b) => rcompare(a.version, b.version) || a.tag.localeCompare(b.tag));
}

/**
 * A tag's version: full semver with an optional `v`, or `v1` / `v1.2` read as 1.0.0 / 1.2.0, as
 * Flux (Masterminds semver) reads them. Looser forms (`release-1.2`) are not versions.
 */
function tagVersion(tag: string): SemVer | null {
  const full = parse(tag);
  if (full) return full;
  const partial = /^[vV]?(\d+)(?:\.(\d+))?$/.exec(tag);
  return partial ? parse(`${partial[1]}.${partial[2] ?? "0"}.0`) : null;
}

/** The tag with the highest version inside `range`, or undefined. */
export function pickSemverTag(refs: Iterable<RemoteRef>, range: string): RemoteRef | undefined {
  return semverTags(refs).find(({ version }) => satisfies(version, range))?.ref;
}

/** A short list of names for an error message: "a, b, c and 12 more". */
export function sampleList(names: readonly string[], max = 8): string {
  if (names.length <= max) return names.join(", ");
  return `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
}
