import { mkdir, realpath, rm } from "node:fs/promises";
import path from "node:path";
import { withDirectoryLock } from "../util/dir-lock.ts";
import { makePrivateTempDir } from "../util/private-temp.ts";
import { cacheLocation, defaultGitCacheDir, ensureCacheRepository, removeStaleGitLocks } from "./cache.ts";
import { GitSourceError, classifyGitFailure, stderrSummary, type GitSourceErrorCode } from "./errors.ts";
import { prepareGitEnvironment, type GitEnvironment } from "./git-environment.ts";
import { runGit, type GitResult } from "./git-process.ts";
import { redactText, splitCredentials } from "./redact.ts";
import { remoteUrlProblem } from "./remote-url.ts";
import {
  describeRequest,
  parseLsRemote,
  pickSemverTag,
  sampleList,
  semverTags,
  toRefRequest,
  type RefRequest,
  type RemoteRef,
} from "./refs.ts";
import type { Checkout, GitSourceOptions, Revision } from "./types.ts";

const DEFAULT_TIMEOUT_MS = 60_000;
/** Prefix of the cache's own refs; they keep fetched commits reachable so gc leaves them alone. */
const CACHE_REFS = "refs/fjord/";

/**
 * Finds the commit `options.ref` names on the server, fetches it into the local cache (shallow,
 * and not at all when the cache already has it) and returns its metadata. No files are written
 * outside the cache.
 */
export async function resolveRevision(options: GitSourceOptions): Promise<Revision> {
  return withGitOperation(options, (operation) => operation.run((revision) => Promise.resolve(revision)));
}

/** Like resolveRevision, and also writes the commit's files into a fresh directory. */
export async function checkout(options: GitSourceOptions): Promise<Checkout> {
  return withGitOperation(options, (operation) =>
    operation.run(async (revision) => ({ ...revision, ...(await operation.materialize(revision.commit)) })),
  );
}

