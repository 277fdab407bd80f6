/**
 * Artifact revisions as the GitRepository records them (`main@sha1:<sha>`, `sha1:<sha>`), read
 * back from places a tenant can write (a history ConfigMap, an annotation, a command line): only
 * a ref of ordinary characters and a full hexadecimal SHA-1 pass, so nothing else can reach git.
 */
export interface ParsedRevision {
  /** The ref part (`main`, `v1.2.0`); absent for a bare commit. */
  ref?: string;
  /** The full commit SHA, lower case. */
  commit: string;
}

const REVISION = /^(?:([A-Za-z0-9][A-Za-z0-9._/-]{0,199})@)?sha1:([0-9a-f]{40})$/;

export function parseRevision(text: string): ParsedRevision | undefined {
  const match = REVISION.exec(text);
  if (!match?.[2]) return undefined;
  return { ...(match[1] ? { ref: match[1] } : {}), commit: match[2] };
}

/** The 7-character form git and people use for a commit. */
export const shortCommit = (commit: string): string => commit.slice(0, 7);
