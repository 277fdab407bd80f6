/**
 * What fjord's validating webhook answers, decided from the request alone and what the
 * controller knows about the object (pure: no I/O, so every rule is unit-tested).
 *
 * The rule, in order:
 * 1. An object fjord does not manage (not in any Application's inventory, whatever labels it
 *    carries) is allowed and not recorded: labelling an object cannot make fjord deny or record it.
 * 2. fjord itself (its own identity, or the ServiceAccount the owning Application applies as) is
 *    allowed and not recorded. Identity comes from the API server's authentication, never from
 *    the field manager a request names.
 * 3. System controllers (ServiceAccounts of kube-system, kube-controller-manager, kube-scheduler,
 *    the API server, nodes) are allowed and not recorded: the deployment controller's revision
 *    annotation, an HPA scaling `spec.replicas`, the garbage collector's deletes.
 * 4. Everyone else's change is recorded (user, groups, field manager, field paths; never values).
 *    observe: allowed. lock: allowed when every changed field is one the Application does not set
 *    (not among fjord's fields in managedFields, e.g. `spec.replicas` left out of Git for an HPA,
 *    or a `kubectl rollout restart` annotation), or when the user is in a break-glass group;
 *    denied otherwise, naming the Application and the repository and path to change instead.
 */
import type { AdmissionRequest } from "./review.ts";

export type AdmissionMode = "observe" | "lock";
export const ADMISSION_MODES: readonly AdmissionMode[] = ["observe", "lock"];

/** The server's record of the fields a manager owns (FieldsV1). */
export interface FieldSet {
  [key: string]: FieldSet;
}

/** What the controller knows about an object it manages. */
export interface ManagedTarget {
  /** The object as drift records name it (`Deployment.apps/shop/web`). */
  object: string;
  application: { namespace: string; name: string };
  /** The source repository's URL, credentials removed, and the Application's path in it. */
  repository: string;
  path: string;
  /** The user the Application applies as (its ServiceAccount); undefined: the controller's own identity. */
  applyUser?: string;
  /** fjord's fields of the live object; undefined when unknown (then every field counts as fjord's). */
  ownedFields?: FieldSet;
}

export interface DecisionInput {
  request: AdmissionRequest;
  mode: AdmissionMode;
  breakGlassGroups: readonly string[];
  /** The controller's own user (`system:serviceaccount:fjord-system:fjord-controller`). */
  controllerUser: string;
  target: ManagedTarget | undefined;
}

/** One change someone made to a managed object: names and field paths only, never values. */
export interface ChangeRecord {
  object: string;
  application: { namespace: string; name: string };
  user: string;
  groups: string[];
  /** The field manager the request named, when it named one. */
  fieldManager?: string;
  operation: AdmissionRequest["operation"];
  subResource?: string;
  /** Changed field paths (`spec.replicas`), at most MAX_RECORDED_FIELDS; empty for CREATE and DELETE. */
  fields: string[];
  breakGlass: boolean;
}

export type Decision =
  | { allowed: true; why: "unmanaged" | "fjord" | "system" }
  | { allowed: true; why: "observed" | "not-fjord-fields" | "break-glass"; record: ChangeRecord }
  | { allowed: false; why: "locked"; record: ChangeRecord; message: string };

const MAX_RECORDED_FIELDS = 20;
const MAX_COMPARED_PATHS = 200;

const SYSTEM_USERS = new Set(["system:kube-controller-manager", "system:kube-scheduler", "system:apiserver"]);

/** Kubernetes' own controllers and nodes. */
export function isSystemUser(username: string, groups: readonly string[]): boolean {
  return SYSTEM_USERS.has(username) || username.startsWith("system:serviceaccount:kube-system:") || username.startsWith("system:node:") || groups.includes("system:nodes");
}

/** Metadata the API server maintains; a difference there is not a change anyone made. */
const SERVER_METADATA = new Set(["managedFields", "resourceVersion", "generation", "creationTimestamp", "uid", "selfLink"]);

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, index) => sameValue(item, b[index]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && sameValue(a[key], b[key]));
  }
  return false;
}

