import { Command } from "commander";
import { GIT_REPOSITORY_KIND, type Application, type GitRepository } from "../api/types.ts";
import { GitSourceError } from "../git/errors.ts";
import { commitAndPush, GitPushError, isBranchName, type CommitAndPushOptions, type WorkTree } from "../git/push.ts";
import { splitCredentials } from "../git/redact.ts";
import { findAncestor, repositoryDirectory, restorePath, RestoreRefused, type AncestorCommit, type PathRestore } from "../git/restore-path.ts";
import type { HistoryEntry } from "../history/entry.ts";
import { parseRevision, shortCommit, type ParsedRevision } from "../history/revision.ts";
import { chooseTarget, followedBranch, rollbackBranch, rollbackMessage, RollbackRefused } from "../history/rollback-plan.ts";
import { loadHistory } from "../history/store.ts";
import type { KubeClient } from "../kube/client.ts";
import { KubeApiError } from "../kube/errors.ts";
import { isObjectName } from "../kube/names.ts";
import { watchUntil } from "../kube/watch-until.ts";
import { parseDuration } from "../util/duration.ts";
import { requestReconcile, waitForHandled } from "./app-reconcile.ts";
import { addNamespaceOption, APP, getObject, isReconciling, isStalled, objectPath, readyCondition, SOURCE, type NamespaceFlags } from "./app-resources.ts";
import { historyTable } from "./history-command.ts";
import { addKubeOptions, CliFailure, kubeClient, runCli, type KubeFlags } from "./kube-options.ts";
import { createProgress } from "./output.ts";
import { addGitCredentialOptions, authFromFlags, type GitCredentialFlags } from "./source.ts";
import { whoAmI } from "./whoami.ts";

/**
 * Exit codes: 0 rolled back and Ready (or nothing to change, or a dry run); 1 refused or bad input
 * (nothing pushed); 4 pushed, but the Application failed to apply it or did not within --timeout;
 * 5 Git failed (fetch, push); 7 the branch refused the push, which went to a new branch to merge.
 */
export const ROLLBACK_EXIT = { refused: 1, notApplied: 4, git: 5, protectedBranch: 7 } as const;

type RollbackFlags = KubeFlags & NamespaceFlags & GitCredentialFlags & { to?: string; dryRun?: boolean; timeout: string; gitTimeout: string; authorName: string; authorEmail: string };

export function rollbackCommand(): Command {
  const command = new Command("rollback")
    .description("roll an Application back: commit its path's content at an earlier revision to the source branch, wait until it runs, print the history entry")
    .argument("<app>", "Application name")
    .option("--to <revision>", "commit SHA (7 to 40 hex digits) or a revision from `fjord history` (main@sha1:<sha>); default: the last applied revision before the one running")
    .option("--dry-run", "print the change as a unified diff; commit and push nothing")
    .option("--timeout <duration>", "how long to wait for the Application to run the rollback", "5m")
    .option("--git-timeout <duration>", "timeout for the fetch, commit and push, retries included", "120s")
    .option("--author-name <name>", "commit author name", "fjord")
    .option("--author-email <email>", "commit author email", "fjord@users.noreply.fjord.dev");
  addNamespaceOption(command);
  addGitCredentialOptions(command);
  addKubeOptions(command);
  return command.action((name: string, flags: RollbackFlags) =>
    runCli(async () => {
      // A Kubernetes object name is the only APP a rollback branch and message may carry.
      if (!isObjectName(name)) throw new CliFailure(`"${name.slice(0, 100)}" is not an Application name`);
      const client = kubeClient(flags);
      try {
        return await rollback(client, name, flags);
      } catch (error) {
        throw asCliFailure(error);
      } finally {
        client.close();
      }
    }),
  );
}

