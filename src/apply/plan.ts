/**
 * The apply engine's decisions, without I/O: which objects go in which stage, which must wait
 * for a Namespace or CRD the same sync creates, what a failed dry run means, what the
 * inventory reservation holds, and what the inventory and change set are afterwards.
 */
import type { ResourceMapping } from "../kube/discovery.ts";
import { KubeApiError } from "../kube/errors.ts";
import { groupOf, refKey, versionOf, type KubeObject } from "../model/object.ts";
import type { Inventory, InventoryEntry } from "../inventory/inventory.ts";
import { FIELD_MANAGER, isOwnedBy, type Owner } from "../model/ownership.ts";
import type { Action, ChangeSetEntry } from "./change-set.ts";
import { managersLosingFields } from "./compare.ts";
import { isClusterDependentRefusal, type ObjectProblem } from "./errors.ts";
import type { PreparedObject } from "./prepare.ts";
import { redactSecretValues } from "./secret-redaction.ts";

/** A prepared object whose kind the server serves now. */
export type MappedObject = PreparedObject & { mapping: ResourceMapping };

/** What the engine knows about one object after planning or applying it. */
export interface ObjectState {
  prepared: PreparedObject;
  mapping: ResourceMapping;
  /** The live object before the sync (undefined when it did not exist or was not needed). */
  live: KubeObject | undefined;
  /** The server's answer: dry-run result when planning, applied object when applying. */
  result: KubeObject | undefined;
  action: Action;
  note?: string;
  /** An immutable field changed and force is on: delete and create instead of patching. */
  recreate?: boolean;
}

export const ADOPTED_NOTE = "adopted: existed without fjord's labels";
export const RECREATED_NOTE = "recreated: an immutable field changed";
const UNVALIDATED_NOTE = "not validated: its namespace or CustomResourceDefinition does not exist yet";
const IMMUTABLE_HINT = " (an immutable field changed: set force to delete and recreate the object)";

/** Planning one object ends in one of these. */
export type PlanOutcome =
  | { kind: "planned"; state: ObjectState }
  /** Its namespace is one this sync creates: validated once it exists. */
  | { kind: "deferred"; item: PreparedObject }
  | { kind: "invalid"; problem: ObjectProblem };

export interface Stages {
  /** CRDs, Namespaces and ClusterRoles the server can map now: planned and written first. */
  prerequisites: MappedObject[];
  /** Every other object the server can map now. */
  rest: MappedObject[];
  /** Objects of a kind a CRD of this set defines: validated once that CRD is established. */
  awaitingKind: PreparedObject[];
}

export function splitStages(prepared: readonly PreparedObject[]): Stages {
  const stages: Stages = { prerequisites: [], rest: [], awaitingKind: [] };
  for (const item of prepared) {
    if (item.mapping === undefined) stages.awaitingKind.push(item);
    else if (item.stage === 1) stages.prerequisites.push({ ...item, mapping: item.mapping });
    else stages.rest.push({ ...item, mapping: item.mapping });
  }
  return stages;
}

const isNamespace = (ref: { group: string; kind: string }) => ref.group === "" && ref.kind === "Namespace";

/** Names of the Namespaces this set declares. */
export function namespacesDeclared(prepared: readonly PreparedObject[]): Set<string> {
  return new Set(prepared.filter((item) => isNamespace(item.ref)).map((item) => item.ref.name));
}

/** Namespaces the plan says this sync creates: what is inside them cannot be dry-run before they exist. */
export function namespacesCreated(states: readonly ObjectState[]): Set<string> {
  return new Set(states.filter((state) => isNamespace(state.prepared.ref) && state.action === "created").map((state) => state.prepared.ref.name));
}

/** The second stage split into what can be validated now and what waits for its new namespace. */
export function splitByNamespace(rest: readonly MappedObject[], created: ReadonlySet<string>): { now: MappedObject[]; awaitingNamespace: MappedObject[] } {
  const waits = (item: MappedObject) => item.mapping.namespaced && created.has(item.object.metadata.namespace ?? "");
  return { now: rest.filter((item) => !waits(item)), awaitingNamespace: rest.filter(waits) };
}

/** A dry run failed only because the object's namespace does not exist yet. */
function missingNamespace(error: unknown): boolean {
  return error instanceof KubeApiError && error.notFound && error.status.details?.kind === "namespaces";
}

/**
 * What a failed dry run means: an object whose namespace this sync declares waits for it; an
 * immutable field with force on is recreated; anything else is a validation problem.
 */
export function classifyPlanError(item: MappedObject, live: KubeObject | undefined, error: unknown, context: { namespacesDeclared: ReadonlySet<string>; force: boolean }): PlanOutcome {
  if (missingNamespace(error) && context.namespacesDeclared.has(item.object.metadata.namespace ?? "")) return { kind: "deferred", item };
  if (error instanceof KubeApiError && error.immutableField && context.force) {
    return { kind: "planned", state: { prepared: item, mapping: item.mapping, live, result: undefined, action: "configured", note: RECREATED_NOTE, recreate: true } };
  }
  return { kind: "invalid", problem: withImmutableHint(problemOf(item, error), error) };
}

export function partitionOutcomes(outcomes: readonly PlanOutcome[]): { states: ObjectState[]; deferred: PreparedObject[]; problems: ObjectProblem[] } {
  const parts = { states: [] as ObjectState[], deferred: [] as PreparedObject[], problems: [] as ObjectProblem[] };
  for (const outcome of outcomes) {
    if (outcome.kind === "planned") parts.states.push(outcome.state);
    else if (outcome.kind === "deferred") parts.deferred.push(outcome.item);
    else parts.problems.push(outcome.problem);
  }
  return parts;
}

