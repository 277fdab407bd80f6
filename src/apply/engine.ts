import type { KubeClient } from "../kube/client.ts";
import type { Discovery, ResourceMapping } from "../kube/discovery.ts";
import { KubeApiError } from "../kube/errors.ts";
import { groupOf, refKey, versionOf, type KubeObject, type RenderedObject } from "../model/object.ts";
import { emptyInventory, indexByRef, type Inventory, type InventoryEntry } from "../inventory/inventory.ts";
import { FIELD_MANAGER, type Owner } from "../model/ownership.ts";
import { mapLimit } from "../util/map-limit.ts";
import type { ChangeSetEntry } from "./change-set.ts";
import { sameAsLive } from "./compare.ts";
import { waitForEstablished } from "./crd-established.ts";
import { SyncError, type ObjectProblem } from "./errors.ts";
import { currentInCache, readOwnedFromCache, type LiveObjectCache } from "./live-cache.ts";
import { listOwnedObjects } from "./live-objects.ts";
import { appliedStateMatches } from "./managed-fields.ts";
import {
  RECREATED_NOTE,
  afterWrites,
  changeSetOf,
  classifyPlanError,
  configuredNote,
  crdsWritten,
  inventoryAfter,
  kindsAwaited,
  namespacesCreated,
  namespacesDeclared,
  needsWrite,
  partitionOutcomes,
  problemOf,
  reservationFor,
  sortProblems,
  splitByNamespace,
  splitStages,
  unvalidatedState,
  withImmutableHint,
  type MappedObject,
  type ObjectState,
  type PlanOutcome,
  type WriteOutcome,
} from "./plan.ts";
import { prepareObjects, type PreparedObject } from "./prepare.ts";
import { prune, type PruneOptions, type PruneResult } from "./prune.ts";
import { deleteObject, getObject, objectExists, serverSideApply } from "./server-side-apply.ts";
import { waitForHealthy, type WaitOptions } from "./wait.ts";

export type { Action, ChangeSetEntry } from "./change-set.ts";
export type { ObjectState } from "./plan.ts";

/** The objects to plan, and for whom. */
export interface PlanRequest {
  objects: readonly RenderedObject[];
  owner: Owner;
  defaultNamespace: string;
  previous?: Inventory;
  /** Recreate objects whose immutable fields changed. */
  force?: boolean;
  concurrency?: number;
  onProgress?: (message: string) => void;
  /** Live objects already held (the controller's drift watches): what it can answer is not listed. */
  cache?: LiveObjectCache;
}

export interface ApplyRequest extends PlanRequest {
  /**
   * Called before the first write with the previous inventory plus every object this sync is
   * about to take on, so a process killed mid-apply leaves nothing fjord created outside an
   * inventory (and a later sync can prune it). Resolves false when it could not record yet
   * (its namespace is created by this sync); it is then asked again before the second stage.
   */
  reserve?: (planned: Inventory) => Promise<boolean>;
}

export interface DiffOptions {
  /** Dry-run every object, even one whose owned fields already match (`fjord diff` shows the server's view of each). */
  everyObject?: boolean;
}

export interface ApplyResult {
  changes: ChangeSetEntry[];
  states: ObjectState[];
  /** Inventory of what is now applied (on partial failure: applied objects plus the previous inventory). */
  inventory: Inventory;
  /** Objects that failed to apply; the sync must not prune when there are any. */
  failures: ObjectProblem[];
  /** "validation": objects waiting for a new Namespace or CRD failed their dry run, so only prerequisites were applied. */
  failedPhase?: "validation" | "apply";
}

/** What every step of one verb needs, passed along instead of shared. */
interface Settings {
  owner: Owner;
  force: boolean;
  concurrency: number;
  everyObject: boolean;
  progress: (message: string) => void;
}

/** The request's objects prepared for planning, with what the cluster and the inventory say about them. */
interface DesiredSet {
  prepared: PreparedObject[];
  previous: Map<string, InventoryEntry>;
  /** Live objects this owner manages, by refKey. */
  owned: Map<string, KubeObject>;
}

/** A validated plan: what each object needs, and what can only be validated after the first stage. */
interface Plan {
  states: ObjectState[];
  deferred: PreparedObject[];
}