function asCliFailure(error: unknown): unknown {
  if (error instanceof RollbackRefused || error instanceof RestoreRefused) return new CliFailure(`${error.message}; nothing was pushed`, ROLLBACK_EXIT.refused);
  // A path leaving the repository is a refusal, not a Git failure.
  if (error instanceof GitSourceError && error.code === "path-escape") return new CliFailure(`${error.message}; nothing was pushed`, ROLLBACK_EXIT.refused);
  if (error instanceof GitPushError || error instanceof GitSourceError) return new CliFailure(error.message, ROLLBACK_EXIT.git);
  return error;
}

/** Everything a rollback needs to know before touching Git. */
interface Plan {
  application: string;
  app: Application;
  source: GitRepository;
  branch: string;
  directory: string;
  running: ParsedRevision;
  wanted: string;
  actor: string;
}

async function plan(client: KubeClient, name: string, flags: RollbackFlags): Promise<Plan> {
  const application = `${flags.namespace}/${name}`;
  const app = await getObject<Application>(client, APP, flags.namespace, name);
  const { sourceRef } = app.spec;
  // The schema allows only GitRepository today; a stored object is still checked, not trusted.
  const sourceKind: string = sourceRef.kind;
  if (sourceKind !== GIT_REPOSITORY_KIND) throw new RollbackRefused(`Application ${application} reads from a ${sourceKind}, not a GitRepository`);
  const sourceNamespace = sourceRef.namespace ?? flags.namespace;
  const source = await getObject<GitRepository>(client, SOURCE, sourceNamespace, sourceRef.name);
  // A suspended Application or source would never run the commit: say so before pushing it.
  if (app.spec.suspend) throw new RollbackRefused(`Application ${application} is suspended; resume it first (fjord resume app ${name} -n ${flags.namespace})`);
  if (source.spec.suspend) throw new RollbackRefused(`GitRepository ${sourceNamespace}/${sourceRef.name} is suspended; resume it first (fjord resume source ${sourceRef.name} -n ${sourceNamespace})`);
  const branch = followedBranch({ name: source.metadata.name, namespace: sourceNamespace, ...(source.spec.ref ? { ref: source.spec.ref } : {}), ...(source.status?.artifact ? { artifactRevision: source.status.artifact.revision } : {}) });
  // A tenant writes the GitRepository: its branch reaches git only once it is a plain branch name.
  if (!isBranchName(branch)) throw new RollbackRefused(`GitRepository ${sourceNamespace}/${sourceRef.name} follows branch ${JSON.stringify(branch.slice(0, 100))}, which is not a valid branch name`);
  const directory = repositoryDirectory(app.spec.path);
  const running = parseRevision(app.status?.lastAppliedRevision ?? "");
  if (running === undefined) throw new RollbackRefused(`Application ${application} has not applied a revision yet, so there is nothing to roll back`);
  const wanted = chooseTarget({ ...(flags.to !== undefined ? { to: flags.to } : {}), entries: await loadHistory(client, flags.namespace, name), running, application });
  return { application, app, source, branch, directory, running, wanted, actor: await whoAmI(client) };
}

