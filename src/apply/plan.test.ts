import assert from "node:assert/strict";
import { test } from "node:test";
import type { ResourceMapping } from "../kube/discovery.ts";
import { KubeApiError } from "../kube/errors.ts";
import { indexByRef, type InventoryEntry } from "../inventory/inventory.ts";
import { refKey, refOf, type KubeObject } from "../model/object.ts";
import {
  ADOPTED_NOTE,
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
  splitByNamespace,
  splitStages,
  unvalidatedState,
  type MappedObject,
  type ObjectState,
} from "./plan.ts";
import type { PreparedObject } from "./prepare.ts";
import { isPrerequisite } from "./staging.ts";

const mapping = (group: string, version: string, kind: string, resource: string, namespaced: boolean): ResourceMapping => ({ group, version, kind, resource, namespaced, verbs: ["get", "patch"] });
const CONFIG_MAPS = mapping("", "v1", "ConfigMap", "configmaps", true);
const NAMESPACES = mapping("", "v1", "Namespace", "namespaces", false);
const CRDS = mapping("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false);

function prepared(object: KubeObject, objectMapping: ResourceMapping | undefined, file = "app.yaml"): PreparedObject {
  return { rendered: { object, source: { file, line: 1 } }, object, ref: refOf(object), mapping: objectMapping, stage: isPrerequisite(object) ? 1 : 2 };
}
const configMap = (name: string, namespace = "shop") => prepared({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace } }, CONFIG_MAPS);
const namespace = (name: string) => prepared({ apiVersion: "v1", kind: "Namespace", metadata: { name } }, NAMESPACES);
const crd = (name: string) => prepared({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name } }, CRDS);
const gadget = (name: string) => prepared({ apiVersion: "example.com/v1", kind: "Gadget", metadata: { name, namespace: "shop" } }, undefined);

function state(item: PreparedObject, action: ObjectState["action"], note?: string): ObjectState {
  return { prepared: item, mapping: item.mapping ?? CONFIG_MAPS, live: undefined, result: undefined, action, ...(note ? { note } : {}) };
}
const mapped = (item: PreparedObject) => item as MappedObject;
const entry = (item: PreparedObject): InventoryEntry => ({ ...item.ref, version: "v1" });

test("stages: prerequisites first, then the rest; kinds a CRD of the set defines wait", () => {
  const items = [configMap("a"), namespace("shop"), gadget("g"), crd("gadgets.example.com")];
  const stages = splitStages(items);
  assert.deepEqual(stages.prerequisites.map((item) => item.ref.kind), ["Namespace", "CustomResourceDefinition"]);
  assert.deepEqual(stages.rest.map((item) => item.ref.name), ["a"]);
  assert.deepEqual(stages.awaitingKind.map((item) => item.ref.name), ["g"]);
  assert.deepEqual(kindsAwaited(stages.awaitingKind), [{ group: "example.com", version: "v1", kind: "Gadget" }]);
});

test("contents of a namespace the plan creates wait for it; those of an existing one do not", () => {
  const items = [namespace("new"), namespace("old"), configMap("inside-new", "new"), configMap("inside-old", "old"), configMap("elsewhere", "other")];
  assert.deepEqual([...namespacesDeclared(items)].sort(), ["new", "old"]);
  const created = namespacesCreated([state(items[0]!, "created"), state(items[1]!, "unchanged")]);
  assert.deepEqual([...created], ["new"]);
  const { now, awaitingNamespace } = splitByNamespace(items.slice(2).map(mapped), created);
  assert.deepEqual(now.map((item) => item.ref.name), ["inside-old", "elsewhere"]);
  assert.deepEqual(awaitingNamespace.map((item) => item.ref.name), ["inside-new"]);
});

const apiError = (statusCode: number, message: string, details: KubeApiError["status"]["details"] = {}) => new KubeApiError(statusCode, "x", message, { code: statusCode, message, details });

