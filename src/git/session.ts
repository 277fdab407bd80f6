/**
 * The one way fjord runs git against a remote. A session owns what every command of one
 * operation (a checkout, a commit-and-push) shares: the isolated environment (private HOME, no
 * system or global config, credentials through the environment only, GIT_ALLOW_PROTOCOL), one
 * deadline for all of its commands, the caller's AbortSignal (which kills the running git and its
 * helpers at once), and the words of its errors: classified by git's stderr, named after the URL
 * and what was asked of it, and redacted of every credential whatever git or the server printed.
 * Checkout and push are thin users of it.
 */
import { explainGitFailure, type GitError, type GitSourceErrorCode } from "./errors.ts";
import { prepareGitEnvironment, type GitEnvironment } from "./git-environment.ts";
import { runGit, type GitResult } from "./git-process.ts";
import { parseLsRemote, type RemoteRefs } from "./refs.ts";
import { redactText, splitCredentials } from "./redact.ts";
import { remoteUrlProblem } from "./remote-url.ts";
import type { GitAuth } from "./types.ts";

export interface RemoteTarget {
  /** The URL to show, key caches on and hand to git: never with credentials. */
  url: string;
  /** Credentials that were embedded in an http(s) URL; they are sent as basic auth when no `auth` is given. */
  credentials?: { username: string; password: string };
  /** Why the URL may not be used (a local path for the controller, an option-like `-x`); undefined when it may. */
  problem?: { code: GitSourceErrorCode; message: string };
}

/** Takes credentials out of a URL and says whether it may be used. Pure: the caller throws its own error for a problem. */
export function remoteTarget(rawUrl: string, allowLocal: boolean): RemoteTarget {
  const { url, credentials } = splitCredentials(rawUrl);
  const target = { url, ...(credentials ? { credentials } : {}) };
  // git would read a leading dash as an option, whatever follows `--` elsewhere on its command line.
  if (url.startsWith("-")) return { ...target, problem: { code: "unreachable", message: `"${url}" is not a repository URL` } };
  const refused = allowLocal ? undefined : remoteUrlProblem(url);
  return refused === undefined ? target : { ...target, problem: { code: "unsupported-url", message: refused } };
}

export interface GitSessionOptions {
  auth?: GitAuth;
  /** file:// URLs and local paths too (the one-shot CLI); see GitSourceOptions.allowLocal. */
  allowLocal?: boolean;
  /** Budget for every command of the session together. */
  timeoutMs: number;
  /** Cancels the session: the running git is killed and every later command refused. */
  signal?: AbortSignal;
}

/** How a session's messages name what it works on, and the error type its user throws. */
export interface SessionVoice<E extends GitError> {
  /** What was asked of the URL, shown in parentheses after it: `branch "main"`, `semver ">=1.0.0"`. */
  what: string;
  /** Wraps a code and a message (already redacted) in the user's error type. */
  error(code: GitSourceErrorCode, message: string): E;
}

/** Where a command runs: a repository named by --git-dir (the bare cache), or a directory (a work tree). */
export type GitPlace = { gitDir: string } | { cwd: string };

export interface CommandOptions {
  in?: GitPlace;
  /** Added to the session's environment for this command (an index file, the committer). */
  env?: Readonly<Record<string, string>>;
  /** Standard input for the command. */
  input?: string | Buffer;
}

const TIDY_TIMEOUT_MS = 10_000;

/** How a message about a failed git command starts, by the code its stderr maps to. */
const FAILURE_HEADLINES: Partial<Record<GitSourceErrorCode, string>> = {
  "auth-failed": "authentication failed for",
  "host-key-mismatch": "SSH host key verification failed for",
  unreachable: "cannot reach",
  "ref-not-found": "ref not found in",
};

export class GitSession<E extends GitError> {
  readonly url: string;
  /** Epoch milliseconds by which every command must have finished. */
  readonly deadline: number;
  readonly #environment: GitEnvironment;
  readonly #options: GitSessionOptions;
  readonly #voice: SessionVoice<E>;

  private constructor(url: string, environment: GitEnvironment, options: GitSessionOptions, voice: SessionVoice<E>) {
    this.url = url;
    this.deadline = Date.now() + options.timeoutMs;
    this.#environment = environment;
    this.#options = options;
    this.#voice = voice;
  }

  /**
   * Runs `body` with a session for `target` and always removes the session's private HOME and
   * key files afterwards. The target must have no problem (the caller has reported it).
   */
  static async use<E extends GitError, T>(target: RemoteTarget, options: GitSessionOptions, voice: SessionVoice<E>, body: (session: GitSession<E>) => Promise<T>): Promise<T> {
    if (target.problem) throw voice.error(target.problem.code, redactText(target.problem.message));
    const environment = await prepareGitEnvironment(target.url, options.auth, target.credentials, { allowLocal: options.allowLocal === true });
    try {
      return await body(new GitSession(target.url, environment, options, voice));
    } finally {
      await environment.dispose();
    }
  }