async function rollback(client: KubeClient, name: string, flags: RollbackFlags): Promise<number> {
  const planned = await plan(client, name, flags);
  const { application, branch, directory, running } = planned;
  const url = planned.source.spec.url;
  const shownUrl = splitCredentials(url).url;
  const auth = await authFromFlags(flags);

  let made: { target: AncestorCommit; restore: PathRestore } | undefined;
  const edit = async (_dir: string, workTree: WorkTree): Promise<string[]> => {
    const target = await findAncestor(workTree, planned.wanted, branch);
    if (target.commit === running.commit) throw new RollbackRefused(`${shortCommit(target.commit)} is what Application ${application} runs now; nothing to roll back`);
    const restore = await restorePath(workTree, directory, target.commit);
    made = { target, restore };
    return restore.changedFiles;
  };
  const push = (extra: Partial<CommitAndPushOptions>) =>
    commitAndPush({
      url,
      // The URL comes from the GitRepository, which a tenant writes: never a local path of this machine.
      allowLocal: false,
      branch,
      ...(auth ? { auth } : {}),
      author: { name: flags.authorName, email: flags.authorEmail },
      message: () => rollbackMessage({ application, directory, target: made?.target ?? { commit: planned.wanted, subject: "" }, undone: made?.restore.undone ?? [], undoneOmitted: made?.restore.undoneOmitted ?? 0, actor: planned.actor }),
      edit,
      timeoutMs: parseDuration(flags.gitTimeout),
      progress: (message) => process.stderr.write(`${message}\n`),
      ...extra,
    });
  const where = directory === "." ? "the repository" : `${directory}/`;
  const describeTarget = () => (made ? `${shortCommit(made.target.commit)} ("${made.target.subject.slice(0, 80)}")` : planned.wanted);
  const outsideNote = () => {
    const outside = made?.restore.changedOutside ?? [];
    if (outside.length === 0 || directory === ".") return;
    const listed = outside.slice(0, 5).join(", ");
    process.stderr.write(`note: files outside ${where} changed since ${shortCommit(made?.target.commit ?? "")} and stay as they are: ${listed}${outside.length > 5 ? `, and ${outside.length - 5} more` : ""}\n`);
  };

  if (flags.dryRun) {
    const result = await push({ dryRun: true });
    process.stdout.write(made?.restore.diff ?? "");
    outsideNote();
    process.stderr.write(
      result.changedFiles.length === 0
        ? `nothing to change: ${where} on ${branch} already holds its content at ${describeTarget()}\n`
        : `dry run: would roll back Application ${application} to ${describeTarget()}: ${result.changedFiles.length} file(s) under ${where} on ${branch} of ${shownUrl}, undoing ${made?.restore.undone.length ?? 0} commit(s); nothing was committed or pushed\n`,
    );
    return 0;
  }

  let result;
  try {
    result = await push({});
  } catch (error) {
    if (!(error instanceof GitPushError && error.code === "push-rejected")) throw error;
    return pushToRollbackBranch(push, error, { application, app: name, branch, shownUrl, target: made?.target.commit ?? planned.wanted });
  }
  if (result.commit === undefined) {
    process.stdout.write(`nothing to change: ${where} on ${branch} already holds its content at ${describeTarget()}\n`);
    return 0;
  }
  outsideNote();
  const target = made?.target.commit ?? planned.wanted;
  process.stdout.write(`pushed ${result.commit} to ${branch} of ${shownUrl}: roll back Application ${application} to ${describeTarget()}\n`);
  return converge(client, planned, result.commit, `${branch}@sha1:${target}`, parseDuration(flags.timeout));
}

/** The branch refused the push (protection, a hook): the same change goes to a branch of its own, for someone to merge. */
async function pushToRollbackBranch(
  push: (extra: Partial<CommitAndPushOptions>) => ReturnType<typeof commitAndPush>,
  refusal: GitPushError,
  facts: { application: string; app: string; branch: string; shownUrl: string; target: string },
): Promise<number> {
  const pushBranch = rollbackBranch(facts.app, facts.target);
  const result = await push({ pushBranch });
  const said = refusal.remoteMessage ? ` (the remote said: ${refusal.remoteMessage.split("\n").join(" / ").slice(0, 300)})` : "";
  const pushed = result.commit === undefined ? `branch ${pushBranch} already holds this rollback` : `pushed ${result.commit} to branch ${pushBranch}`;
  process.stdout.write(`${facts.branch} is protected${said}: ${pushed} of ${facts.shownUrl}; merge it to roll back Application ${facts.application}\n`);
  return ROLLBACK_EXIT.protectedBranch;
}

/**
 * After the push: the source fetches now, the Application is asked to reconcile with the
 * rollback recorded (who, which revision), and the command waits until it runs the pushed commit
 * and is Ready, or fails. Then the history entries the rollback added are printed.
 */
