import { mkdir, realpath, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { makePrivateTempDir } from "../util/private-temp.ts";
import { confinedPath } from "./confined-path.ts";
import { GitPushError, GitSourceError, stderrSummary, type GitPushErrorCode, type GitSourceErrorCode } from "./errors.ts";
import type { GitResult } from "./git-process.ts";
import { GitSession, remoteTarget, type CommandOptions } from "./session.ts";
import type { GitAuth } from "./types.ts";

export { GitPushError, type GitPushErrorCode } from "./errors.ts";

const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_MAX_ATTEMPTS = 5;
/** Where the fetched branch tip is kept while working; in a user's clone it is deleted afterwards. */
const BASE_REF = "refs/fjord/push-base";
/** Where WorkTree.fetch keeps what an edit fetched, likewise. */
const EDIT_REF = "refs/fjord/push-edit";

export interface CommitAndPushOptions {
  url: string;
  /** Also file:// URLs and local paths (the CLI); off by default, as for GitSourceOptions. */
  allowLocal?: boolean;
  branch: string;
  auth?: GitAuth;
  author: { name: string; email: string };
  message: string | ((changedFiles: string[]) => string);
  /**
   * Given a fresh checkout of the branch tip, changes files; returns the repo-relative paths it
   * changed (empty: nothing to commit). Called again on the new tip after a lost race. Edits that
   * are tree operations rather than text edits (a revert of an earlier commit) use `workTree`.
   */
  edit: (workdir: string, workTree: WorkTree) => Promise<string[]>;
  /** Attempts in all, the first included (default 5). */
  maxAttempts?: number;
  /** Budget for the whole operation, every attempt included (default 120 000). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * An existing local clone to work in (set-image --workdir) instead of a fresh shallow one. Its
   * tracked files must be clean; it ends with the push branch checked out at the pushed commit.
   */
  workdir?: string;
  /** Push to another branch than the checkout branch (Flux's push.branch). */
  pushBranch?: string;
  /** Human-readable progress, e.g. a lost race and the retry that follows. */
  progress?: (message: string) => void;
  /**
   * When neither branch exists on the remote (an empty repository, or one without that branch),
   * start the push branch with a first commit holding only what the edit writes, as `flux
   * bootstrap` does. Off by default, so that automation pointed at a misspelt or deleted branch
   * fails with ref-not-found instead of pushing an unrelated history. Not with workdir.
   */
  createBranch?: boolean;
  /**
   * Runs the edit on the branch tip and stages what it changed, then stops: nothing is committed
   * or pushed, and the result's changedFiles lists what would be (a `--dry-run` that sees the
   * very tree a push would start from). Not with workdir, whose index it would leave changed.
   */
  dryRun?: boolean;
}

export interface CommitAndPushResult {
  /** The pushed commit; absent when the edit changed nothing. */
  commit?: string;
  attempts: number;
  changedFiles: string[];
  /** True when the push created the branch (createBranch); absent otherwise. */
  createdBranch?: true;
}

/**
 * git in the clone an edit works on, within the operation's deadline, AbortSignal and isolated
 * environment: what an edit needs beyond writing files, such as reverting an earlier commit.
 */
export interface WorkTree {
  /** The clone's directory (the edit's first argument). */
  readonly dir: string;
  /** Runs git in the clone (`revert --no-commit <sha>`, `diff --cached --name-only`); a failure throws GitPushError. Returns standard output. */
  git(args: readonly string[]): Promise<string>;
  /**
   * Fetches a commit (a SHA, or a ref of the remote) with `depth` commits of history, since the
   * clone holds only the branch tip: a revert needs the commit and its parent (depth 2). Returns the commit's SHA.
   */
  fetch(revision: string, depth?: number): Promise<string>;
}

/** How one push ended, read from `git push --porcelain` and git's stderr. */
export type PushOutcome =
  | { kind: "pushed" }
  /** Someone else moved the branch between our fetch and our push: fetch again and redo the edit. */
  | { kind: "race"; reason: string }
  | { kind: "rejected"; reason: string; remoteMessage: string }
  | { kind: "failed" };

// A server-side race (two pushes passing the client's check at once) surfaces as a failed ref
// update naming the value the server expected; those are retried like a client-side rejection.
const CLIENT_RACE = /^(fetch first|non-fast-forward|stale info|already exists)$/;
const SERVER_RACE = /cannot lock ref|is at [0-9a-f]+ but expected|incorrect old value|reference already exists/i;

/** Classifies a finished `git push --porcelain` for one ref. Pure, for testing against git's real output. */
export function classifyPush(result: Pick<GitResult, "code" | "stdout" | "stderr">): PushOutcome {
  const line = result.stdout.split("\n").find((candidate) => /^[ +\-*!=]\t/.test(candidate));
  const remoteMessage = remoteLines(result.stderr).join("\n");
  if (line === undefined) return result.code === 0 ? { kind: "pushed" } : { kind: "failed" };
  const [flag = "", , summary = ""] = line.split("\t");
  if (flag !== "!") return { kind: "pushed" };
  const reason = /\(([^)]*)\)\s*$/.exec(summary)?.[1]?.trim() ?? summary.trim();
  if (summary.startsWith("[rejected]") && CLIENT_RACE.test(reason)) return { kind: "race", reason };
  if (summary.startsWith("[remote rejected]") && /failed to (update|lock) ref/i.test(reason) && SERVER_RACE.test(result.stderr)) {
    return { kind: "race", reason };
  }
  return { kind: "rejected", reason, remoteMessage };
}

