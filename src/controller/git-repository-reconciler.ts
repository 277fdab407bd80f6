import { formatTime, removeCondition, setCondition } from "../api/conditions.ts";
import { fjordResourcePath } from "../api/paths.ts";
import {
  API_VERSION,
  ConditionReason,
  ConditionType,
  GIT_REPOSITORY_KIND,
  GIT_REPOSITORY_RESOURCE,
  type Artifact,
  type GitRepository,
  type GitRepositoryStatus,
} from "../api/types.ts";
import { isGitCancellation, resolveRevision, type Revision } from "../git/index.ts";
import { splitCredentials } from "../git/redact.ts";
import { remoteUrlProblem } from "../git/remote-url.ts";
import type { KubeClient } from "../kube/client.ts";
import { parseDuration } from "../util/duration.ts";
import { handledRequest } from "../api/reconcile-request.ts";
import type { EventRecorder } from "./events.ts";
import { artifactIdentity, sourceIgnoreProblem } from "./source-ignore.ts";
import { loadGitAuth } from "./source-credentials.ts";
import { patchStatus } from "./runtime/status-patch.ts";
import { reportOf, type ReconcileResultKind } from "./runtime/report.ts";
import type { ReconcileOutcome } from "./runtime/reconciler.ts";

export interface GitRepositoryReconcileOptions {
  cacheDir?: string;
  now?: () => Date;
  events?: EventRecorder;
  signal?: AbortSignal;
  /** Told how long the fetch alone took (the fetch histogram), not the whole reconcile. */
  onFetch?: (result: "success" | "failure", seconds: number) => void;
}

export interface GitRepositoryOutcome extends ReconcileOutcome {
  /** The object as written, when the status changed; undefined when nothing was written. */
  written?: GitRepository;
}