async function converge(client: KubeClient, planned: Plan, commit: string, target: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const { application, app } = planned;
  const namespace = app.metadata.namespace ?? "";
  const name = app.metadata.name ?? "";
  const sourceNamespace = planned.source.metadata.namespace;
  try {
    const requested = await requestReconcile(client, SOURCE, sourceNamespace, planned.source.metadata.name, { action: "reconcile" });
    await waitForHandled(client, SOURCE, sourceNamespace, planned.source.metadata.name, requested, Math.max(1000, deadline - Date.now()));
  } catch (error) {
    // Not allowed to poke the source: it fetches at its interval; the wait below still holds.
    if (!(error instanceof KubeApiError && error.statusCode === 403)) throw error;
    process.stderr.write(`note: not allowed to ask GitRepository ${sourceNamespace}/${planned.source.metadata.name} to fetch now; waiting for its interval\n`);
  }
  const requestedAt = await requestReconcile(client, APP, namespace, name, { action: "rollback", target });
  const outcome = await waitForCommit(client, namespace, name, commit, deadline);
  const entries = await newEntries(client, namespace, name, commit, requestedAt, deadline);
  if (entries.length > 0) process.stdout.write(historyTable(entries));
  if (outcome.kind === "ready") {
    process.stdout.write(`Application ${application} runs ${outcome.revision} and is Ready\n`);
    return 0;
  }
  throw new CliFailure(
    outcome.kind === "failed"
      ? `Application ${application} did not apply the rollback commit ${shortCommit(commit)}: ${outcome.reason}: ${outcome.message}${outcome.stalled ? " (stalled: fix the content and push, or roll back to another revision)" : " (retrying with backoff)"}`
      : `Application ${application} did not run the rollback commit ${shortCommit(commit)} within ${timeoutMs / 1000}s (it runs ${outcome.revision || "nothing yet"}); the commit is pushed, check fjord get apps -n ${namespace}`,
    ROLLBACK_EXIT.notApplied,
  );
}

type Outcome = { kind: "ready"; revision: string } | { kind: "failed"; reason: string; message: string; stalled: boolean } | { kind: "timeout"; revision: string };

/** Watches the Application until it runs `commit` and is Ready, or its attempt at `commit` failed. */
async function waitForCommit(client: KubeClient, namespace: string, name: string, commit: string, deadline: number): Promise<Outcome> {
  const progress = createProgress(true);
  progress.update(`waiting for Application ${namespace}/${name} to run ${shortCommit(commit)}`);
  const signal = AbortSignal.timeout(Math.max(1000, deadline - Date.now()));
  let outcome: Outcome | undefined;
  let last = "";
  try {
    await watchUntil(client, { path: objectPath(APP, namespace), fieldSelector: `metadata.name=${name}`, signal }, (objects) => {
      const object = objects.get(`${namespace}/${name}`) as Application | undefined;
      if (!object || isReconciling(object)) return false;
      const ready = readyCondition(object);
      last = object.status?.lastAppliedRevision ?? "";
      if (parseRevision(last)?.commit === commit && ready?.status === "True") outcome = { kind: "ready", revision: last };
      else if (parseRevision(object.status?.lastAttemptedRevision ?? "")?.commit === commit && ready?.status === "False") {
        outcome = { kind: "failed", reason: ready.reason, message: ready.message, stalled: isStalled(object) };
      }
      return outcome !== undefined;
    });
  } catch (error) {
    if (!signal.aborted) throw error;
  } finally {
    progress.stop();
  }
  return outcome ?? { kind: "timeout", revision: last };
}

/**
 * The entries this rollback added: its own request and the sync of the pushed commit. The
 * controller writes them just after the status, so they are read again briefly until both show.
 */
async function newEntries(client: KubeClient, namespace: string, name: string, commit: string, requestedAt: string, deadline: number): Promise<HistoryEntry[]> {
  const ours = (entry: HistoryEntry) => (entry.action === "rollback" && entry.startedAt === requestedAt) || (entry.action === "sync" && parseRevision(entry.revision)?.commit === commit);
  const until = Math.min(deadline, Date.now() + 10_000);
  for (;;) {
    const entries = (await loadHistory(client, namespace, name)).filter(ours);
    if (entries.length >= 2 || Date.now() > until) return entries;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