/**
 * The apply engine, verb by verb as fluxcd/pkg's ssa ResourceManager: apply all (staged,
 * validated before anything is written), diff, prune, wait. Objects whose fjord-owned fields
 * already hold the desired values (read from the labelled LIST, see managed-fields.ts) cost no
 * request at all; the rest are dry-run, and only those the server says would change are written.
 */
export class ApplyEngine {
  constructor(
    private readonly client: KubeClient,
    private readonly discovery: Discovery,
  ) {}

  /**
   * Validates every object with a server-side dry run (nothing is written when any is
   * invalid), then writes what changes in two stages: prerequisites (CRDs, Namespaces,
   * ClusterRoles), then, once new CRDs are Established and what waited for them validated,
   * the rest. The inventory reservation is written before the first write of a new object.
   */
  async applyAll(request: ApplyRequest): Promise<ApplyResult> {
    const settings = settingsOf(request, false);
    const desired = await this.readDesired(request, settings);
    const plan = await this.validate(desired, settings);
    const reservation = new InventoryReservation(request.reserve, reservationFor(plan.states, plan.deferred, desired.previous));

    const first = await this.writeStage(plan.states.filter((state) => state.prepared.stage === 1), reservation, settings);
    if (first.failures.length > 0) return applyResult(first.states, first.failures, desired.previous);

    await this.awaitNewKinds(first.states, plan.deferred, settings);
    const late = await this.validateDeferred(plan.deferred, settings);
    // The prerequisites are applied by now: report them (and keep them in the inventory) rather than throw them away.
    if (late.problems.length > 0) return { ...applyResult(first.states, sortProblems(late.problems), desired.previous), failedPhase: "validation" };

    const second = await this.writeStage([...plan.states.filter((state) => state.prepared.stage === 2), ...late.states], reservation, settings);
    return applyResult([...first.states, ...second.states], second.failures, desired.previous);
  }

  /**
   * What applying would change, validated by the server and changing nothing. Objects whose
   * Namespace or CRD does not exist yet are reported as created, not validated.
   */
  async diff(request: PlanRequest, options: DiffOptions = {}): Promise<ApplyResult> {
    const settings = settingsOf(request, options.everyObject === true);
    const desired = await this.readDesired(request, settings);
    const plan = await this.validate(desired, settings);
    return applyResult([...plan.states, ...plan.deferred.map(unvalidatedState)], [], desired.previous);
  }

  /** Deletes objects that left Git, dependency order (see prune.ts); a failed delete stays in `remaining`. */
  prune(stale: InventoryEntry[], owner: Owner, options: PruneOptions = {}): Promise<PruneResult> {
    return prune(this.client, this.discovery, stale, owner, options);
  }

  /** Waits until every applied object is healthy; on failure or timeout names each one that is not. */
  wait(states: readonly ObjectState[], options: WaitOptions & { cache?: LiveObjectCache }): Promise<void> {
    const { cache, ...waitOptions } = options;
    const targets = states.map((state) => ({ ref: state.prepared.ref, mapping: state.mapping, source: state.prepared.rendered.source, ...writtenAnswerOf(state) }));
    // What the cache shows Current needs no watch; only the rest is waited for.
    const { rest } = currentInCache(cache, targets);
    const waiting = new Set(rest.map((target) => refKey(target.ref)));
    return waitForHealthy(
      this.client,
      targets.filter((target) => waiting.has(refKey(target.ref))),
      waitOptions,
    );
  }

  /**
   * Prepares the objects and reads the live ones this owner already manages. Only objects of
   * the previous inventory can carry this owner's fields; the others need a dry run either way,
   * so a first sync lists nothing.
   */
  private async readDesired(request: PlanRequest, settings: Settings): Promise<DesiredSet> {
    const { prepared, problems } = await prepareObjects(this.discovery, request.objects, request.owner, request.defaultNamespace);
    if (problems.length > 0) throw new SyncError("validation", `${problems.length} object(s) cannot be applied; nothing was changed`, problems);
    const previous = indexByRef(request.previous ?? emptyInventory());
    const known = prepared
      .filter((item): item is MappedObject => item.mapping !== undefined && previous.has(refKey(item.ref)))
      .map((item) => ({ mapping: item.mapping, namespace: item.object.metadata.namespace ?? "", name: item.ref.name, ref: item.ref }));
    const cached = readOwnedFromCache(request.cache, known, request.owner);
    settings.progress(`reading ${known.length} live objects (${known.length - cached.toList.length} from the watch cache)`);
    const listed = cached.toList.length > 0 ? await listOwnedObjects(this.client, cached.toList, request.owner) : new Map<string, KubeObject>();
    return { prepared, previous, owned: new Map([...cached.owned, ...listed]) };
  }

