import { describeChangedBy } from "../history/entry.ts";
import { Command } from "commander";
import { reconcileRequestPatch } from "../api/reconcile-request.ts";
import type { Application, GitRepository, SyncRecord } from "../api/types.ts";
import type { KubeClient } from "../kube/client.ts";
import { watchUntil } from "../kube/watch-until.ts";
import { parseDuration } from "../util/duration.ts";
import { addNamespaceOption, APP, describeObject, getObject, isReconciling, isStalled, objectPath, readyCondition, revisionOf, SOURCE, type FjordKind, type FjordObject, type NamespaceFlags } from "./app-resources.ts";
import { addKubeOptions, CliFailure, kubeClient, runCli, SYSTEM_NAMESPACE, type KubeFlags } from "./kube-options.ts";
import { createProgress } from "./output.ts";
import { operationAnnotation, type RequestedOperation } from "../history/operation.ts";
import { whoAmI } from "./whoami.ts";
import { formatAge } from "./table.ts";

type Flags = KubeFlags & NamespaceFlags & { timeout: string; withSource?: boolean };

/**
 * For an Application, the annotation that puts this request and who made it into its history
 * (the controller records it); nothing for a GitRepository, which keeps no history.
 */
async function operationAnnotations(client: KubeClient, kind: FjordKind, operation: Operation, at: string): Promise<Record<string, string>> {
  return kind === APP ? operationAnnotation({ ...operation, actor: await whoAmI(client), at }) : {};
}

/** What a request asks the history to record, besides who and when. */
export type Operation = Omit<RequestedOperation, "actor" | "at">;

/** Sets the reconcile-request annotation (with `extra` in the same patch); returns the value to wait for. */
export async function requestReconcile(client: KubeClient, kind: FjordKind, namespace: string, name: string, operation: Operation, extra: Record<string, unknown> = {}): Promise<string> {
  // Milliseconds, so two requests within one second are still two requests.
  const requestedAt = new Date().toISOString();
  const annotations = { ...reconcileRequestPatch(requestedAt).metadata.annotations, ...(await operationAnnotations(client, kind, operation, requestedAt)) };
  await client.request("PATCH", objectPath(kind, namespace, name), {
    body: { ...extra, metadata: { annotations } },
    contentType: "application/merge-patch+json",
  });
  return requestedAt;
}

/**
 * Watches the object until the controller says it handled `requestedAt` and is no longer
 * in the middle of a reconcile. A watch, not a GET loop: it answers the moment the status is written.
 */
export async function waitForHandled<T extends FjordObject>(client: KubeClient, kind: FjordKind, namespace: string, name: string, requestedAt: string, timeoutMs: number): Promise<T> {
  const progress = createProgress(true);
  progress.update(`waiting for the controller to reconcile ${kind.kind} ${namespace}/${name}`);
  const signal = AbortSignal.timeout(timeoutMs);
  let handled: T | undefined;
  let deleted = false;
  try {
    await watchUntil(client, { path: objectPath(kind, namespace), fieldSelector: `metadata.name=${name}`, signal }, (objects, change) => {
      const object = objects.get(`${namespace}/${name}`) as T | undefined;
      if (!object) {
        deleted = change?.type === "DELETED";
        return deleted;
      }
      if (object.status?.lastHandledReconcileAt !== requestedAt || isReconciling(object)) return false;
      handled = { ...object, kind: kind.kind };
      return true;
    });
  } catch (error) {
    if (!signal.aborted) throw error;
  } finally {
    progress.stop();
  }
  if (deleted) throw new CliFailure(`${kind.kind} ${namespace}/${name} was deleted while waiting for it`);
  if (!handled) {
    throw new CliFailure(
      `${kind.kind} ${namespace}/${name} was not reconciled within ${timeoutMs / 1000}s; is the controller running? (kubectl -n ${SYSTEM_NAMESPACE} get deployment fjord-controller)`,
    );
  }
  return handled;
}

function readyLine(object: FjordObject): string {
  const ready = readyCondition(object);
  return ready ? `${ready.status} (${ready.reason}): ${ready.message}` : "Unknown (no Ready condition yet)";
}

/**
 * What a finished reconcile did; throws (exit 1) when the object is not Ready. `before` is the
 * newest history entry when the command started: a different one now is what this command caused.
 */
