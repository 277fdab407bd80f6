import { withDirectoryLock } from "../util/dir-lock.ts";
import { cacheLocation, defaultGitCacheDir, ensureCacheRepository, removeStaleGitLocks, type CacheLocation } from "./cache.ts";
import { classifyGitFailure, GitSourceError } from "./errors.ts";
import { describeRequest, pickSemverTag, sampleList, semverTags, toRefRequest, type RefRequest, type RemoteRef } from "./refs.ts";
import { GitSession, remoteTarget } from "./session.ts";
import { materializeTree } from "./tree.ts";
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
  return withSourceFetch(options, (fetch) => fetch.run((revision) => Promise.resolve(revision)));
}

/** Like resolveRevision, and also writes the commit's files (less those `options.ignore` matches) into a fresh directory. */
export async function checkout(options: GitSourceOptions): Promise<Checkout> {
  return withSourceFetch(options, (fetch) =>
    fetch.run(async (revision) => ({ ...revision, ...(await materializeTree(fetch.session, fetch.cache.repository, revision.commit, options.ignore)) })),
  );
}

type SourceSession = GitSession<GitSourceError>;

async function withSourceFetch<T>(options: GitSourceOptions, body: (fetch: SourceFetch) => Promise<T>): Promise<T> {
  const target = remoteTarget(options.url, options.allowLocal === true);
  if (target.problem) throw new GitSourceError(target.problem.code, target.problem.message, target.url);
  const { url } = target;
  let request: RefRequest;
  try {
    request = toRefRequest(options.ref);
  } catch (error) {
    if (error instanceof GitSourceError) throw new GitSourceError(error.code, `${error.message} (repository ${url})`, url);
    throw error;
  }
  const what = describeRequest(request);
  const sessionOptions = {
    ...(options.auth ? { auth: options.auth } : {}),
    allowLocal: options.allowLocal === true,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const voice = { what, error: (code: GitSourceError["code"], message: string) => new GitSourceError(code, message, url, what) };
  return GitSession.use(target, sessionOptions, voice, (session) => body(new SourceFetch(session, request, options)));
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

/** One resolution of a ref through the bare-repository cache of its URL. */
class SourceFetch {
  readonly cache: CacheLocation;
  readonly #place;

  constructor(
    readonly session: SourceSession,
    readonly request: RefRequest,
    readonly options: GitSourceOptions,
  ) {
    this.cache = cacheLocation(options.cacheDir ?? defaultGitCacheDir(), session.url);
    this.#place = { gitDir: this.cache.repository };
  }

  get url(): string {
    return this.session.url;
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

  #withCache<T>(fn: () => Promise<T>): Promise<T> {
    const progress = this.options.progress ?? (() => undefined);
    return withDirectoryLock(this.cache.lock, progress, async () => {
      // Another holder of the lock may have been cancelled along with this operation.
      this.session.throwIfAborted("fetching");
      await ensureCacheRepository(this.cache.repository, async (directory) => {
        await this.session.runOk(["init", "--quiet", "--bare", "--template=", directory], "creating the cache for");
        await this.session.runOk(["config", "fjord.url", this.url], "creating the cache for", { in: { gitDir: directory } });
      });
      await removeStaleGitLocks(this.cache.repository);
      return fn();
    });
  }

  async #locate(): Promise<Located> {
    const { request, session, url } = this;
    switch (request.kind) {
      case "default": {
        const { refs, symrefs } = await session.lsRemote(["--symref"], ["HEAD"]);
        const head = refs.get("HEAD");
        if (!head) throw session.error("ref-not-found", `${url} has no default branch (its HEAD points nowhere); is the repository empty?`);
        const branch = symrefs.get("HEAD");
        return { ref: branch ?? "HEAD", fetch: branch ?? "HEAD", commit: head.commit };
      }
      case "ref": {
        const { refs } = await session.lsRemote([], [request.ref, `${request.ref}^{}`]);
        const found = refs.get(request.ref);
        if (!found) throw await this.#refNotFound(request);
        return { ref: request.ref, fetch: request.ref, commit: found.commit };
      }
      case "short": {
        const branch = `refs/heads/${request.name}`;
        const tag = `refs/tags/${request.name}`;
        const { refs } = await session.lsRemote([], [branch, tag, `${tag}^{}`]);
        const found = [refs.get(branch), refs.get(tag)].filter((ref) => ref !== undefined);
        if (found.length > 1) {
          throw session.error("ref-not-found", `"${request.name}" is both a branch and a tag in ${url}; name one as refs/heads/${request.name} or refs/tags/${request.name}`);
        }
        const [only] = found;
        if (!only) throw session.error("ref-not-found", `no branch or tag named "${request.name}" in ${url}`);
        return { ref: only.name, fetch: only.name, commit: only.commit };
      }
      case "semver": {
        const { refs } = await session.lsRemote(["--tags"]);
        const found = pickSemverTag(refs.values(), request.range);
        if (!found) throw this.#noSemverMatch(request.range, [...refs.values()]);
        return { ref: found.name, fetch: found.name, commit: found.commit };
      }
      case "commit": {
        // The answer is not needed, only that the server lets these credentials in.
        await session.lsRemote([], [request.branch === undefined ? "HEAD" : `refs/heads/${request.branch}`]);
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
      await this.session.runOk(["update-ref", localRef, located.commit], "updating the cache for", { in: this.#place });
      return located.commit;
    }
    if (this.request.kind === "commit") return this.#fetchCommit(this.request.commit, this.request.branch);

    const fetched = await this.session.fetch(this.#place, ["--depth=1"], [`+${located.fetch}:${localRef}`]);
    if (fetched.code !== 0) throw this.session.failure(fetched, "fetching");
    const commit = await this.session.revParseCommit(this.#place, localRef, "reading the cache for");
    if (!commit) throw this.session.error("ref-not-found", `${located.fetch} in ${this.url} does not lead to a commit (${describeRequest(this.request)})`);
    return commit;
  }

  /**
   * Fetches a commit by SHA. Servers speaking protocol v2 allow that for any reachable commit;
   * older ones only for branch tips, so the fallback fetches the branch (or every branch) with
   * full history and looks for the commit there.
   */
  async #fetchCommit(commit: string, branch: string | undefined): Promise<string> {
    const { session } = this;
    const localRef = cacheRefFor(commit);
    const direct = await session.fetch(this.#place, ["--depth=1"], [`+${commit}:${localRef}`]);
    if (direct.code !== 0) {
      const { code } = classifyGitFailure(direct.stderr);
      if (code === "auth-failed" || code === "unreachable" || code === "host-key-mismatch") throw session.failure(direct, "fetching");
      const refspec = branch === undefined ? `+refs/heads/*:${CACHE_REFS}heads/*` : `+refs/heads/${branch}:${CACHE_REFS}heads/${branch}`;
      const shallow = await session.run(["rev-parse", "--is-shallow-repository"], "reading the cache for", { in: this.#place });
      const deepen = shallow.stdout.trim() === "true" ? ["--unshallow"] : [];
      const fallback = await session.fetch(this.#place, deepen, [refspec]);
      if (fallback.code !== 0) {
        if (classifyGitFailure(fallback.stderr).code !== "ref-not-found") throw session.failure(fallback, "fetching");
        throw session.error("commit-not-found", `commit ${commit} not found in ${this.url}: branch "${branch ?? ""}" does not exist`);
      }
      if (!(await this.#hasCommit(commit))) {
        const where = branch === undefined ? "any branch" : `branch "${branch}"`;
        throw session.error("commit-not-found", `commit ${commit} not found in ${this.url}: the server does not know it and it is not in the history of ${where}`);
      }
      await session.runOk(["update-ref", localRef, commit], "updating the cache for", { in: this.#place });
    }
    const found = await session.revParseCommit(this.#place, localRef, "reading the cache for");
    if (found !== commit) throw session.error("commit-not-found", `${commit} in ${this.url} is not a commit`);
    return commit;
  }

  async #describe(ref: string, commit: string): Promise<Revision> {
    const format = "%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%B";
    const log = await this.session.runOk(["log", "-1", "--no-show-signature", `--format=${format}`, commit, "--"], "reading the cache for", { in: this.#place });
    const [name = "", email = "", date = "", committerName = "", committerEmail = "", ...message] = log.split("\0");
    return {
      url: this.url,
      ref,
      commit,
      author: { name, email },
      committer: { name: committerName, email: committerEmail },
      date,
      message: message.join("\0").replace(/\n+$/, ""),
    };
  }

  async #hasCommit(commit: string): Promise<boolean> {
    return (await this.session.revParseCommit(this.#place, commit, "reading the cache for")) === commit;
  }

  async #refNotFound(request: Extract<RefRequest, { kind: "ref" }>): Promise<GitSourceError> {
    let seen = "";
    if (request.listing !== "none") {
      // Only on this error path: a second listing, to show what does exist.
      const { refs } = await this.session.lsRemote([request.listing === "branches" ? "--heads" : "--tags"]);
      const prefix = request.listing === "branches" ? "refs/heads/" : "refs/tags/";
      const names = [...refs.keys()].map((name) => name.slice(prefix.length)).sort();
      seen = names.length === 0 ? `; the repository has no ${request.listing}` : `; ${request.listing} seen: ${sampleList(names)}`;
    }
    return this.session.error("ref-not-found", `${request.label} not found in ${this.url}${seen}`);
  }

  #noSemverMatch(range: string, refs: RemoteRef[]): GitSourceError {
    const versions = semverTags(refs).map(({ tag }) => tag);
    const others = refs.filter((ref) => !versions.includes(ref.name.slice("refs/tags/".length))).map((ref) => ref.name.slice("refs/tags/".length));
    let seen: string;
    if (refs.length === 0) seen = "the repository has no tags";
    else if (versions.length === 0) seen = `no tag is a semantic version (tags seen: ${sampleList(others.sort())})`;
    else seen = `version tags seen: ${sampleList(versions)}${others.length > 0 ? ` (and ${others.length} other tags)` : ""}`;
    return this.session.error("no-semver-match", `no tag in ${this.url} matches semver range "${range}"; ${seen}`);
  }
}

/** The cache's own name for what was fetched: refs/heads/main -> refs/fjord/heads/main; a SHA -> refs/fjord/commits/<sha>. */
function cacheRefFor(fetched: string): string {
  if (fetched.startsWith("refs/")) return CACHE_REFS + fetched.slice("refs/".length);
  if (fetched === "HEAD") return `${CACHE_REFS}HEAD`;
  return `${CACHE_REFS}commits/${fetched}`;
}
