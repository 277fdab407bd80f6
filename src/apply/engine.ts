import type { KubeClient } from "../kube/client.ts";
import type { Discovery, ResourceMapping } from "../kube/discovery.ts";
import { KubeApiError } from "../kube/errors.ts";
import { groupOf, refKey, versionOf, type KubeObject, type ObjectRef, type RenderedObject, type SourceLocation } from "../model/object.ts";
import { indexByRef, type Inventory, type InventoryEntry } from "../inventory/inventory.ts";
import { mapLimit } from "../util/map-limit.ts";
import { managersLosingFields, sameAsLive } from "./compare.ts";
import { appliedStateMatches } from "./managed-fields.ts";
import { SyncError, type ObjectProblem } from "./errors.ts";
import { FIELD_MANAGER, isOwnedBy, type Owner } from "../model/ownership.ts";
import { listOwnedObjects } from "./live-objects.ts";
import { prepareObjects, type PreparedObject } from "./prepare.ts";
import { redactSecretValues } from "./secret-redaction.ts";
import { deleteObject, getObject, serverSideApply } from "./server-side-apply.ts";
import { waitForEstablished } from "./crd-established.ts";

export type Action = "created" | "configured" | "unchanged" | "deleted" | "skipped";

export interface ChangeSetEntry {
  ref: ObjectRef;
  version: string;
  action: Action;
  source?: SourceLocation;
  /** Why, when it is not obvious: "recreated: immutable field changed", "took fields from kubectl-edit". */
  note?: string;
}

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

export interface ApplyRequest {
  objects: readonly RenderedObject[];
  owner: Owner;
  defaultNamespace: string;
  previous?: Inventory;
  /** Validate and compute the change set, change nothing. */
  dryRun?: boolean;
  /** Recreate objects whose immutable fields changed. */
  force?: boolean;
  concurrency?: number;
  /** Always dry-run every object (diff needs the server's view of each one). */
  fullPlan?: boolean;
  /**
   * Called before the first write with the previous inventory plus every object this sync is
   * about to take on, so a process killed mid-apply leaves nothing fjord created outside an
   * inventory (and a later sync can prune it). Resolves false when it could not record yet
   * (its namespace is created by this sync); it is then asked again before the second stage.
   */
  reserve?: (planned: Inventory) => Promise<boolean>;
  onProgress?: (message: string) => void;
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

/** Server-side dry-run failed only because the object's namespace does not exist yet. */
function missingNamespace(error: unknown): boolean {
  return error instanceof KubeApiError && error.notFound && error.status.details?.kind === "namespaces";
}

/**
 * The apply engine: staged, validated-before-written server-side apply with a change set.
 * Objects whose fjord-owned fields already hold the desired values (read from the labelled
 * LIST, see managed-fields.ts) cost no request at all; the rest are dry-run first, and only
 * those the server says would change are written.
 */
export class ApplyEngine {
  constructor(
    private readonly client: KubeClient,
    private readonly discovery: Discovery,
  ) {}