function report(object: FjordObject, before?: SyncRecord): void {
  const ready = readyCondition(object);
  if (ready?.status !== "True") {
    // Stalled: the controller will not try again until the spec, the source or a reconcile request changes; otherwise it retries with backoff.
    const next = isStalled(object) ? "stalled: not retried until its spec, its source's revision or a reconcile request changes" : "retrying with backoff";
    throw new CliFailure(`${describeObject(object)} is not ready (${next}): ${ready ? `${ready.reason}: ${ready.message}` : "no Ready condition"}`);
  }
  const lines = [`${describeObject(object)} reconciled`, `  ready:     ${readyLine(object)}`, `  revision:  ${revisionOf(object) || "<none>"}`];
  if (object.kind === SOURCE.kind) {
    const artifact = (object as GitRepository).status?.artifact;
    if (artifact) lines.push(`  commit:    ${artifact.message.split("\n")[0] ?? ""} (${artifact.author})`);
  } else {
    const latest = (object as Application).status?.history?.[0];
    // History only records syncs that changed something, so an unchanged newest entry means nothing changed.
    if (latest && JSON.stringify(latest) !== JSON.stringify(before)) {
      const { created, configured, deleted, unchanged } = latest.summary;
      lines.push(`  changes:   ${created} created, ${configured} configured, ${deleted} deleted, ${unchanged} unchanged`);
      if (latest.driftReverts?.length) lines.push(`  reverted:  ${latest.driftReverts.map((drift) => `${drift.object} (changed by ${describeChangedBy(drift)})`).join(", ")}`);
    } else {
      lines.push(`  changes:   none${latest ? ` (last change ${formatAge(latest.finishedAt)} ago, ${latest.revision})` : ""}`);
    }
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

async function reconcile(client: KubeClient, kind: FjordKind, name: string, flags: Flags, extra: Record<string, unknown> = {}): Promise<void> {
  const timeoutMs = parseDuration(flags.timeout);
  const object = await getObject<FjordObject>(client, kind, flags.namespace, name);
  if (object.spec.suspend && extra.spec === undefined) {
    throw new CliFailure(`${kind.kind} ${flags.namespace}/${name} is suspended; resume it first (fjord resume ${kind === APP ? "app" : "source"} ${name} -n ${flags.namespace})`);
  }
  if (kind === APP && flags.withSource) {
    const sourceRef = (object as Application).spec.sourceRef;
    const sourceNamespace = sourceRef.namespace ?? flags.namespace;
    const sourceRequested = await requestReconcile(client, SOURCE, sourceNamespace, sourceRef.name, { action: "reconcile" });
    report(await waitForHandled<GitRepository>(client, SOURCE, sourceNamespace, sourceRef.name, sourceRequested, timeoutMs));
  }
  const requestedAt = await requestReconcile(client, kind, flags.namespace, name, { action: extra.spec === undefined ? "reconcile" : "resume" }, extra);
  report(await waitForHandled(client, kind, flags.namespace, name, requestedAt, timeoutMs), kind === APP ? (object as Application).status?.history?.[0] : undefined);
}

type Action = (client: KubeClient, kind: FjordKind, name: string, flags: Flags) => Promise<void>;

function kindSubcommands(verb: string, description: (what: string) => string, action: Action, options: { wait: boolean; withSource?: boolean }): Command {
  const parent = new Command(verb).description(description("an Application or a GitRepository"));
  for (const [word, aliases, kind] of [["app", ["application"], APP], ["source", ["gitrepository"], SOURCE]] as const) {
    const command = new Command(word).aliases(aliases).description(description(`the ${kind.kind}`)).argument("<name>", `${kind.kind} name`);
    addNamespaceOption(command);
    if (options.wait) command.option("--timeout <duration>", "how long to wait for the controller", "5m");
    if (options.withSource && kind === APP) command.option("--with-source", "first fetch its GitRepository, and wait for that");
    addKubeOptions(command);
    command.action((name: string, flags: Flags) =>
      runCli(async () => {
        const client = kubeClient(flags);
        try {
          await action(client, kind, name, flags);
        } finally {
          client.close();
        }
      }),
    );
    parent.addCommand(command);
  }
  return parent;
}

/** `fjord reconcile|suspend|resume app|source <name>`. */
export function reconcileCommands(): Command[] {
  return [
    kindSubcommands("reconcile", (what) => `reconcile ${what} now and wait for the result`, (client, kind, name, flags) => reconcile(client, kind, name, flags), { wait: true, withSource: true }),
    kindSubcommands(
      "suspend",
      (what) => `stop reconciling ${what} (what it applied stays as it is)`,
      async (client, kind, name, flags) => {
        await getObject(client, kind, flags.namespace, name);
        const annotations = await operationAnnotations(client, kind, { action: "suspend" }, new Date().toISOString());
        await client.request("PATCH", objectPath(kind, flags.namespace, name), { body: { spec: { suspend: true }, metadata: { annotations } }, contentType: "application/merge-patch+json" });
        process.stdout.write(`${kind.kind} ${flags.namespace}/${name} suspended\n`);
      },
      { wait: false },
    ),
    kindSubcommands("resume", (what) => `resume reconciling ${what}, reconcile it now and wait for the result`, (client, kind, name, flags) => reconcile(client, kind, name, flags, { spec: { suspend: false } }), { wait: true }),
  ];
}
