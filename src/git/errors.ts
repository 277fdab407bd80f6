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
  /** git failed in a way none of the above explains; the message carries git's own words. */
  | "git-failed";

/**
 * The one error the Git source throws. `code` is stable for programs to branch on; the message
 * is for people and names the URL (never with credentials) and the ref.
 */
export class GitSourceError extends Error {
  override readonly name = "GitSourceError";

  constructor(
    readonly code: GitSourceErrorCode,
    message: string,
    readonly url?: string,
    readonly ref?: string,
  ) {
    super(message);
  }
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