  async apply(request: ApplyRequest): Promise<ApplyResult> {
    const progress = request.onProgress ?? (() => {});
    const concurrency = request.concurrency ?? 16;
    const { prepared, problems } = await prepareObjects(this.discovery, request.objects, request.owner, request.defaultNamespace);
    if (problems.length > 0) throw new SyncError("validation", `${problems.length} object(s) cannot be applied; nothing was changed`, problems);

    const previous = indexByRef(request.previous ?? { entries: [] });
    const mapped = prepared.filter((item): item is PreparedObject & { mapping: ResourceMapping } => item.mapping !== undefined);
    // Only objects of the previous inventory can already carry this owner's fields; the others
    // are new to it, need a dry run either way, and are read one by one only if they exist. So
    // a first sync lists nothing.
    const known = mapped.filter((item) => previous.has(refKey(item.ref)));
    progress(`reading ${known.length} live objects`);
    const owned = await listOwnedObjects(
      this.client,
      known.map((item) => ({ mapping: item.mapping, namespace: item.object.metadata.namespace ?? "" })),
      request.owner,
    );

    // Phase 1: validate everything the server can validate now, changing nothing.
    progress(`validating ${prepared.length} objects with a server-side dry run`);
    const states = new Map<string, ObjectState>();
    const deferred: PreparedObject[] = prepared.filter((item) => item.mapping === undefined);
    const validationProblems: ObjectProblem[] = [];
    /** `read`: the object as a GET just returned it, for one that is new to this owner. */
    const planOne = async (item: PreparedObject & { mapping: ResourceMapping }, read?: KubeObject) => {
      const live = read ?? owned.get(refKey(item.ref));
      const adopting = read ? !isOwnedBy(read.metadata.labels, request.owner) : live === undefined;
      const state = await this.plan(item, item.mapping, live, adopting, request.fullPlan === true).catch((error: unknown) => {
        if (missingNamespace(error) && namespacesInSet.has(item.object.metadata.namespace ?? "")) {
          deferred.push(item);
          return undefined;
        }
        if (error instanceof KubeApiError && error.immutableField && request.force) {
          return { prepared: item, mapping: item.mapping, live, result: undefined, action: "configured" as const, note: "recreated: an immutable field changed", recreate: true };
        }
        validationProblems.push(immutableHint(problemOf(item, error), error));
        return undefined;
      });
      if (state) states.set(refKey(item.ref), state);
    };
    // Prerequisites first: a Namespace the dry run says would be created does not exist yet,
    // so its contents cannot be validated before it does; they wait without a doomed request.
    const namespacesInSet = new Set(prepared.filter((item) => item.ref.group === "" && item.ref.kind === "Namespace").map((item) => item.ref.name));
    // One object new to this owner skips its dry run when a GET (no admission or field management)
    // finds it does not exist: it is written first and alone, so its own write validates it
    // (the server takes all of it or nothing) and a refusal still leaves the cluster unchanged.
    const mayLead = request.dryRun !== true && request.fullPlan !== true;
    let vanguard: (PreparedObject & { mapping: ResourceMapping }) | undefined;
    const planStage = async (items: Array<PreparedObject & { mapping: ResourceMapping }>, mayLeadHere: boolean) => {
      const candidate = mayLeadHere ? pickVanguard(items, previous) : undefined;
      await mapLimit(items, concurrency, async (item) => {
        if (item !== candidate) return planOne(item);
        const read = await getObject(this.client, item.mapping, item.object.metadata.namespace, item.ref.name).then(
          (object): KubeObject | "absent" => object,
          (error: unknown) => (error instanceof KubeApiError && error.notFound && !missingNamespace(error) ? "absent" : undefined),
        );
        if (read === "absent") vanguard = item;
        else await planOne(item, read);
      });
    };
    await planStage(mapped.filter((item) => item.stage === 1), mayLead);
    const missingNamespaces = new Set(
      [...states.values()].filter((state) => state.prepared.ref.kind === "Namespace" && state.prepared.ref.group === "" && state.action === "created").map((state) => state.prepared.ref.name),
    );
    const rest = mapped.filter((item) => item.stage === 2);
    deferred.push(...rest.filter((item) => item.mapping.namespaced && missingNamespaces.has(item.object.metadata.namespace ?? "")));
    const secondStage = rest.filter((item) => !(item.mapping.namespaced && missingNamespaces.has(item.object.metadata.namespace ?? "")));
    // The second stage may lead only when the first writes nothing before it.
    await planStage(secondStage, mayLead && vanguard === undefined && [...states.values()].every((state) => state.action === "unchanged") && deferred.length === 0);
    const validationFailed = () => new SyncError("validation", `${validationProblems.length} object(s) failed server-side validation; nothing was changed`, sortProblems(validationProblems));
    if (validationProblems.length > 0) throw validationFailed();

    const failures: ObjectProblem[] = [];
    const stageOne = [...states.values()].filter((state) => state.prepared.stage === 1);
    const stageTwo = [...states.values()].filter((state) => state.prepared.stage === 2);
    if (request.dryRun) {
      for (const item of deferred) states.set(refKey(item.ref), this.unvalidated(item));
      return this.result([...states.values()], [], request, previous);
    }

    const newcomers = [...states.values()].map((state) => ({ ...state.prepared.ref, version: state.mapping.version }));
    newcomers.push(...[...deferred, ...(vanguard ? [vanguard] : [])].map((item) => ({ ...item.ref, version: versionOf(item.object.apiVersion) })));
    const planned = newcomers.filter((entry) => !previous.has(refKey(entry)));
    let reserved = planned.length === 0 || request.reserve === undefined;
    let reservationWritten = false;
    const reserve = async () => {
      if (!reserved && request.reserve) reserved = reservationWritten = await request.reserve({ entries: [...previous.values(), ...planned] });
    };

    /**
     * Writes the vanguard before the rest of its stage (which it joins, already written); if
     * the server refuses it, it is planned like the others and written with them.
     */
    const lead = async (stage: ObjectState[]): Promise<ObjectState[]> => {
      if (!vanguard) return stage;
      const item = vanguard;
      const written = await this.writeUnplanned(item);
      if (written) {
        states.set(refKey(item.ref), written);
        stage.push(written);
        return stage.filter((state) => state !== written);
      }
      await planOne(item);
      const planned = states.get(refKey(item.ref));
      if (validationProblems.length === 0 && planned) {
        stage.push(planned);
        return stage;
      }
      if (validationProblems.length === 0) {
        validationProblems.push({ ref: item.ref, source: item.rendered.source, message: `namespace ${item.object.metadata.namespace ?? ""} was deleted during the sync` });
      }
      // Nothing was written, so the inventory goes back to what it was.
      if (reservationWritten && request.reserve) await request.reserve({ entries: [...previous.values()] });
      throw validationFailed();
    };

    // Phase 2: prerequisites (CRDs, Namespaces, ClusterRoles), then wait for CRDs to serve.
    if (stageOne.some((state) => state.action !== "unchanged") || vanguard?.stage === 1) await reserve();
    await this.write(vanguard?.stage === 1 ? await lead(stageOne) : stageOne, request, concurrency, failures, progress);
    const crds = stageOne.filter((state) => state.prepared.ref.kind === "CustomResourceDefinition" && state.action !== "unchanged");
    if (crds.length > 0 && failures.length === 0) {
      progress(`waiting for ${crds.length} CustomResourceDefinition(s) to be established`);
      await waitForEstablished(this.client, crds.map((state) => state.prepared.ref.name), 60_000);
      const newKinds = deferred
        .filter((item) => item.mapping === undefined)
        .map((item) => ({ group: groupOf(item.object.apiVersion), version: versionOf(item.object.apiVersion), kind: item.object.kind }));
      await this.discovery.waitForKinds(newKinds, 30_000);
    }

    // Phase 3: validate what could not be validated before its namespace or CRD existed.
    if (deferred.length > 0 && failures.length === 0) {
      const lateProblems: ObjectProblem[] = [];
      await mapLimit(deferred, concurrency, async (item) => {
        const group = groupOf(item.object.apiVersion);
        const mapping = item.mapping ?? (await this.discovery.find(group, versionOf(item.object.apiVersion), item.object.kind));
        if (!mapping) {
          lateProblems.push({ ref: item.ref, source: item.rendered.source, message: `kind ${item.object.kind} is still not served after its CustomResourceDefinition was established` });
          return;
        }
        try {
          const state = await this.plan(item, mapping, undefined, true, true);
          states.set(refKey(item.ref), state);
          stageTwo.push(state);
        } catch (error) {
          lateProblems.push(problemOf(item, error));
        }
      });
      if (lateProblems.length > 0) {
        // The prerequisites are applied by now: report them (and keep them in the inventory)
        // rather than throwing them away with an exception.
        return { ...this.result(stageOne, sortProblems(lateProblems), request, previous), failedPhase: "validation" };
      }
    }

    // Phase 4: everything else.
    if (failures.length === 0 && (stageTwo.some((state) => state.action !== "unchanged") || vanguard?.stage === 2)) {
      await reserve();
      await this.write(vanguard?.stage === 2 ? await lead(stageTwo) : stageTwo, request, concurrency, failures, progress);
    }
    return this.result([...states.values()], failures, request, previous);
  }

