import { formatTime, removeCondition, setCondition } from "../api/conditions.ts";
import {
  IMAGE_POLICY_RESOURCE,
  IMAGE_REPOSITORY_RESOURCE,
  IMAGE_UPDATE_AUTOMATION_KIND,
  IMAGE_UPDATE_AUTOMATION_RESOURCE,
  ImageConditionReason,
  PUSH_CHANGES_LIMIT,
  PUSH_HISTORY_LIMIT,
  type ImagePolicy,
  type ImageRepository,
  type ImageUpdateAutomation,
  type ImageUpdateAutomationStatus,
  type PushRecord,
} from "../api/image-types.ts";
import { fjordResourcePath } from "../api/paths.ts";
import { reconcileRequestPatch } from "../api/reconcile-request.ts";
import { ConditionReason, ConditionType, GIT_REPOSITORY_RESOURCE, type GitRepository } from "../api/types.ts";
import type { GitAuth } from "../git/index.ts";
import { commitAndPush, GitPushError } from "../git/push.ts";
import { splitCredentials } from "../git/redact.ts";
import { remoteUrlProblem } from "../git/remote-url.ts";
import { applyImagePolicies, findFluxV1Automations, listYamlFiles, readManifestFiles, setContainerImage, writeManifestFiles, type ImageChange, type UpdateError } from "../image/update/index.ts";
import type { KubeClient } from "../kube/client.ts";
import { isNotFound } from "../kube/errors.ts";
import { parseDuration } from "../util/duration.ts";
import type { EventRecorder } from "./events.ts";
import type { ReportedNotice } from "./runtime/report.ts";
import { checkMessageTemplate, describeChange, renderCommitMessage } from "./image-commit-message.ts";
import { FluxV1Resolver } from "./image-flux-v1.ts";
import { failureChanged, readyOf, subjectOf, writeStatus } from "./image-status.ts";
import type { ImageCreatedCache, ImageTagStore } from "./image-tag-store.ts";
import { checkoutBranch, explainMarkerErrors, formatUpdateError, policyInputs, uniqueErrors } from "./image-update-plan.ts";
import { loadGitAuth } from "./source-credentials.ts";
import { ACCESS_DENIED_REASON, Tenancy } from "./tenancy.ts";

/** Attempts per push when other pushes win the race; a refusal by the server is not retried within a run. */
const PUSH_ATTEMPTS = 3;
const MIN_GIT_TIMEOUT_MS = 60_000;
/** Errors listed in the Ready message; the rest are counted. */
const ERRORS_SHOWN = 10;

export interface ImageUpdateOptions {
  tags: ImageTagStore;
  created: ImageCreatedCache;
  events?: EventRecorder;
  /** The controller's watchLabelSelector: policies and repositories it does not manage are not used. */
  labelSelector?: string;
  /** Whether a GitRepository of another namespace may be pushed to (default: no). */
  tenancy?: Tenancy;
  signal?: AbortSignal;
  now?: () => Date;
}

export interface ImageUpdateOutcome {
  ready: boolean;
  requeueAfterMs?: number;
  /** Why it is not ready, as its Ready condition says. */
  failure?: { reason: string; message: string };
  /** A commit pushed: the tags it moved. */
  notices?: ReportedNotice[];
}

class AutomationFailure extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly stalled = false,
  ) {
    super(message);
  }
}

/** A failure inside the edit (the update path is missing...), told apart from git's own failures. */
class EditFailure extends Error {}

interface Run {
  changes: ImageChange[];
  errors: UpdateError[];
}

/**
 * One run of an ImageUpdateAutomation: check out the branch of its GitRepository, set every
 * `$imagepolicy`-marked field to its Ready policy's latest image and every Flux v1 automated
 * container to the newest tag its annotation admits, and push what changed as one commit, never
 * forced (commitAndPush re-applies the edit on a moved branch). After a push the GitRepository
 * is asked to reconcile, so the new commit is applied at once. Problems with single files or
 * markers do not stop the others; they are listed in Ready.
 */