async function withGitOperation<T>(options: GitSourceOptions, body: (operation: GitOperation) => Promise<T>): Promise<T> {
  const { url, credentials } = splitCredentials(options.url);
  if (url.startsWith("-")) throw new GitSourceError("unreachable", `"${url}" is not a repository URL`, url);
  const refused = options.allowLocal ? undefined : remoteUrlProblem(url);
  if (refused !== undefined) throw new GitSourceError("unsupported-url", refused, url);
  let request: RefRequest;
  try {
    request = toRefRequest(options.ref);
  } catch (error) {
    if (error instanceof GitSourceError) throw new GitSourceError(error.code, `${error.message} (repository ${url})`, url);
    throw error;
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const environment = await prepareGitEnvironment(url, options.auth, credentials, { allowLocal: options.allowLocal === true });
  try {
    const operation = new GitOperation(url, request, environment, Date.now() + timeoutMs, timeoutMs, options);
    return await body(operation);
  } finally {
    await environment.dispose();
  }
}

/** Where the wanted commit was found on the server. */
interface Located {
  /** Full ref name, or the SHA for a bare commit. */
  ref: string;
  /** What to fetch: a ref name or a SHA. */
  fetch: string;
  /** The commit the server reported; the fetched one wins should the ref move in between. */
  commit: string;
}

/** One checkout or resolution: the URL, the request, git's environment and a deadline shared by every git command. */
class GitOperation {
  readonly #cache;
  readonly #refLabel: string;

  constructor(
    readonly url: string,
    readonly request: RefRequest,
    readonly environment: GitEnvironment,
    readonly deadline: number,
    readonly timeoutMs: number,
    readonly options: GitSourceOptions,
  ) {
    this.#cache = cacheLocation(options.cacheDir ?? defaultGitCacheDir(), url);
    this.#refLabel = describeRequest(request);
  }

  /**
   * Locates the commit on the server, brings it into the cache and describes it, then runs
   * `then` while still holding the cache lock: a concurrent fetch of the same URL may move the
   * cache's ref on, after which gc would be free to drop this commit's objects.
   */
  async run<T>(then: (revision: Revision) => Promise<T>): Promise<T> {
    // Asking the server first, outside the lock, costs one round trip and also proves that these
    // credentials may read the repository: the cache is shared by everyone using this URL.
    const located = await this.#locate();
    return this.#withCache(async () => {
      const commit = await this.#ensureCommit(located);
      return then(await this.#describe(located.ref, commit));
    });
  }

  /** Writes the commit's tree into a new directory; its own index keeps the cache untouched. Call inside run(). */
  async materialize(commit: string): Promise<Pick<Checkout, "dir" | "dispose">> {
    // Private and unguessable: a build of another tenant's repository must not find this tree.
    const base = await makePrivateTempDir("checkout");
    const dispose = () => rm(base, { recursive: true, force: true, maxRetries: 3 });
    try {
      const dir = path.join(base, "files");
      await mkdir(dir);
      const env = { ...this.environment.env, GIT_INDEX_FILE: path.join(base, "index") };
      const repo = this.#cache.repository;
      await this.#gitOk(["--git-dir", repo, "read-tree", commit], "checking out", env);
      await this.#gitOk(["--git-dir", repo, "--work-tree", dir, "checkout-index", "--all", "--force"], "checking out", env);
      await rm(path.join(base, "index"), { force: true });
      return { dir: await realpath(dir), dispose };
    } catch (error) {
      await dispose();
      throw error;
    }
  }

  #withCache<T>(fn: () => Promise<T>): Promise<T> {
    const progress = this.options.progress ?? (() => undefined);
    return withDirectoryLock(this.#cache.lock, progress, async () => {
      await ensureCacheRepository(this.#cache.repository, async (directory) => {
        await this.#gitOk(["init", "--quiet", "--bare", "--template=", directory], "creating the cache for");
        await this.#gitOk(["--git-dir", directory, "config", "fjord.url", this.url], "creating the cache for");
      });
      await removeStaleGitLocks(this.#cache.repository);
      return fn();
    });
  }

  async #locate(): Promise<Located> {
    const request = this.request;
    switch (request.kind) {
      case "default": {
        const { refs, symrefs } = await this.#lsRemote(["--symref", "--", this.url, "HEAD"]);
        const head = refs.get("HEAD");
        if (!head) {
          throw this.#error("ref-not-found", `${this.url} has no default branch (its HEAD points nowhere); is the repository empty?`);
        }
        const branch = symrefs.get("HEAD");
        return { ref: branch ?? "HEAD", fetch: branch ?? "HEAD", commit: head.commit };
      }
      case "ref": {
        const { refs } = await this.#lsRemote(["--", this.url, request.ref, `${request.ref}^{}`]);
        const found = refs.get(request.ref);
        if (!found) throw await this.#refNotFound(request);
        return { ref: request.ref, fetch: request.ref, commit: found.commit };
      }
      case "short": {
        const branch = `refs/heads/${request.name}`;
        const tag = `refs/tags/${request.name}`;
        const { refs } = await this.#lsRemote(["--", this.url, branch, tag, `${tag}^{}`]);
        const found = [refs.get(branch), refs.get(tag)].filter((ref) => ref !== undefined);
        if (found.length > 1) {
          throw this.#error("ref-not-found", `"${request.name}" is both a branch and a tag in ${this.url}; name one as refs/heads/${request.name} or refs/tags/${request.name}`);
        }
        const [only] = found;
        if (!only) throw this.#error("ref-not-found", `no branch or tag named "${request.name}" in ${this.url}`);
        return { ref: only.name, fetch: only.name, commit: only.commit };
      }
      case "semver": {
        const { refs } = await this.#lsRemote(["--tags", "--", this.url]);
        const found = pickSemverTag(refs.values(), request.range);
        if (!found) throw this.#noSemverMatch(request.range, [...refs.values()]);
        return { ref: found.name, fetch: found.name, commit: found.commit };
      }
      case "commit": {
        // The answer is not needed, only that the server lets these credentials in.
        await this.#lsRemote(["--", this.url, request.branch === undefined ? "HEAD" : `refs/heads/${request.branch}`]);
        return {
          ref: request.branch === undefined ? request.commit : `refs/heads/${request.branch}`,
          fetch: request.commit,
          commit: request.commit,
        };
      }
    }
  }

  /** Makes sure the cache holds the commit, fetching only when it does not; returns the commit. */
  async #ensureCommit(located: Located): Promise<string> {
    const localRef = cacheRefFor(located.fetch);
    if (await this.#hasCommit(located.commit)) {
      await this.#gitOk(["--git-dir", this.#cache.repository, "update-ref", localRef, located.commit], "updating the cache for");
      return located.commit;
    }
    if (this.request.kind === "commit") return this.#fetchCommit(this.request.commit, this.request.branch);

    const fetched = await this.#fetch(["--depth=1"], [`+${located.fetch}:${localRef}`]);
    if (fetched.code !== 0) throw this.#gitError(fetched, "fetching");
    const commit = await this.#revParseCommit(localRef);
    if (!commit) throw this.#error("ref-not-found", `${located.fetch} in ${this.url} does not lead to a commit (${this.#refLabel})`);
    return commit;
  }

  /**
   * Fetches a commit by SHA. Servers speaking protocol v2 allow that for any reachable commit;
   * older ones only for branch tips, so the fallback fetches the branch (or every branch) with
   * full history and looks for the commit there.
   */
  async #fetchCommit(commit: string, branch: string | undefined): Promise<string> {
    const localRef = cacheRefFor(commit);
    const direct = await this.#fetch(["--depth=1"], [`+${commit}:${localRef}`]);
    if (direct.code !== 0) {
      const { code } = classifyGitFailure(direct.stderr);
      if (code === "auth-failed" || code === "unreachable" || code === "host-key-mismatch") throw this.#gitError(direct, "fetching");
      const refspec = branch === undefined ? `+refs/heads/*:${CACHE_REFS}heads/*` : `+refs/heads/${branch}:${CACHE_REFS}heads/${branch}`;
      const shallow = await this.#git(["--git-dir", this.#cache.repository, "rev-parse", "--is-shallow-repository"], "reading the cache for");
      const deepen = shallow.stdout.trim() === "true" ? ["--unshallow"] : [];
      const fallback = await this.#fetch(deepen, [refspec]);
      if (fallback.code !== 0) {
        const failure = classifyGitFailure(fallback.stderr);
        if (failure.code !== "ref-not-found") throw this.#gitError(fallback, "fetching");
        throw this.#error("commit-not-found", `commit ${commit} not found in ${this.url}: branch "${branch ?? ""}" does not exist`);
      }
      if (!(await this.#hasCommit(commit))) {
        const where = branch === undefined ? "any branch" : `branch "${branch}"`;
        throw this.#error("commit-not-found", `commit ${commit} not found in ${this.url}: the server does not know it and it is not in the history of ${where}`);
      }
      await this.#gitOk(["--git-dir", this.#cache.repository, "update-ref", localRef, commit], "updating the cache for");
    }
    const found = await this.#revParseCommit(localRef);
    if (found !== commit) throw this.#error("commit-not-found", `${commit} in ${this.url} is not a commit`);
    return commit;
  }

  #fetch(options: string[], refspecs: string[]): Promise<GitResult> {
    // No tags (they would pull in history), no FETCH_HEAD (shared by concurrent fetches), no submodules.
    return this.#git(
      [
        "--git-dir",
        this.#cache.repository,
        "fetch",
        "--quiet",
        "--no-tags",
        "--no-write-fetch-head",
        "--no-recurse-submodules",
        ...options,
        "--",
        this.url,
        ...refspecs,
      ],
      "fetching",
    );
  }

  async #describe(ref: string, commit: string): Promise<Revision> {
    const format = "%an%x00%ae%x00%aI%x00%B";
    const log = await this.#gitOk(
      ["--git-dir", this.#cache.repository, "log", "-1", "--no-show-signature", `--format=${format}`, commit, "--"],
      "reading the cache for",
    );
    const [name = "", email = "", date = "", ...message] = log.split("\0");
    return {
      url: this.url,
      ref,
      commit,
      author: { name, email },
      date,
      message: message.join("\0").replace(/\n+$/, ""),
    };
  }

  async #hasCommit(commit: string): Promise<boolean> {
    return (await this.#revParseCommit(commit)) === commit;
  }

  async #revParseCommit(revision: string): Promise<string | undefined> {
    const result = await this.#git(
      ["--git-dir", this.#cache.repository, "rev-parse", "--verify", "--quiet", "--end-of-options", `${revision}^{commit}`],
      "reading the cache for",
    );
    return result.code === 0 ? result.stdout.trim() : undefined;
  }

  async #lsRemote(args: string[]) {
    return parseLsRemote(await this.#gitOk(["ls-remote", ...args], "fetching"));
  }

  async #refNotFound(request: Extract<RefRequest, { kind: "ref" }>): Promise<GitSourceError> {
    let seen = "";
    if (request.listing !== "none") {
      // Only on this error path: a second listing, to show what does exist.
      const { refs } = await this.#lsRemote([request.listing === "branches" ? "--heads" : "--tags", "--", this.url]);
      const prefix = request.listing === "branches" ? "refs/heads/" : "refs/tags/";
      const names = [...refs.keys()].map((name) => name.slice(prefix.length)).sort();
      seen = names.length === 0 ? `; the repository has no ${request.listing}` : `; ${request.listing} seen: ${sampleList(names)}`;
    }
    return this.#error("ref-not-found", `${request.label} not found in ${this.url}${seen}`);
  }

  #noSemverMatch(range: string, refs: RemoteRef[]): GitSourceError {
    const versions = semverTags(refs).map(({ tag }) => tag);
    const others = refs.filter((ref) => !versions.includes(ref.name.slice("refs/tags/".length))).map((ref) => ref.name.slice("refs/tags/".length));
    let seen: string;
    if (refs.length === 0) seen = "the repository has no tags";
    else if (versions.length === 0) seen = `no tag is a semantic version (tags seen: ${sampleList(others.sort())})`;
    else seen = `version tags seen: ${sampleList(versions)}${others.length > 0 ? ` (and ${others.length} other tags)` : ""}`;
    return this.#error("no-semver-match", `no tag in ${this.url} matches semver range "${range}"; ${seen}`);
  }

  /** Runs git within the operation's deadline; a timeout becomes a GitSourceError here. */
  async #git(args: string[], activity: string, env = this.environment.env): Promise<GitResult> {
    const result = await runGit(args, { env, deadline: this.deadline });
    if (result.timedOut) {
      throw this.#error("timeout", `timed out after ${formatSeconds(this.timeoutMs)} ${activity} ${this.url} (${this.#refLabel})`);
    }
    return result;
  }

  async #gitOk(args: string[], activity: string, env = this.environment.env): Promise<string> {
    const result = await this.#git(args, activity, env);
    if (result.code !== 0) throw this.#gitError(result, activity);
    return result.stdout;
  }

  #gitError(result: GitResult, activity: string): GitSourceError {
    const { code, hint, evidence } = classifyGitFailure(result.stderr);
    let said = evidence ?? (stderrSummary(result.stderr) || `exit code ${result.code}`);
    if (/terminal prompts disabled/.test(said)) {
      // git asks for a user name after a 401 even when it sent credentials: say what happened.
      said = this.environment.sendsHttpCredentials ? "the server rejected the credentials given (HTTP 401)" : "the server requires credentials and none were given";
    } else if (/^Load key/.test(said)) {
      said = "ssh could not load the private key; it must be an unencrypted key in OpenSSH or PEM format";
    }
    const fingerprint = /^\s*(SHA256:[A-Za-z0-9+/=]+)/m.exec(result.stderr)?.[1];
    if (code === "host-key-mismatch" && fingerprint) said += ` (the server's key is ${fingerprint})`;
    const what = FAILURE_HEADLINES[code] ?? `git failed ${activity}`;
    return this.#error(code, `${what} ${this.url} (${this.#refLabel}): ${said}${hint ? `; ${hint}` : ""}`);
  }

  /** Every message passes through redaction, whatever git printed into it. */
  #error(code: GitSourceErrorCode, message: string): GitSourceError {
    return new GitSourceError(code, redactText(message, this.environment.secrets), this.url, this.#refLabel);
  }
}

/** How a message about a failed git command starts, by the code its stderr maps to. */
const FAILURE_HEADLINES: Partial<Record<GitSourceErrorCode, string>> = {
  "auth-failed": "authentication failed for",
  "host-key-mismatch": "SSH host key verification failed for",
  unreachable: "cannot reach",
  "ref-not-found": "ref not found in",
};

/** The cache's own name for what was fetched: refs/heads/main -> refs/fjord/heads/main; a SHA -> refs/fjord/commits/<sha>. */
function cacheRefFor(fetched: string): string {
  if (fetched.startsWith("refs/")) return CACHE_REFS + fetched.slice("refs/".length);
  if (fetched === "HEAD") return `${CACHE_REFS}HEAD`;
  return `${CACHE_REFS}commits/${fetched}`;
}

function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)}s`;
}