const ESC = String.fromCharCode(27);

/** Hooks colour their messages for terminals; the codes would garble a log or a status field. */
function withoutTerminalCodes(text: string): string {
  const [first = "", ...rest] = text.split(ESC);
  return first + rest.map((part) => part.replace(/^\[[0-9;]*[A-Za-z]/, "")).join("");
}

function remoteLines(stderr: string): string[] {
  return stderr
    .split(/\r?\n|\r/)
    .filter((line) => line.startsWith("remote:"))
    .map((line) => withoutTerminalCodes(line.slice("remote:".length)).trim())
    .filter((line) => line !== "" && !/^(Counting|Compressing|Enumerating|Total|Resolving|Processing)\b/.test(line));
}

/**
 * Commits what `edit` changes on top of the branch tip and pushes it, never forcing: when
 * another push wins the race, the tip is fetched again, the edit re-run on it and the push
 * retried, a bounded number of times with a short backoff. Only the files `edit` reports are
 * committed. git runs in a GitSession: fjord's isolated environment (credentials through the
 * environment, never on a command line), one deadline for every attempt, and `signal`.
 */
export async function commitAndPush(options: CommitAndPushOptions): Promise<CommitAndPushResult> {
  const target = remoteTarget(options.url, options.allowLocal === true);
  const { url } = target;
  const pushBranch = options.pushBranch ?? options.branch;
  if (target.problem) throw new GitPushError(target.problem.code, target.problem.message, url, pushBranch, 0);
  for (const name of new Set([options.branch, pushBranch])) {
    if (!isBranchName(name)) throw new GitPushError("invalid-ref", `"${name}" is not a valid branch name`, url, pushBranch, 0);
  }
  if (options.createBranch && options.workdir !== undefined) {
    // Starting a branch from nothing empties the work tree, which a caller's clone must never suffer.
    throw new GitPushError("workdir-unusable", "createBranch needs a fresh clone; it cannot be combined with workdir", url, pushBranch, 0);
  }
  if (options.dryRun && options.workdir !== undefined) {
    throw new GitPushError("workdir-unusable", "dryRun works in a fresh clone; it cannot be combined with workdir", url, pushBranch, 0);
  }
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS));
  const sessionOptions = {
    ...(options.auth ? { auth: options.auth } : {}),
    allowLocal: options.allowLocal === true,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  let push: Push | undefined;
  const voice = {
    what: `branch "${pushBranch}"`,
    // Errors carry the attempt they happened in.
    error: (code: GitSourceErrorCode, message: string) => new GitPushError(code, message, url, pushBranch, push?.attempt ?? 0),
  };
  const scratch = await makePrivateTempDir("push");
  try {
    return await GitSession.use(target, sessionOptions, voice, (session) => {
      push = new Push(session, options, pushBranch, scratch);
      return push.run(maxAttempts);
    });
  } finally {
    await rm(scratch, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** git's own rules (check-ref-format), minus the rarely used corners, plus no leading dash. */
export function isBranchName(name: string): boolean {
  return (
    name !== "" &&
    !name.startsWith("-") &&
    !name.startsWith("/") &&
    !name.endsWith("/") &&
    !name.endsWith(".") &&
    !name.endsWith(".lock") &&
    !name.includes("..") &&
    !name.includes("//") &&
    !name.includes("@{") &&
    !name.split("/").some((part) => part.startsWith(".")) &&
    ![...name].some((char) => char.charCodeAt(0) <= 0x20 || char.charCodeAt(0) === 0x7f) &&
    !/[~^:?*[\\]/.test(name)
  );
}

/** One commitAndPush: its attempts, in a fresh scratch clone or the caller's own. */
class Push {
  attempt = 0;
  #repo = "";
  /** Whether the repository is the caller's clone, which must be left as intact as possible. */
  readonly #userClone: boolean;

  constructor(
    readonly session: GitSession<GitPushError>,
    readonly options: CommitAndPushOptions,
    readonly pushBranch: string,
    readonly scratch: string,
  ) {
    this.#userClone = options.workdir !== undefined;
  }

  async run(maxAttempts: number): Promise<CommitAndPushResult> {
    this.#repo = this.#userClone ? await this.#openWorkdir(this.options.workdir ?? ".") : await this.#initScratch();
    try {
      for (;;) {
        this.attempt += 1;
        const outcome = await this.#attemptOnce();
        if ("result" in outcome) return outcome.result;
        if (this.attempt >= maxAttempts) {
          throw this.#error(
            "push-conflict",
            `could not push to ${this.#where()}: the branch kept moving (${outcome.reason}) through ${this.attempt} attempts; nothing was forced, try again`,
          );
        }
        this.options.progress?.(`${this.#where()} moved while pushing (${outcome.reason}); fetching it and editing again (attempt ${this.attempt + 1} of ${maxAttempts})`);
        await this.#backoff();
      }
    } finally {
      if (this.#userClone) {
        for (const ref of [BASE_REF, EDIT_REF]) await this.session.tidy(["update-ref", "-d", ref], { cwd: this.#repo });
      }
    }
  }

  async #attemptOnce(): Promise<{ result: CommitAndPushResult } | { reason: string }> {
    const base = await this.#fetchBase();
    if (base === undefined) {
      await this.#startUnbornBranch();
    } else {
      if (this.#userClone && this.attempt === 1) await this.#refuseLosingLocalCommits(base);
      await this.#gitOk(["checkout", "--quiet", "--force", "--no-recurse-submodules", "-B", this.pushBranch, base], "checking out");
    }

    this.session.throwIfAborted("pushing to");
    const reported = await this.options.edit(this.#repo, this.#workTree());
    this.session.throwIfAborted("pushing to");
    const claimed = await this.#normalizePaths(reported);
    if (claimed.length === 0) return { result: { attempts: this.attempt, changedFiles: [] } };

    // -A also stages deletions; only the paths the edit named are staged, nothing else it left behind.
    await this.#gitOk(["--literal-pathspecs", "add", "-A", "--", ...claimed], "staging");
    const staged = (await this.#gitOk(["diff", "--cached", "--name-only", "-z", "--no-renames"], "staging")).split("\0").filter(Boolean);
    if (staged.length === 0) return { result: { attempts: this.attempt, changedFiles: [] } };
    if (this.options.dryRun) return { result: { attempts: this.attempt, changedFiles: staged } };

    const message = typeof this.options.message === "function" ? this.options.message(staged) : this.options.message;
    const messageFile = path.join(this.scratch, "message");
    await writeFile(messageFile, message.endsWith("\n") ? message : `${message}\n`);
    const { name, email } = this.options.author;
    const identity = { GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email };
    // Local hooks and signing belong to people committing by hand; an automated commit must not depend on them.
    await this.#gitOk(["commit", "--quiet", "--no-verify", "--no-gpg-sign", "--cleanup=strip", "-F", messageFile], "committing", { env: identity });
    const commit = (await this.#gitOk(["rev-parse", "--verify", "HEAD^{commit}"], "committing")).trim();

    this.session.throwIfAborted("pushing to");
    // Not forced even when creating the branch: if another push created it meanwhile, ours is
    // rejected as a race and the next attempt builds on theirs.
    const pushed = await this.#git(["push", "--porcelain", "--no-verify", "--", this.session.url, `${commit}:refs/heads/${this.pushBranch}`], "pushing to");
    const outcome = classifyPush(pushed);
    switch (outcome.kind) {
      case "pushed":
        return { result: { commit, attempts: this.attempt, changedFiles: staged, ...(base === undefined ? { createdBranch: true as const } : {}) } };
      case "race":
        return { reason: outcome.reason };
      case "rejected": {
        const said = outcome.remoteMessage ? `: ${outcome.remoteMessage.split("\n").join(" / ")}` : "";
        throw this.#error("push-rejected", `the remote rejected the push to ${this.#where()} (${outcome.reason})${said}`, `${outcome.reason}${outcome.remoteMessage ? `\n${outcome.remoteMessage}` : ""}`);
      }
      case "failed":
        throw this.session.failure(pushed, "pushing to");
    }
  }

  /**
   * Fetches the tip to build on: the push branch when it already exists (so updates accumulate
   * there, as in Flux), else the checkout branch; undefined when neither exists and createBranch allows starting one.
   */
  async #fetchBase(): Promise<string | undefined> {
    const { branch } = this.options;
    const wanted = [...new Set([this.pushBranch, branch])].map((name) => `refs/heads/${name}`);
    const { refs } = await this.session.lsRemote([], wanted);
    const source = wanted.find((ref) => refs.has(ref));
    if (source === undefined) {
      if (this.options.createBranch) return undefined;
      throw this.session.error("ref-not-found", `branch "${branch}" not found in ${this.session.url}; is the repository empty?`);
    }
    // A user's clone keeps its full history: --depth there would make it shallow.
    const depth = this.#userClone ? [] : ["--depth=1"];
    const fetched = await this.session.fetch({ cwd: this.#repo }, depth, [`+${source}:${BASE_REF}`]);
    if (fetched.code !== 0) throw this.session.failure(fetched, "fetching");
    const base = await this.session.revParseCommit({ cwd: this.#repo }, BASE_REF, "fetching");
    if (base === undefined) throw this.session.error("ref-not-found", `${source} in ${this.session.url} does not lead to a commit`);
    return base;
  }

  /**
   * Puts the scratch repository on an unborn push branch with an empty index and work tree, so
   * the commit that follows is a root commit. A previous attempt may have left its own commit
   * and files behind; both go.
   */
  async #startUnbornBranch(): Promise<void> {
    const ref = `refs/heads/${this.pushBranch}`;
    await this.#gitOk(["symbolic-ref", "HEAD", ref], "starting");
    await this.#gitOk(["update-ref", "-d", ref], "starting");
    await this.#gitOk(["read-tree", "--empty"], "starting");
    await this.#gitOk(["clean", "-ffdxq"], "starting");
  }

  async #initScratch(): Promise<string> {
    const repo = path.join(this.scratch, "repo");
    await mkdir(repo);
    await this.session.runOk(["init", "--quiet", "--template=", repo], "preparing a clone of", { in: { cwd: this.scratch } });
    return realpath(repo);
  }

  async #openWorkdir(workdir: string): Promise<string> {
    const resolved = path.resolve(workdir);
    const top = await this.session.run(["rev-parse", "--show-toplevel"], "opening the clone for", { in: { cwd: resolved } });
    if (top.code !== 0) {
      throw this.#error("workdir-unusable", `${resolved} is not a Git work tree: ${stderrSummary(top.stderr) || `exit code ${top.code}`}`);
    }
    const repo = top.stdout.trim();
    const dirty = await this.session.runOk(["status", "--porcelain", "--untracked-files=no", "--ignore-submodules"], "opening the clone for", { in: { cwd: repo } });
    if (dirty.trim() !== "") {
      const files = dirty.split("\n").filter(Boolean).map((line) => line.slice(3));
      throw this.#error("workdir-unusable", `${repo} has uncommitted changes (${files.slice(0, 5).join(", ")}${files.length > 5 ? ", ..." : ""}); commit or stash them first`);
    }
    return repo;
  }

  /** The local branch is moved to the remote tip; commits only it holds would be dropped from it. */
  async #refuseLosingLocalCommits(base: string): Promise<void> {
    const head = await this.session.revParseCommit({ cwd: this.#repo }, `refs/heads/${this.pushBranch}`, "opening the clone for");
    if (head === undefined) return;
    const ancestor = await this.#git(["merge-base", "--is-ancestor", head, base], "opening the clone for");
    if (ancestor.code === 1) {
      throw this.#error("workdir-unusable", `local branch "${this.pushBranch}" in ${this.#repo} has commits that are not on ${this.#where()}; push or reset them first`);
    }
    if (ancestor.code !== 0) throw this.session.failure(ancestor, "opening the clone for");
  }

  async #normalizePaths(paths: readonly string[]): Promise<string[]> {
    const result = new Set<string>();
    for (const reported of paths) {
      const relative = path.posix.normalize(reported.replace(/\\/g, "/")).replace(/^(\.\/)+/, "");
      try {
        await confinedPath(this.#repo, relative);
      } catch (error) {
        if (error instanceof GitSourceError) throw this.#error("path-escape", `the edit reported ${error.message}`);
        throw error;
      }
      if (relative === "." || relative === ".git" || relative.startsWith(".git/")) {
        throw this.#error("path-escape", `the edit reported "${reported}", which is not a file of the repository`);
      }
      result.add(relative);
    }
    return [...result].sort();
  }

  /** What the edit may do with git in the clone, within this operation. */
  #workTree(): WorkTree {
    const place = { cwd: this.#repo };
    return {
      dir: this.#repo,
      git: (args) => this.session.runOk(args, "editing", { in: place }),
      fetch: async (revision, depth = 1) => {
        // As for the base: a user's clone keeps its full history.
        const options = this.#userClone ? [] : [`--depth=${Math.max(1, Math.floor(depth))}`];
        const fetched = await this.session.fetch(place, options, [`+${revision}:${EDIT_REF}`]);
        if (fetched.code !== 0) throw this.session.failure(fetched, "fetching");
        const commit = await this.session.revParseCommit(place, EDIT_REF, "fetching");
        if (commit === undefined) throw this.session.error("commit-not-found", `${revision} in ${this.session.url} is not a commit`);
        return commit;
      },
    };
  }

  async #backoff(): Promise<void> {
    // Short and jittered: concurrent pipelines that lost together should not collide again.
    const ceiling = Math.min(2000, 150 * 2 ** (this.attempt - 1));
    await this.session.pause(Math.floor(ceiling / 2 + Math.random() * ceiling), "pushing to");
  }

  #where(): string {
    return `branch "${this.pushBranch}" of ${this.session.url}`;
  }

  #git(args: string[], activity: string, options: Omit<CommandOptions, "in"> = {}): Promise<GitResult> {
    return this.session.run(args, activity, { ...options, in: { cwd: this.#repo } });
  }

  #gitOk(args: string[], activity: string, options: Omit<CommandOptions, "in"> = {}): Promise<string> {
    return this.session.runOk(args, activity, { ...options, in: { cwd: this.#repo } });
  }

  /** Push's own errors; like the session's, redacted whatever the remote said. */
  #error(code: GitPushErrorCode, message: string, remoteMessage?: string): GitPushError {
    return new GitPushError(code, this.session.redact(message), this.session.url, this.pushBranch, this.attempt, remoteMessage === undefined ? undefined : this.session.redact(remoteMessage));
  }
}