export async function reconcileImageUpdateAutomation(client: KubeClient, automation: ImageUpdateAutomation, options: ImageUpdateOptions): Promise<ImageUpdateOutcome> {
  const now = options.now ?? (() => new Date());
  const { generation, name, namespace } = automation.metadata;
  const status: ImageUpdateAutomationStatus = { ...automation.status };
  const previousReady = readyOf(status.conditions);
  const subject = subjectOf(automation);

  if (automation.spec.suspend) {
    await writeStatus(client, IMAGE_UPDATE_AUTOMATION_RESOURCE, automation, { ...status, conditions: removeCondition(status.conditions, ConditionType.Reconciling) });
    return { ready: previousReady?.status === "True" };
  }
  const interval = parseDuration(automation.spec.interval);
  const fail = async (failure: AutomationFailure, extra: Partial<ImageUpdateAutomationStatus> = {}): Promise<ImageUpdateOutcome> => {
    let conditions = setCondition(status.conditions, { type: ConditionType.Ready, status: "False", reason: failure.reason, message: failure.message }, generation, now());
    conditions = failure.stalled
      ? setCondition(conditions, { type: ConditionType.Stalled, status: "True", reason: failure.reason, message: failure.message }, generation, now())
      : removeCondition(conditions, ConditionType.Stalled);
    await writeStatus(client, IMAGE_UPDATE_AUTOMATION_RESOURCE, automation, { ...status, ...extra, observedGeneration: generation, conditions });
    if (failureChanged(previousReady, failure.message)) await options.events?.record(subject, "Warning", failure.reason, failure.message);
    return { ready: false, failure: { reason: failure.reason, message: failure.message }, ...(failure.stalled ? {} : { requeueAfterMs: interval }) };
  };

  const templateProblem = automation.spec.git.commit.messageTemplate === undefined ? undefined : checkMessageTemplate(automation.spec.git.commit.messageTemplate);
  if (templateProblem) return fail(new AutomationFailure(ImageConditionReason.InvalidSpec, templateProblem, true));

  const sourceNamespace = automation.spec.sourceRef.namespace ?? namespace;
  const refused = (options.tenancy ?? new Tenancy()).refuseReference(
    { kind: IMAGE_UPDATE_AUTOMATION_KIND, namespace, name },
    "spec.sourceRef",
    { kind: "GitRepository", namespace: sourceNamespace, name: automation.spec.sourceRef.name },
    "source",
  );
  if (refused) return fail(new AutomationFailure(ACCESS_DENIED_REASON, refused, true));
  const source = await client.request<GitRepository>("GET", fjordResourcePath(GIT_REPOSITORY_RESOURCE, sourceNamespace, automation.spec.sourceRef.name)).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
  if (!source) return fail(new AutomationFailure(ConditionReason.SourceNotFound, `GitRepository ${sourceNamespace}/${automation.spec.sourceRef.name} not found`));
  // The automation clones and pushes the source's URL: a local path would read (and write) the controller's disk.
  const urlProblem = remoteUrlProblem(splitCredentials(source.spec.url).url);
  if (urlProblem !== undefined) {
    return fail(new AutomationFailure(ImageConditionReason.InvalidSpec, `GitRepository ${sourceNamespace}/${automation.spec.sourceRef.name} spec.url: ${urlProblem}`));
  }
  const branch = checkoutBranch(automation, source);
  if (typeof branch !== "string") return fail(new AutomationFailure(ImageConditionReason.InvalidSpec, branch.error));
  const pushBranch = automation.spec.git.push?.branch ?? branch;

  let auth: GitAuth | undefined;
  try {
    auth = source.spec.secretRef ? await loadGitAuth(client, sourceNamespace, source.spec.secretRef.name) : undefined;
  } catch (error) {
    if (isNotFound(error)) return fail(new AutomationFailure(ImageConditionReason.GitOperationFailed, `Secret ${sourceNamespace}/${source.spec.secretRef?.name ?? ""} of the GitRepository not found`));
    if (error instanceof Error && /^Secret /.test(error.message)) return fail(new AutomationFailure(ImageConditionReason.GitOperationFailed, error.message));
    throw error;
  }

  const query = options.labelSelector ? { labelSelector: options.labelSelector } : {};
  const [policies, repositories] = await Promise.all([
    client.request<{ items: ImagePolicy[] }>("GET", fjordResourcePath(IMAGE_POLICY_RESOURCE, namespace), { query }),
    client.request<{ items: ImageRepository[] }>("GET", fjordResourcePath(IMAGE_REPOSITORY_RESOURCE, namespace), { query }),
  ]);
  const inputs = policyInputs(policies.items);
  const resolver = new FluxV1Resolver({ client, namespace, repositories: repositories.items, tags: options.tags, created: options.created });
  const run: Run = { changes: [], errors: [] };
  const updatePath = automation.spec.update.path;

  const edit = async (workdir: string): Promise<string[]> => {
    run.changes = [];
    run.errors = [];
    let files;
    try {
      files = await readManifestFiles(workdir, await listYamlFiles(workdir, updatePath));
    } catch (error) {
      throw new EditFailure(`update.path ${JSON.stringify(updatePath)}: ${(error as Error).message}`);
    }
    const marked = applyImagePolicies(files, inputs.latest);
    const texts = new Map(files.map((file) => [file.path, file.text]));
    for (const file of marked.files) texts.set(file.path, file.text);
    run.changes.push(...marked.changes);
    const errors = [...explainMarkerErrors(marked.errors, inputs.notReady)];
    const flux = findFluxV1Automations(files);
    errors.push(...flux.errors);
    for (const container of flux.containers) {
      if (container.locked) continue;
      const resolved = await resolver.resolve(container);
      if ("error" in resolved) {
        errors.push({ file: container.file, line: container.line, message: resolved.error });
        continue;
      }
      const { workload } = container;
      const target = { kind: workload.kind, name: workload.name, ...(workload.namespace !== undefined ? { namespace: workload.namespace } : {}), container: container.container };
      const edited = setContainerImage({ path: container.file, text: texts.get(container.file) ?? "" }, target, resolved.image);
      if ("error" in edited) {
        errors.push(edited.error);
        continue;
      }
      texts.set(container.file, edited.text);
      if (edited.change) run.changes.push(edited.change);
    }
    run.errors = uniqueErrors(errors);
    const changed = files.filter((file) => texts.get(file.path) !== file.text).map((file) => ({ path: file.path, text: texts.get(file.path) ?? file.text }));
    await writeManifestFiles(workdir, changed);
    return changed.map((file) => file.path);
  };

  const runTime = formatTime(now());
  let pushed: { commit?: string };
  try {
    pushed = await commitAndPush({
      url: source.spec.url,
      branch,
      pushBranch,
      ...(auth ? { auth } : {}),
      author: automation.spec.git.commit.author,
      message: () => renderCommitMessage(automation.spec.git.commit.messageTemplate, { automation: `${namespace}/${name}`, changes: run.changes }),
      edit,
      maxAttempts: PUSH_ATTEMPTS,
      timeoutMs: Math.max(MIN_GIT_TIMEOUT_MS, parseDuration(source.spec.timeout || "60s")),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    const base = { lastAutomationRunTime: runTime, observedPolicies: inputs.observed };
    if (error instanceof EditFailure) return fail(new AutomationFailure(ImageConditionReason.UpdateFailed, error.message), base);
    if (error instanceof GitPushError) {
      const reason = error.code === "push-rejected" || error.code === "push-conflict" ? ImageConditionReason.PushRejected : ImageConditionReason.GitOperationFailed;
      const pending = run.changes.length > 0 ? `; ${run.changes.length} change(s) not pushed, retried at the next run` : "";
      return fail(new AutomationFailure(reason, `${error.message}${pending}`), base);
    }
    throw error;
  }

  const next: ImageUpdateAutomationStatus = { ...status, observedGeneration: generation, lastAutomationRunTime: runTime, observedPolicies: inputs.observed };
  let summary: string;
  if (pushed.commit) {
    const record: PushRecord = { commit: pushed.commit, branch: pushBranch, pushedAt: runTime, changes: run.changes.slice(0, PUSH_CHANGES_LIMIT).map(describeChange) };
    Object.assign(next, { lastPushCommit: pushed.commit, lastPushTime: runTime, history: [record, ...(status.history ?? [])].slice(0, PUSH_HISTORY_LIMIT) });
    summary = `pushed commit ${pushed.commit.slice(0, 12)} to branch ${pushBranch} with ${run.changes.length} change(s)`;
  } else {
    summary = `no updates made to branch ${pushBranch}${status.lastPushCommit ? `; last push ${status.lastPushCommit.slice(0, 12)}` : ""}`;
  }
  const problems = run.errors.map(formatUpdateError);
  const ready = problems.length === 0;
  const message = ready
    ? summary
    : `${summary}; ${problems.length} problem(s): ${problems.slice(0, ERRORS_SHOWN).join("; ")}${problems.length > ERRORS_SHOWN ? `; and ${problems.length - ERRORS_SHOWN} more` : ""}`;
  let conditions = setCondition(
    status.conditions,
    { type: ConditionType.Ready, status: ready ? "True" : "False", reason: ready ? ConditionReason.ReconciliationSucceeded : ImageConditionReason.UpdateFailed, message },
    generation,
    now(),
  );
  conditions = removeCondition(removeCondition(conditions, ConditionType.Reconciling), ConditionType.Stalled);
  await writeStatus(client, IMAGE_UPDATE_AUTOMATION_RESOURCE, automation, { ...next, conditions });

  if (pushed.commit) {
    const lines = run.changes.slice(0, 20).map((change) => `- ${describeChange(change)}`);
    await options.events?.record(subject, "Normal", "CommitPushed", `${summary}:\n${lines.join("\n")}`);
    await requestSourceReconcile(client, source, runTime);
  }
  // The summary moves with every push; only other problems than last time are news.
  const shownProblems = problems.slice(0, ERRORS_SHOWN).join("; ");
  if (!ready && (previousReady?.status !== "False" || !previousReady.message.includes(shownProblems))) {
    await options.events?.record(subject, "Warning", ImageConditionReason.UpdateFailed, problems.join("\n"));
  } else if (ready && previousReady?.status === "False") {
    await options.events?.record(subject, "Normal", ConditionReason.ReconciliationSucceeded, summary);
  }
  return {
    ready,
    requeueAfterMs: interval,
    ...(ready ? {} : { failure: { reason: ImageConditionReason.UpdateFailed, message } }),
    ...(pushed.commit ? { notices: [{ reason: "CommitPushed", message: pushNotice(summary, run.changes), revision: pushed.commit }] } : {}),
  };
}

/** The source fetches the pushed commit now rather than at its interval; the Application follows its new artifact. */
async function requestSourceReconcile(client: KubeClient, source: GitRepository, at: string): Promise<void> {
  const body = reconcileRequestPatch(`${at}#${Math.random().toString(16).slice(2, 8)}`);
  await client.request("PATCH", fjordResourcePath(GIT_REPOSITORY_RESOURCE, source.metadata.namespace, source.metadata.name), { body, contentType: "application/merge-patch+json" });
}

/** `pushed commit ... with 2 change(s): deploy.yaml:12: app:1.0.0 -> app:1.1.0, ...` (the first few). */
function pushNotice(summary: string, changes: readonly ImageChange[]): string {
  const shown = changes.slice(0, NOTICE_CHANGES).map(describeChange);
  return `${summary}: ${shown.join(", ")}${changes.length > shown.length ? `, and ${changes.length - shown.length} more` : ""}`;
}

const NOTICE_CHANGES = 10;