  /**
   * Dry-runs everything the server can validate now, prerequisites first: a Namespace the
   * plan creates does not exist yet, so its contents wait without a doomed request, as do
   * objects of kinds a CRD of this set defines. Throws, having changed nothing, when any
   * object is invalid.
   */
  private async validate(desired: DesiredSet, settings: Settings): Promise<Plan> {
    settings.progress(`validating ${desired.prepared.length} objects with a server-side dry run`);
    const { prerequisites, rest, awaitingKind } = splitStages(desired.prepared);
    const declared = namespacesDeclared(desired.prepared);
    const first = partitionOutcomes(await this.planAll(prerequisites, desired, declared, settings));
    const { now, awaitingNamespace } = splitByNamespace(rest, namespacesCreated(first.states));
    const second = partitionOutcomes(await this.planAll(now, desired, declared, settings));
    const problems = [...first.problems, ...second.problems];
    if (problems.length > 0) throw new SyncError("validation", `${problems.length} object(s) failed server-side validation; nothing was changed`, sortProblems(problems));
    return { states: [...first.states, ...second.states], deferred: [...awaitingKind, ...first.deferred, ...awaitingNamespace, ...second.deferred] };
  }

  private planAll(items: readonly MappedObject[], desired: DesiredSet, declared: ReadonlySet<string>, settings: Settings): Promise<PlanOutcome[]> {
    return mapLimit(items, settings.concurrency, async (item): Promise<PlanOutcome> => {
      const live = desired.owned.get(refKey(item.ref));
      try {
        return { kind: "planned", state: await this.plan(item, item.mapping, live, settings) };
      } catch (error) {
        return classifyPlanError(item, live, error, { namespacesDeclared: declared, force: settings.force });
      }
    });
  }

  /** Decides what applying one object would do, with a dry run unless nothing can have changed. */
  private async plan(item: PreparedObject, mapping: ResourceMapping, owned: KubeObject | undefined, settings: Settings): Promise<ObjectState> {
    if (!settings.everyObject && owned !== undefined && appliedStateMatches(owned, item.object, FIELD_MANAGER)) {
      return { prepared: item, mapping, live: owned, result: owned, action: "unchanged" };
    }
    const dryRun = await serverSideApply(this.client, mapping, item.object, { dryRun: true });
    if (dryRun.created) return { prepared: item, mapping, live: undefined, result: dryRun.object, action: "created" };
    // Read the live object when fjord does not manage it yet (adoption), or when it changed
    // after it was listed or cached (a controller wrote to it): compare like with like.
    const stale = owned === undefined || owned.metadata.resourceVersion !== dryRun.object.metadata.resourceVersion;
    const live = stale ? await getObject(this.client, mapping, item.object.metadata.namespace, item.ref.name) : owned;
    if (sameAsLive(dryRun.object, live)) return { prepared: item, mapping, live, result: live, action: "unchanged" };
    const note = configuredNote(live, dryRun.object, settings.owner);
    return { prepared: item, mapping, live, result: dryRun.object, action: "configured", ...(note ? { note } : {}) };
  }

  /** Once the first stage's CRDs are Established, discovery must serve the kinds objects wait for. */
  private async awaitNewKinds(written: readonly ObjectState[], deferred: readonly PreparedObject[], settings: Settings): Promise<void> {
    const crds = crdsWritten(written);
    if (crds.length === 0) return;
    settings.progress(`waiting for ${crds.length} CustomResourceDefinition(s) to be established`);
    await waitForEstablished(this.client, crds, 60_000);
    await this.discovery.waitForKinds(kindsAwaited(deferred), 30_000);
  }