test("a dry run refused for a missing namespace waits only when the set declares that namespace", () => {
  const item = mapped(configMap("a", "new"));
  const missing = apiError(404, 'namespaces "new" not found', { kind: "namespaces", name: "new" });
  assert.equal(classifyPlanError(item, undefined, missing, { namespacesDeclared: new Set(["new"]), force: false }).kind, "deferred");
  const outcome = classifyPlanError(item, undefined, missing, { namespacesDeclared: new Set(), force: false });
  assert.equal(outcome.kind, "invalid");
  assert.match(outcome.kind === "invalid" ? outcome.problem.message : "", /namespaces "new" not found/);
});

test("an immutable field: a problem with the way out, or with force a planned recreation", () => {
  const item = mapped(configMap("a"));
  const immutable = apiError(422, "ConfigMap \"a\" is invalid: data: Forbidden: field is immutable when `immutable` is set");
  const refused = classifyPlanError(item, undefined, immutable, { namespacesDeclared: new Set(), force: false });
  assert.equal(refused.kind, "invalid");
  assert.match(refused.kind === "invalid" ? refused.problem.message : "", /set force to delete and recreate the object/);
  const forced = classifyPlanError(item, undefined, immutable, { namespacesDeclared: new Set(), force: true });
  assert.equal(forced.kind, "planned");
  assert.deepEqual(forced.kind === "planned" ? [forced.state.action, forced.state.note, forced.state.recreate] : [], ["configured", RECREATED_NOTE, true]);
});

test("a refused Secret's values are masked in the problem", () => {
  const secret = prepared({ apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "shop" }, stringData: { password: "hunter22" } }, mapping("", "v1", "Secret", "secrets", true));
  const outcome = classifyPlanError(mapped(secret), undefined, apiError(422, 'stringData.password: expected string, got &value.valueUnstructured{Value:[]interface {}{"hunter22"}}'), { namespacesDeclared: new Set(), force: false });
  assert.equal(outcome.kind, "invalid");
  assert.doesNotMatch(outcome.kind === "invalid" ? outcome.problem.message : "", /hunter22/);
});

test("outcomes are partitioned into states, deferred objects and problems", () => {
  const a = configMap("a");
  const parts = partitionOutcomes([
    { kind: "planned", state: state(a, "created") },
    { kind: "deferred", item: configMap("b") },
    { kind: "invalid", problem: { ref: configMap("c").ref, message: "bad" } },
  ]);
  assert.deepEqual([parts.states.length, parts.deferred.length, parts.problems.length], [1, 1, 1]);
});

test("the reservation adds only objects new to the inventory, deferred ones included, and is not needed without any", () => {
  const known = configMap("known");
  const previous = indexByRef({ entries: [entry(known), { ...configMap("gone").ref, version: "v1" }] });
  assert.equal(reservationFor([state(known, "configured")], [], previous), undefined);
  const reservation = reservationFor([state(known, "configured"), state(configMap("new"), "created")], [gadget("g")], previous);
  assert.deepEqual(reservation?.entries.map((item) => `${item.kind}/${item.name}@${item.version}`), ["ConfigMap/known@v1", "ConfigMap/gone@v1", "ConfigMap/new@v1", "Gadget/g@v1"]);
});

test("only objects that change are written; only CRDs written are waited for", () => {
  const states = [state(configMap("a"), "unchanged"), state(configMap("b"), "configured"), state(crd("x.example.com"), "created"), state(crd("y.example.com"), "unchanged")];
  assert.deepEqual(needsWrite(states).map((item) => item.prepared.ref.name), ["b", "x.example.com"]);
  assert.deepEqual(crdsWritten(states), ["x.example.com"]);
});

test("after writes: written states as the server answered, failures listed and kept as planned", () => {
  const planned = [state(configMap("same"), "unchanged"), state(configMap("ok"), "created"), state(configMap("bad"), "created")];
  const answered = { ...planned[1]!, action: "configured" as const };
  const problem = { ref: planned[2]!.prepared.ref, message: "refused" };
  const { states, failures } = afterWrites(planned, new Map([[planned[1]!, { state: answered }], [planned[2]!, { problem }]]));
  assert.deepEqual(states, [planned[0], answered, planned[2]]);
  assert.deepEqual(failures, [problem]);
});