  /** Decides what applying one object would do, with a dry run unless nothing can have changed. */
  private async plan(item: PreparedObject, mapping: ResourceMapping, owned: KubeObject | undefined, adopting: boolean, fullPlan: boolean): Promise<ObjectState> {
    if (!fullPlan && owned !== undefined && appliedStateMatches(owned, item.object, FIELD_MANAGER)) {
      return { prepared: item, mapping, live: owned, result: owned, action: "unchanged" };
    }

    const dryRun = await serverSideApply(this.client, mapping, item.object, { dryRun: true });
    if (dryRun.created) return { prepared: item, mapping, live: undefined, result: dryRun.object, action: "created" };
    // Read the live object when fjord does not manage it yet (adoption), or when it changed
    // after it was listed (a controller wrote to it): compare like with like.
    const stale = owned === undefined || owned.metadata.resourceVersion !== dryRun.object.metadata.resourceVersion;
    const live = stale ? await getObject(this.client, mapping, item.object.metadata.namespace, item.ref.name) : owned;
    if (sameAsLive(dryRun.object, live)) return { prepared: item, mapping, live, result: live, action: "unchanged" };
    const losing = managersLosingFields(live, dryRun.object, FIELD_MANAGER);
    const notes = [adopting ? ADOPTED : "", losing.length ? `took field ownership from ${losing.join(", ")}` : ""].filter(Boolean);
    return { prepared: item, mapping, live, result: dryRun.object, action: "configured", ...(notes.length ? { note: notes.join("; ") } : {}) };
  }

  /**
   * Applies an object that had no dry run. Without force: a field another manager owns makes
   * the server refuse (409) rather than take it unseen, so the change set can still say whose
   * fields fjord takes. Any failure answers undefined, and the caller asks again with a dry run,
   * which reports it as validation would have (or finds the write did land after all).
   */
  private async writeUnplanned(item: PreparedObject & { mapping: ResourceMapping }): Promise<ObjectState | undefined> {
    const { mapping } = item;
    const answer = await serverSideApply(this.client, mapping, item.object, { force: false }).catch(() => undefined);
    if (!answer) return undefined;
    if (answer.created) return { prepared: item, mapping, live: undefined, result: answer.object, action: "created" };
    return { prepared: item, mapping, live: undefined, result: answer.object, action: "configured", note: ADOPTED };
  }