/** Paths (as segments) where `after` differs from `before`; a list counts as one value. */
function differences(before: unknown, after: unknown, path: string[], found: string[][]): void {
  if (found.length >= MAX_COMPARED_PATHS || sameValue(before, after)) return;
  if (!isPlainObject(before) || !isPlainObject(after)) {
    found.push(path);
    return;
  }
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (path.length === 0 && key === "status") continue;
    if (path.length === 1 && path[0] === "metadata" && SERVER_METADATA.has(key)) continue;
    differences(before[key], after[key], [...path, key], found);
  }
}

/**
 * The fields an UPDATE changes, as paths on the object itself. Through the scale subresource
 * the request carries Scale objects, whose `spec.replicas` is the object's `spec.replicas`.
 */
export function changedFields(request: AdmissionRequest): string[][] {
  if (request.operation !== "UPDATE") return [];
  if (request.subResource === "scale") {
    const replicas = (value: unknown) => (isPlainObject(value) && isPlainObject(value.spec) ? value.spec.replicas : undefined);
    return sameValue(replicas(request.oldObject), replicas(request.object)) ? [] : [["spec", "replicas"]];
  }
  const found: string[][] = [];
  differences(request.oldObject ?? {}, request.object ?? {}, [], found);
  return found;
}

/**
 * Whether `path`, or something under it, is fjord's. A Secret applied with `stringData` keeps
 * its values in `data` (the API server moves them), while managedFields names `stringData`:
 * a change of `data.<key>` is fjord's when `stringData.<key>` (or `data.<key>`) is.
 */
export function isFjords(fields: FieldSet, path: readonly string[]): boolean {
  return isOwned(fields, path) || (path[0] === "data" && isOwned(fields, ["stringData", ...path.slice(1)]));
}

/** Whether `path`, or something under it, is among the fields in `fields`. */
export function isOwned(fields: FieldSet, path: readonly string[]): boolean {
  let node = fields;
  for (const segment of path) {
    if (Object.keys(node).every((key) => key === ".")) return true; // a leaf: the whole value below is owned
    const next = node[`f:${segment}`];
    if (!next) return false;
    node = next;
  }
  return true;
}

/** The denial kubectl prints: which Application owns the object, and where to change it instead. */
export function lockMessage(request: AdmissionRequest, target: ManagedTarget, fields: readonly string[], breakGlassGroups: readonly string[]): string {
  const what = request.operation === "DELETE" ? "deleting" : request.operation === "CREATE" ? "creating" : fields.length ? `changing ${fields.join(", ")} of` : "changing";
  const override = breakGlassGroups.length ? `; in an emergency, a member of ${breakGlassGroups.map((group) => JSON.stringify(group)).join(" or ")} may change it, and fjord records who did` : "";
  return `fjord: ${what} ${target.object} is denied: it is managed by Application ${target.application.namespace}/${target.application.name} (admission lock). Change it in Git instead: repository ${target.repository}, path ${target.path}${override}`;
}

export function decide(input: DecisionInput): Decision {
  const { request, target } = input;
  if (!target) return { allowed: true, why: "unmanaged" };
  const { username, groups } = request.userInfo;
  if (username === input.controllerUser || (target.applyUser !== undefined && username === target.applyUser)) return { allowed: true, why: "fjord" };
  if (isSystemUser(username, groups)) return { allowed: true, why: "system" };
  const paths = changedFields(request);
  const fields = paths.slice(0, MAX_RECORDED_FIELDS).map((path) => path.join("."));
  const breakGlass = groups.some((group) => input.breakGlassGroups.includes(group));
  const record: ChangeRecord = {
    object: target.object,
    application: target.application,
    user: username,
    groups: [...groups],
    ...(request.fieldManager ? { fieldManager: request.fieldManager } : {}),
    operation: request.operation,
    ...(request.subResource ? { subResource: request.subResource } : {}),
    fields,
    breakGlass,
  };
  if (input.mode === "observe") return { allowed: true, why: "observed", record };
  const owned = target.ownedFields;
  // An UPDATE that touches no field of fjord's: nothing fjord would revert.
  if (request.operation === "UPDATE" && owned && paths.length < MAX_COMPARED_PATHS && paths.every((path) => !isFjords(owned, path))) return { allowed: true, why: "not-fjord-fields", record };
  if (breakGlass) return { allowed: true, why: "break-glass", record };
  return { allowed: false, why: "locked", record, message: lockMessage(request, target, fields, input.breakGlassGroups) };
}