test("the inventory after a clean apply is what was applied; after a failure the previous entries stay and failed objects are left out", () => {
  const previous = indexByRef({ entries: [entry(configMap("old")), entry(configMap("bad"))] });
  const states = [state(configMap("new"), "created"), state(configMap("bad"), "configured")];
  assert.deepEqual(inventoryAfter(states, [], previous).entries.map((item) => item.name), ["new", "bad"]);
  const afterFailure = inventoryAfter(states, [{ ref: configMap("bad").ref, message: "refused" }], previous);
  assert.deepEqual(afterFailure.entries.map((item) => item.name).sort(), ["bad", "new", "old"], "bad stays from the previous inventory: it existed before");
  const newFailure = inventoryAfter([state(configMap("fresh"), "created")], [{ ref: configMap("fresh").ref, message: "refused" }], indexByRef({ entries: [] }));
  assert.deepEqual(newFailure.entries, [], "a new object that failed was never written");
});

test("the change set is sorted by identity and carries source and note", () => {
  const changes = changeSetOf([state(configMap("b"), "created"), state(configMap("a"), "configured", "took field ownership from kubectl-edit")]);
  assert.deepEqual(
    changes.map((change) => [change.ref.name, change.action, change.source?.file, change.note]),
    [["a", "configured", "app.yaml", "took field ownership from kubectl-edit"], ["b", "created", "app.yaml", undefined]],
  );
  assert.ok(changes.every((change) => refKey(change.ref).startsWith("/ConfigMap/shop/")));
});

test("an object a dry run cannot validate yet is reported created, saying why", () => {
  const unvalidated = unvalidatedState(gadget("g"));
  assert.equal(unvalidated.action, "created");
  assert.match(unvalidated.note ?? "", /not validated/);
  assert.deepEqual([unvalidated.mapping.kind, unvalidated.mapping.version, unvalidated.mapping.namespaced], ["Gadget", "v1", true]);
});

test("the note of a changed object: adopted only without this owner's labels, and whose fields fjord takes", () => {
  const owner = { name: "app", namespace: "shop" };
  const fields = (manager: string, fieldsV1: unknown) => ({ manager, operation: "Update", fieldsType: "FieldsV1", fieldsV1 });
  const live: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", managedFields: [fields("kubectl-edit", { "f:data": { "f:mode": {} } })] } };
  const dryRun: KubeObject = { ...live, metadata: { ...live.metadata, managedFields: [fields("fjord", { "f:data": { "f:mode": {} } })] } };
  assert.equal(configuredNote(live, dryRun, owner), `${ADOPTED_NOTE}; took field ownership from kubectl-edit`);
  const labelled = { ...live, metadata: { ...live.metadata, labels: { "fjord.dev/name": "app", "fjord.dev/namespace": "shop" } } };
  assert.equal(configuredNote(labelled, dryRun, owner), "took field ownership from kubectl-edit");
  assert.equal(configuredNote(labelled, labelled, owner), undefined);
});

test("a refusal names whether the cluster may be at fault: an invalid object (400, 422) is not, a missing Namespace, denied access or a failing webhook is", () => {
  const item = configMap("a");
  assert.equal(problemOf(item, apiError(422, "metadata.name: Invalid value")).clusterDependent, undefined);
  assert.equal(problemOf(item, apiError(400, "bad request")).clusterDependent, undefined);
  assert.equal(problemOf(item, apiError(404, "namespaces \"shop\" not found")).clusterDependent, true);
  assert.equal(problemOf(item, apiError(403, "forbidden")).clusterDependent, true);
  assert.equal(problemOf(item, apiError(500, "failed calling webhook")).clusterDependent, true);
  assert.equal(problemOf(item, new Error("socket hang up")).clusterDependent, true);
});
