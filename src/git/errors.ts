export type GitSourceErrorCode =
  | "unreachable"
  | "auth-failed"
  | "host-key-mismatch"
  | "timeout"
  | "ref-not-found"
  | "no-semver-match"
  | "commit-not-found"
  | "invalid-ref"
  | "path-escape"
  /** A URL the caller may not use: a local path or a remote helper where only remote URLs are allowed. */
  | "unsupported-url"
  /** The caller's AbortSignal fired (shutdown, a newer revision): git was killed, nothing more runs. */
  | "aborted"
  /** git failed in a way none of the above explains; the message carries git's own words. */
  | "git-failed";

export type GitPushErrorCode =
  | GitSourceErrorCode
  /** The server refused the update for a reason other than a race: a protected branch, a hook. */
  | "push-rejected"
  /** Every attempt lost a race against other pushes to the branch. */
  | "push-conflict"
  /** The local clone given as workdir cannot be used as it is (uncommitted changes, local commits). */
  | "workdir-unusable";

/**
 * What every operation of the git layer throws. `code` is stable for programs to branch on; the
 * message is for people, names the URL (never with credentials) and has been through redaction.
 */
export class GitError extends Error {
  override readonly name: string = "GitError";

  constructor(
    readonly code: GitPushErrorCode,
    message: string,
    readonly url?: string,
  ) {
    super(message);
  }
}

/** A checkout or resolution failed; `ref` says what was asked for (`branch "main"`). */
export class GitSourceError extends GitError {
  override readonly name = "GitSourceError";
  declare readonly code: GitSourceErrorCode;

  constructor(code: GitSourceErrorCode, message: string, url?: string, readonly ref?: string) {
    super(code, message, url);
  }
}

/** commitAndPush failed (the edit's own failures excepted). */
export class GitPushError extends GitError {
  override readonly name = "GitPushError";
  declare readonly code: GitPushErrorCode;
  declare readonly url: string;

  constructor(
    code: GitPushErrorCode,
    message: string,
    url: string,
    readonly branch: string,
    readonly attempts: number,
    /** What the remote said (its `remote:` lines and the rejection reason), redacted. */
    readonly remoteMessage?: string,
  ) {
    super(code, message, url);
  }
}

/** True when a git operation ended because its AbortSignal fired, not because anything failed. */
export function isGitCancellation(error: unknown): error is GitError {
  return error instanceof GitError && error.code === "aborted";
}

interface StderrRule {
  code: GitSourceErrorCode;
  pattern: RegExp;
  hint: string;
}

// Order matters: ssh prints "Host key verification failed" and then git's generic
// "Could not read from remote repository", which must not win.
const RULES: StderrRule[] = [
  {
    code: "host-key-mismatch",
    pattern: /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No \S+ host key is known for/i,
    hint: "the server's SSH host key does not match the known_hosts given; check knownHosts (for a non-standard port the line starts with [host]:port)",
  },
  {
    code: "auth-failed",
    pattern:
      /Authentication failed|HTTP (Basic: )?Access denied|returned error: 40[13]|\b40[13]\b.*(Unauthorized|Forbidden)|could not read (Username|Password)|terminal prompts disabled|Permission denied \(|Invalid username or password|incorrect passphrase|Load key .*: (invalid format|error in libcrypto)/i,
    hint: "check the username, password, token or SSH key, and that it may read this repository",
  },
  {
    code: "unreachable",
    pattern:
      /Could not resolve host|Could not resolve hostname|Connection refused|Failed to connect|Connection timed out|Network is unreachable|No route to host|Connection reset|Connection closed by|Empty reply from server|SSL certificate problem|server certificate verification failed|kex_exchange_identification|Recv failure/i,
    hint: "check the URL, that the server is running and that this machine can reach it",
  },
  {
    code: "unreachable",
    pattern: /repository '.*' not found|Repository not found|does not appear to be a git repository|returned error: 404|\b404\b.*Not Found/i,
    hint: "the repository does not exist at this URL, or the credentials cannot see it",
  },
  {
    code: "ref-not-found",
    pattern: /couldn't find remote ref|no such remote ref/i,
    hint: "the ref does not exist on the server",
  },
];

export interface GitFailure {
  code: GitSourceErrorCode;
  /** What to do about it; empty when there is nothing to add to git's words. */
  hint: string;
  /** git's line that gave the failure away, when one did. */
  evidence?: string;
}

/** Maps git's stderr to an error code, the line that shows it, and the hint to show with it. */
export function classifyGitFailure(stderr: string): GitFailure {
  const lines = meaningfulLines(stderr);
  for (const rule of RULES) {
    const evidence = lines.find((line) => rule.pattern.test(line));
    if (evidence !== undefined) return { code: rule.code, hint: rule.hint, evidence };
  }
  return { code: "git-failed", hint: "" };
}

/** Lines git and ssh add to failures; they hide the line that says what went wrong. */
const BOILERPLATE = /^(hint:|fatal: Could not read from remote repository\.?$|Please make sure you have the correct access rights|and the repository exists\.?$|remote: (Counting|Compressing|Enumerating|Total))/;

/** The meaningful lines of git's stderr, joined for a one-line message. */
export function stderrSummary(stderr: string, maxLines = 3): string {
  return meaningfulLines(stderr).slice(0, maxLines).join(" / ");
}

function meaningfulLines(stderr: string): string[] {
  return (
    stderr
      .split(/\r?\n|\r/)
      // ssh frames its host-key warning in a box of @ signs.
      .map((line) => line.replace(/^@+\s*|\s*@+$/g, "").trim())
      .filter((line) => line !== "" && !BOILERPLATE.test(line))
  );
}

export interface ExplainedFailure extends GitFailure {
  /** What went wrong, in git's words where they are clear and in fjord's where they are not. */
  said: string;
}

/**
 * Turns a failed git command into words for a message. git's own line is kept, except where it
 * misleads: after a 401 git asks for a user name (prompts are off, so it says "terminal prompts
 * disabled") even when it sent credentials, and ssh's "Load key" error does not say what is wrong.
 */
export function explainGitFailure(stderr: string, exitCode: number, sendsHttpCredentials: boolean): ExplainedFailure {
  const failure = classifyGitFailure(stderr);
  let said = failure.evidence ?? (stderrSummary(stderr) || `exit code ${exitCode}`);
  if (/terminal prompts disabled|could not read (Username|Password)/i.test(said)) {
    said = sendsHttpCredentials ? "the server rejected the credentials given (HTTP 401)" : "the server requires credentials and none were given";
  } else if (/^Load key/.test(said)) {
    said = "ssh could not load the private key; it must be an unencrypted key in OpenSSH or PEM format";
  }
  const fingerprint = /^\s*(SHA256:[A-Za-z0-9+/=]+)/m.exec(stderr)?.[1];
  if (failure.code === "host-key-mismatch" && fingerprint) said += ` (the server's key is ${fingerprint})`;
  return { ...failure, said };
}