/**
 * Why an object the dry run says would change is changed beyond its content: fjord adopts it
 * (it exists without this owner's labels), or takes fields other managers own (Git wins).
 */
export function configuredNote(live: KubeObject, dryRun: KubeObject, owner: Owner): string | undefined {
  const losing = managersLosingFields(live, dryRun, FIELD_MANAGER);
  const notes = [isOwnedBy(live.metadata.labels, owner) ? "" : ADOPTED_NOTE, losing.length ? `took field ownership from ${losing.join(", ")}` : ""].filter(Boolean);
  return notes.length ? notes.join("; ") : undefined;
}

/** The outcome of writing one object: the state the server answered with, or why it failed. */
export type WriteOutcome = { state: ObjectState } | { problem: ObjectProblem };

/**
 * A stage's states after its writes: written ones as the server answered, failed ones as
 * planned (the failures keep them out of the inventory), the rest unchanged.
 */
export function afterWrites(states: readonly ObjectState[], written: ReadonlyMap<ObjectState, WriteOutcome>): { states: ObjectState[]; failures: ObjectProblem[] } {
  const failures: ObjectProblem[] = [];
  const after = states.map((state) => {
    const outcome = written.get(state);
    if (outcome === undefined) return state;
    if ("problem" in outcome) {
      failures.push(outcome.problem);
      return state;
    }
    return outcome.state;
  });
  return { states: after, failures };
}

function entryOf(item: PreparedObject, version: string): InventoryEntry {
  return { ...item.ref, version };
}

/**
 * What the inventory must hold before the first write: the previous entries plus every object
 * this sync is about to take on; undefined when it takes on nothing new (no write needed).
 */
export function reservationFor(states: readonly ObjectState[], deferred: readonly PreparedObject[], previous: ReadonlyMap<string, InventoryEntry>): Inventory | undefined {
  const candidates = [...states.map((state) => entryOf(state.prepared, state.mapping.version)), ...deferred.map((item) => entryOf(item, versionOf(item.object.apiVersion)))];
  const newcomers = candidates.filter((entry) => !previous.has(refKey(entry)));
  return newcomers.length === 0 ? undefined : { entries: [...previous.values(), ...newcomers] };
}

/** The objects a stage has to write: everything the plan says would change. */
export function needsWrite(states: readonly ObjectState[]): ObjectState[] {
  return states.filter((state) => state.action !== "unchanged");
}

/** CRDs this stage wrote: the next stage waits until they are Established. */
export function crdsWritten(states: readonly ObjectState[]): string[] {
  return states.filter((state) => state.prepared.ref.kind === "CustomResourceDefinition" && state.prepared.ref.group === "apiextensions.k8s.io" && state.action !== "unchanged").map((state) => state.prepared.ref.name);
}

/** Kinds that objects wait for: discovery must serve them before they can be dry-run. */
export function kindsAwaited(deferred: readonly PreparedObject[]): Array<{ group: string; version: string; kind: string }> {
  return deferred.filter((item) => item.mapping === undefined).map((item) => ({ group: groupOf(item.object.apiVersion), version: versionOf(item.object.apiVersion), kind: item.object.kind }));
}

/** An object a dry run (`fjord sync --dry-run`, `fjord diff`) could not validate, because what it needs is not there yet. */
export function unvalidatedState(item: PreparedObject): ObjectState {
  return {
    prepared: item,
    mapping: item.mapping ?? { group: item.ref.group, version: versionOf(item.object.apiVersion), kind: item.ref.kind, resource: "", namespaced: item.ref.namespace !== "", verbs: [] },
    live: undefined,
    result: undefined,
    action: "created",
    note: UNVALIDATED_NOTE,
  };
}

/**
 * The inventory after applying `states`: every object in them, except failed ones. After a
 * failure nothing may be forgotten, so the previous entries stay too and no object is orphaned.
 */
export function inventoryAfter(states: readonly ObjectState[], failures: readonly ObjectProblem[], previous: ReadonlyMap<string, InventoryEntry>): Inventory {
  const failed = new Set(failures.map((problem) => refKey(problem.ref)));
  const entries = new Map<string, InventoryEntry>(failures.length > 0 ? previous : []);
  for (const state of states) {
    const key = refKey(state.prepared.ref);
    if (!failed.has(key)) entries.set(key, entryOf(state.prepared, state.mapping.version));
  }
  return { entries: [...entries.values()] };
}

/** The change set of `states`, ordered by object identity. */
export function changeSetOf(states: readonly ObjectState[]): ChangeSetEntry[] {
  return states
    .map((state) => ({
      ref: state.prepared.ref,
      version: state.mapping.version,
      action: state.action,
      source: state.prepared.rendered.source,
      ...(state.note ? { note: state.note } : {}),
    }))
    .sort((a, b) => refKey(a.ref).localeCompare(refKey(b.ref)));
}

export function problemOf(item: PreparedObject, error: unknown): ObjectProblem {
  const message = error instanceof Error ? error.message : String(error);
  // The server may quote the value it refused; for a Secret that is the secret.
  const problem: ObjectProblem = { ref: item.ref, source: item.rendered.source, message: redactSecretValues(message, item.object) };
  return !(error instanceof KubeApiError) || isClusterDependentRefusal(error.statusCode) ? { ...problem, clusterDependent: true } : problem;
}

export function withImmutableHint(problem: ObjectProblem, error: unknown): ObjectProblem {
  return error instanceof KubeApiError && error.immutableField ? { ...problem, message: problem.message + IMMUTABLE_HINT } : problem;
}

export function sortProblems(problems: readonly ObjectProblem[]): ObjectProblem[] {
  return [...problems].sort((a, b) => refKey(a.ref).localeCompare(refKey(b.ref)));
}