  private unvalidated(item: PreparedObject): ObjectState {
    return {
      prepared: item,
      mapping: item.mapping ?? { group: item.ref.group, version: versionOf(item.object.apiVersion), kind: item.ref.kind, resource: "", namespaced: item.ref.namespace !== "", verbs: [] },
      live: undefined,
      result: undefined,
      action: "created",
      note: "not validated: its namespace or CustomResourceDefinition does not exist yet",
    };
  }

  private async write(states: ObjectState[], request: ApplyRequest, concurrency: number, failures: ObjectProblem[], progress: (message: string) => void): Promise<void> {
    const changing = states.filter((state) => state.action !== "unchanged");
    if (changing.length === 0) return;
    progress(`applying ${changing.length} object(s)`);
    await mapLimit(changing, concurrency, async (state) => {
      try {
        if (state.recreate) {
          await this.recreate(state);
          return;
        }
        const answer = await serverSideApply(this.client, state.mapping, state.prepared.object);
        state.result = answer.object;
        state.action = answer.created ? "created" : "configured";
      } catch (error) {
        if (error instanceof KubeApiError && error.immutableField && request.force) {
          await this.recreate(state);
          return;
        }
        failures.push(immutableHint(problemOf(state.prepared, error), error));
      }
    });
  }

  /** Deletes an object whose immutable fields changed, waits until it is gone, and applies it anew. */
  private async recreate(state: ObjectState): Promise<void> {
    const { mapping, prepared } = state;
    await deleteObject(this.client, mapping, prepared.object.metadata.namespace, prepared.ref.name);
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await getObject(this.client, mapping, prepared.object.metadata.namespace, prepared.ref.name);
      } catch (error) {
        if (error instanceof KubeApiError && error.notFound) break;
        throw error;
      }
      if (Date.now() > deadline) throw new Error(`${prepared.ref.kind} ${prepared.ref.name} was not deleted within 60s; cannot recreate it`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const answer = await serverSideApply(this.client, mapping, prepared.object);
    state.result = answer.object;
    state.action = "configured";
    state.note = "recreated: an immutable field changed";
  }

  private result(states: ObjectState[], failures: ObjectProblem[], request: ApplyRequest, previous: Map<string, InventoryEntry>): ApplyResult {
    const failed = new Set(failures.map((problem) => refKey(problem.ref)));
    const entries = new Map<string, InventoryEntry>();
    // After a failure nothing may be forgotten: the previous inventory stays, so no object is orphaned.
    if (failures.length > 0) for (const [key, entry] of previous) entries.set(key, entry);
    for (const state of states) {
      const key = refKey(state.prepared.ref);
      if (failed.has(key)) continue;
      entries.set(key, { ...state.prepared.ref, version: state.mapping.version });
    }
    const changes = states
      .map((state) => ({
        ref: state.prepared.ref,
        version: state.mapping.version,
        action: state.action,
        source: state.prepared.rendered.source,
        ...(state.note ? { note: state.note } : {}),
      }))
      .sort((a, b) => refKey(a.ref).localeCompare(refKey(b.ref)));
    return { changes, states, inventory: { entries: [...entries.values()] }, failures };
  }
}

const ADOPTED = "adopted: existed without fjord's labels";

/**
 * The object that may be written without a dry run: one new to this owner (no owned state to
 * compare with), if it turns out not to exist. Not a Namespace: whether it exists decides how
 * its contents are planned.
 */
function pickVanguard<T extends PreparedObject>(items: readonly T[], previous: ReadonlyMap<string, InventoryEntry>): T | undefined {
  return items.find((item) => !previous.has(refKey(item.ref)) && !(item.ref.group === "" && item.ref.kind === "Namespace"));
}

function problemOf(item: PreparedObject, error: unknown): ObjectProblem {
  const message = error instanceof Error ? error.message : String(error);
  // The server may quote the value it refused; for a Secret that is the secret.
  return { ref: item.ref, source: item.rendered.source, message: redactSecretValues(message, item.object) };
}

function immutableHint(problem: ObjectProblem, error: unknown): ObjectProblem {
  if (error instanceof KubeApiError && error.immutableField) problem.message += " (an immutable field changed: set force to delete and recreate the object)";
  return problem;
}

function sortProblems(problems: ObjectProblem[]): ObjectProblem[] {
  return [...problems].sort((a, b) => refKey(a.ref).localeCompare(refKey(b.ref)));
}