  /** `http://host/r.git (branch "main")`: how every message of the session names its subject. */
  get subject(): string {
    return `${this.url} (${this.#voice.what})`;
  }

  get signal(): AbortSignal | undefined {
    return this.#options.signal;
  }

  /**
   * Runs git within the session's deadline and signal. A timeout or a cancellation is thrown as
   * the user's error (code `timeout`, `aborted`); git's own failures come back in the result.
   */
  async run(args: readonly string[], activity: string, options: CommandOptions = {}): Promise<GitResult> {
    const place = options.in;
    const result = await runGit(place && "gitDir" in place ? ["--git-dir", place.gitDir, ...args] : args, {
      env: options.env ? { ...this.#environment.env, ...options.env } : this.#environment.env,
      deadline: this.deadline,
      ...(place && "cwd" in place ? { cwd: place.cwd } : {}),
      ...(this.#options.signal ? { signal: this.#options.signal } : {}),
      ...(options.input !== undefined ? { input: options.input } : {}),
    });
    if (result.aborted) throw this.cancelled(activity);
    if (result.timedOut) throw this.error("timeout", `timed out after ${formatSeconds(this.#options.timeoutMs)} ${activity} ${this.subject}`);
    return result;
  }

  /**
   * A clean-up command at the end of the operation (dropping a temporary ref from a user's clone):
   * it runs even after the deadline or the signal, within a few seconds of its own, and its
   * failure is not reported, since the operation's own outcome is what the caller needs to hear.
   */
  async tidy(args: readonly string[], place: GitPlace): Promise<void> {
    await runGit("gitDir" in place ? ["--git-dir", place.gitDir, ...args] : args, {
      env: this.#environment.env,
      deadline: Date.now() + TIDY_TIMEOUT_MS,
      ...("cwd" in place ? { cwd: place.cwd } : {}),
    }).catch(() => undefined);
  }

  /** Like run, and a non-zero exit is thrown as the user's error; returns standard output. */
  async runOk(args: readonly string[], activity: string, options: CommandOptions = {}): Promise<string> {
    const result = await this.run(args, activity, options);
    if (result.code !== 0) throw this.failure(result, activity);
    return result.stdout;
  }

  /** The error for a git command that failed: classified by its stderr, with git's words and a hint. */
  failure(result: Pick<GitResult, "code" | "stderr">, activity: string): E {
    const { code, hint, said } = explainGitFailure(result.stderr, result.code, this.#environment.sendsHttpCredentials);
    const headline = FAILURE_HEADLINES[code] ?? `git failed ${activity}`;
    return this.error(code, `${headline} ${this.subject}: ${said}${hint ? `; ${hint}` : ""}`);
  }

  /** Every message passes through redaction, whatever git or the remote printed into it. */
  error(code: GitSourceErrorCode, message: string): E {
    return this.#voice.error(code, this.redact(message));
  }

  redact(text: string): string {
    return redactText(text, this.#environment.secrets);
  }

  cancelled(activity: string): E {
    return this.error("aborted", `${activity} ${this.subject} was cancelled`);
  }

  /** Between commands that do not run git (an edit, a backoff): stop when the signal has fired. */
  throwIfAborted(activity: string): void {
    if (this.#options.signal?.aborted) throw this.cancelled(activity);
  }

  /** Waits `ms` (not past the deadline), ending early and throwing when the signal fires. */
  async pause(ms: number, activity: string): Promise<void> {
    if (Date.now() + ms >= this.deadline) return;
    const signal = this.#options.signal;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
    });
    this.throwIfAborted(activity);
  }

  /** The remote's refs matching `patterns` (all when none); `options` such as `--symref`, `--tags`. */
  async lsRemote(options: readonly string[], patterns: readonly string[] = []): Promise<RemoteRefs> {
    return parseLsRemote(await this.runOk(["ls-remote", ...options, "--", this.url, ...patterns], "fetching"));
  }

  /**
   * Fetches `refspecs` from the remote into the repository at `place`: no tags (they would pull in
   * history), no FETCH_HEAD (shared by concurrent fetches), no submodules. The result is returned
   * for the caller to judge, since some failures (an unknown SHA) have a fallback.
   */
  fetch(place: GitPlace, options: readonly string[], refspecs: readonly string[]): Promise<GitResult> {
    return this.run(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules", ...options, "--", this.url, ...refspecs], "fetching", { in: place });
  }

  /** The commit `revision` names in the repository at `place`, or undefined when it names none. */
  async revParseCommit(place: GitPlace, revision: string, activity = "reading"): Promise<string | undefined> {
    const result = await this.run(["rev-parse", "--verify", "--quiet", "--end-of-options", `${revision}^{commit}`], activity, { in: place });
    return result.code === 0 ? result.stdout.trim() : undefined;
  }
}

function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)}s`;
}