/** Flux's revision format: `main@sha1:<sha>`, `v1.2.0@sha1:<sha>`, or `sha1:<sha>` for a bare commit. */
export function artifactRevision(revision: Pick<Revision, "ref" | "commit">): string {
  const name = revision.ref === revision.commit ? "" : revision.ref.replace(/^refs\/(heads|tags)\//, "");
  return name ? `${name}@sha1:${revision.commit}` : `sha1:${revision.commit}`;
}

function artifactOf(revision: Revision, now: Date, ignore: string | undefined): Artifact {
  return {
    revision: artifactRevision(revision),
    commit: revision.commit,
    author: `${revision.author.name} <${revision.author.email}>`,
    ...(revision.committer ? { committer: `${revision.committer.name} <${revision.committer.email}>` } : {}),
    date: revision.date,
    message: revision.message,
    lastUpdateTime: formatTime(now),
    ...(ignore !== undefined ? { ignore } : {}),
  };
}

function objectPath(repository: GitRepository): string {
  return fjordResourcePath(GIT_REPOSITORY_RESOURCE, repository.metadata.namespace, repository.metadata.name);
}

/**
 * One reconcile of a GitRepository: resolve its ref to a commit on the remote (through the
 * local cache) and record it as the artifact, with the ignore rules its trees are made with. A
 * failure never clears the last good artifact, so Applications keep running what they had; the
 * Ready condition says what went wrong. When `signal` fires (the controller stops), git is killed
 * and the reconcile rejects without writing status: nothing failed.
 */
export async function reconcileGitRepository(client: KubeClient, repository: GitRepository, options: GitRepositoryReconcileOptions = {}): Promise<GitRepositoryOutcome> {
  const now = options.now ?? (() => new Date());
  const { generation, name, namespace, uid } = repository.metadata;
  const status: GitRepositoryStatus = { ...repository.status };
  const subject = { apiVersion: API_VERSION, kind: GIT_REPOSITORY_KIND, name, namespace, ...(uid ? { uid } : {}) };
  const previousReady = status.conditions?.find((condition) => condition.type === ConditionType.Ready);
  const wasReady = previousReady?.status === "True";
  // The status is computed once and written once, at the end, and only when it differs.
  const finish = async (next: GitRepositoryStatus, result: ReconcileResultKind, reason: string, message: string, extra: Partial<GitRepositoryOutcome> = {}, error?: Error): Promise<GitRepositoryOutcome> => {
    const written = await patchStatus<GitRepository>(client, objectPath(repository), repository.status, { ...next, ...handledRequest(repository) });
    const revision = next.artifact?.revision;
    const report = reportOf({
      object: { kind: GIT_REPOSITORY_KIND, namespace, name, ...(uid ? { uid } : {}) },
      result,
      reason,
      message,
      ...(revision ? { revision } : {}),
      ...(status.artifact?.revision ? { previousRevision: status.artifact.revision } : {}),
      ready: result === "success" || (result === "idle" && wasReady),
      previousReady: wasReady,
      ...(error ? { error } : {}),
    });
    return { report, ...extra, ...(written ? { written } : {}) };
  };

  if (repository.spec.suspend) {
    return finish({ ...status, conditions: removeCondition(status.conditions, ConditionType.Reconciling) }, "idle", ConditionReason.Suspended, "suspended");
  }

  // Bad input a retry cannot fix: stalled until the spec changes; the last artifact stays.
  const stall = async (reason: string, message: string): Promise<GitRepositoryOutcome> => {
    let conditions = setCondition(status.conditions, { type: ConditionType.Ready, status: "False", reason, message }, generation, now());
    conditions = setCondition(removeCondition(conditions, ConditionType.Reconciling), { type: ConditionType.Stalled, status: "True", reason, message }, generation, now());
    const outcome = await finish({ ...status, observedGeneration: generation, conditions }, "stalled", reason, message, {}, new Error(message));
    if (previousReady?.status !== "False" || previousReady.message !== message) await options.events?.record(subject, "Warning", reason, message);
    return outcome;
  };

  // The CRD refuses such URLs; an object stored under an older CRD still must not read the controller's disk.
  const urlProblem = remoteUrlProblem(splitCredentials(repository.spec.url).url);
  if (urlProblem !== undefined) return stall(ConditionReason.URLInvalid, `spec.url: ${urlProblem}`);
  const { ignore } = repository.spec;
  // Rules already recorded with the artifact were checked when they were recorded.
  const ignoreProblem = ignore === status.artifact?.ignore ? undefined : sourceIgnoreProblem(ignore);
  if (ignoreProblem !== undefined) return stall(ConditionReason.IgnoreInvalid, ignoreProblem);

  const intervalMs = parseDuration(repository.spec.interval);
  let fetchStarted: bigint | undefined;
  try {
    const auth = repository.spec.secretRef ? await loadGitAuth(client, repository.metadata.namespace, repository.spec.secretRef.name) : undefined;
    fetchStarted = process.hrtime.bigint();
    const revision = await resolveRevision({
      url: repository.spec.url,
      ...(repository.spec.ref ? { ref: repository.spec.ref } : {}),
      ...(auth ? { auth } : {}),
      timeoutMs: parseDuration(repository.spec.timeout),
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    options.onFetch?.("success", Number(process.hrtime.bigint() - fetchStarted) / 1e9);
    const artifact = artifactOf(revision, now(), ignore);
    const message = `stored artifact for revision '${artifact.revision}'`;
    let conditions = setCondition(status.conditions, { type: ConditionType.Ready, status: "True", reason: ConditionReason.ReconciliationSucceeded, message }, generation, now());
    conditions = removeCondition(removeCondition(conditions, ConditionType.Reconciling), ConditionType.Stalled);
    // Keep lastUpdateTime when neither the commit nor the ignore rules changed, so the status only moves when they do.
    const unchanged = artifactIdentity(status.artifact) === artifactIdentity(artifact);
    // A new artifact replaces the stored one whole: the status patch deletes rules no longer set.
    const recorded = unchanged && status.artifact ? status.artifact : artifact;
    const outcome = await finish({ observedGeneration: generation, conditions, artifact: recorded }, "success", ConditionReason.ReconciliationSucceeded, message, { intervalMs });
    if (!unchanged) {
      const subjectLine = artifact.message.split("\n")[0] ?? "";
      const what = status.artifact?.revision === artifact.revision ? `artifact for revision '${artifact.revision}' with the new spec.ignore` : `artifact for commit '${subjectLine}' (${artifact.revision}) by ${artifact.author}`;
      await options.events?.record(subject, "Normal", "NewArtifact", `stored ${what}`);
    } else if (previousReady?.status === "False") {
      await options.events?.record(subject, "Normal", ConditionReason.ReconciliationSucceeded, `fetching works again; artifact ${artifact.revision}`);
    }
    return outcome;
  } catch (error) {
    if (isGitCancellation(error)) throw error;
    if (fetchStarted !== undefined) options.onFetch?.("failure", Number(process.hrtime.bigint() - fetchStarted) / 1e9);
    const cause = error instanceof Error ? error : new Error(String(error));
    const message = cause.message;
    let conditions = setCondition(status.conditions, { type: ConditionType.Ready, status: "False", reason: ConditionReason.ArtifactFailed, message }, generation, now());
    // Retried with backoff: still reconciling (kstatus), not stalled.
    conditions = setCondition(removeCondition(conditions, ConditionType.Stalled), { type: ConditionType.Reconciling, status: "True", reason: ConditionReason.ProgressingWithRetry, message: "fetching failed; retrying with backoff" }, generation, now());
    const outcome = await finish({ ...status, observedGeneration: generation, conditions }, "failed", ConditionReason.ArtifactFailed, message, { intervalMs }, cause);
    if (previousReady?.status !== "False" || previousReady.message !== message) {
      await options.events?.record(subject, "Warning", "GitOperationFailed", message);
    }
    return outcome;
  }
}