  /** Dry-runs what waited for a Namespace or CRD that the first stage has now written. */
  private async validateDeferred(deferred: readonly PreparedObject[], settings: Settings): Promise<{ states: ObjectState[]; problems: ObjectProblem[] }> {
    const outcomes = await mapLimit(deferred, settings.concurrency, async (item): Promise<PlanOutcome> => {
      const mapping = item.mapping ?? (await this.discovery.find(groupOf(item.object.apiVersion), versionOf(item.object.apiVersion), item.object.kind));
      if (!mapping) {
        return { kind: "invalid", problem: { ref: item.ref, source: item.rendered.source, clusterDependent: true, message: `kind ${item.object.kind} is still not served after its CustomResourceDefinition was established` } };
      }
      try {
        return { kind: "planned", state: await this.plan(item, mapping, undefined, settings) };
      } catch (error) {
        return { kind: "invalid", problem: problemOf(item, error) };
      }
    });
    const { states, problems } = partitionOutcomes(outcomes);
    return { states, problems };
  }

  /** Writes the objects of one stage that change, after the inventory reservation. */
  private async writeStage(states: ObjectState[], reservation: InventoryReservation, settings: Settings): Promise<{ states: ObjectState[]; failures: ObjectProblem[] }> {
    const changing = needsWrite(states);
    if (changing.length === 0) return { states, failures: [] };
    await reservation.ensure();
    settings.progress(`applying ${changing.length} object(s)`);
    const outcomes = await mapLimit(changing, settings.concurrency, (state) => this.write(state, settings.force));
    return afterWrites(states, new Map(changing.map((state, index) => [state, outcomes[index] as WriteOutcome])));
  }

  /** One server-side apply (or, for a changed immutable field with force, a recreation). */
  private async write(state: ObjectState, force: boolean): Promise<WriteOutcome> {
    try {
      if (state.recreate) return { state: await this.recreate(state) };
      const answer = await serverSideApply(this.client, state.mapping, state.prepared.object);
      return { state: { ...state, result: answer.object, action: answer.created ? "created" : "configured" } };
    } catch (error) {
      // The object changed between its dry run and its write.
      if (force && !state.recreate && error instanceof KubeApiError && error.immutableField) return this.write({ ...state, recreate: true }, force);
      return { problem: withImmutableHint(problemOf(state.prepared, error), error) };
    }
  }

  /** Deletes an object whose immutable fields changed, waits until it is gone, and applies it anew. */
  private async recreate(state: ObjectState): Promise<ObjectState> {
    const { mapping, prepared } = state;
    const namespace = prepared.object.metadata.namespace;
    await deleteObject(this.client, mapping, namespace, prepared.ref.name);
    const deadline = Date.now() + 60_000;
    while (await objectExists(this.client, mapping, namespace, prepared.ref.name)) {
      if (Date.now() > deadline) throw new Error(`${prepared.ref.kind} ${prepared.ref.name} was not deleted within 60s; cannot recreate it`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const answer = await serverSideApply(this.client, mapping, prepared.object);
    return { ...state, result: answer.object, action: "configured", note: RECREATED_NOTE };
  }
}

/**
 * The inventory reservation of one apply: written once, before the first write, when the sync
 * takes on new objects. When the store cannot record it yet (its namespace is created by this
 * sync), the next stage asks again.
 */
class InventoryReservation {
  private pending: Inventory | undefined;

  constructor(
    private readonly reserve: ApplyRequest["reserve"],
    planned: Inventory | undefined,
  ) {
    this.pending = reserve ? planned : undefined;
  }

  async ensure(): Promise<void> {
    if (this.pending === undefined || this.reserve === undefined) return;
    if (await this.reserve(this.pending)) this.pending = undefined;
  }
}

function settingsOf(request: PlanRequest, everyObject: boolean): Settings {
  return { owner: request.owner, force: request.force === true, concurrency: request.concurrency ?? 16, everyObject, progress: request.onProgress ?? (() => {}) };
}

/** The server's answer to this sync's write of the object, if it wrote it. */
function writtenAnswerOf(state: ObjectState): { written?: KubeObject } {
  return state.action !== "unchanged" && state.result ? { written: state.result } : {};
}

function applyResult(states: ObjectState[], failures: ObjectProblem[], previous: ReadonlyMap<string, InventoryEntry>): ApplyResult {
  return { changes: changeSetOf(states), states, inventory: inventoryAfter(states, failures, previous), failures };
}
