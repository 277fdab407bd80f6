/**
 * The AdmissionReview the API server posts to fjord's validating webhook, read strictly: it
 * arrives over the network, and whoever can reach the port can send anything. Only the fields
 * fjord decides on are kept, each checked for type and length; anything else malformed is a
 * ReviewError (answered 400, which the API server treats as a failed call: allowed in observe
 * mode, denied in lock mode). Objects are kept as opaque values; nothing of their content is
 * ever copied into a record or a message (names and field paths only).
 */

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";

/** The largest AdmissionReview read (object and oldObject of a 1.5 MiB etcd object, JSON-escaped, fit). */
export const MAX_REVIEW_BYTES = 8 * 1024 * 1024;
/** Kubernetes names are at most 253 characters; user names and groups have no documented limit, so fjord sets one. */
const MAX_NAME = 253;
const MAX_USER = 512;
const MAX_GROUPS = 64;
const MAX_UID = 128;

export type AdmissionOperation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
const OPERATIONS: readonly AdmissionOperation[] = ["CREATE", "UPDATE", "DELETE", "CONNECT"];

export interface AdmissionRequest {
  uid: string;
  /** The resource addressed (for `kubectl scale`, the Deployment's `deployments`, with subResource `scale`). */
  resource: { group: string; version: string; resource: string };
  subResource: string;
  /** The kind of `object` (a Scale for the scale subresource). */
  kind: { group: string; version: string; kind: string };
  namespace: string;
  name: string;
  operation: AdmissionOperation;
  userInfo: { username: string; groups: string[] };
  /** The field manager the request named (`?fieldManager=`), when it named one. */
  fieldManager?: string;
  dryRun: boolean;
  object?: unknown;
  oldObject?: unknown;
}

export class ReviewError extends Error {
  override readonly name = "ReviewError";
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** Printable text without control characters: it reaches logs and Events. */
function text(value: unknown, field: string, max: number, options: { optional?: boolean; empty?: boolean } = {}): string {
  if (value === undefined && options.optional) return "";
  if (typeof value !== "string") throw new ReviewError(`${field} must be a string`);
  if (value.length > max) throw new ReviewError(`${field} is longer than ${max} characters`);
  if (!options.empty && value.length === 0) throw new ReviewError(`${field} is empty`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(value)) throw new ReviewError(`${field} holds control characters`);
  return value;
}

function record(value: unknown, field: string): Record<string, unknown> {
  if (!isRecord(value)) throw new ReviewError(`${field} must be an object`);
  return value;
}

/** Reads an AdmissionReview (already JSON-parsed within limits) into the request fjord decides on. */
export function parseAdmissionReview(body: unknown): AdmissionRequest {
  const review = record(body, "the AdmissionReview");
  if (review.apiVersion !== ADMISSION_API_VERSION || review.kind !== "AdmissionReview") throw new ReviewError(`only ${ADMISSION_API_VERSION} AdmissionReview is served`);
  const request = record(review.request, "request");
  const resource = record(request.resource, "request.resource");
  const kind = record(request.kind, "request.kind");
  const userInfo = record(request.userInfo, "request.userInfo");
  const operation = request.operation;
  if (typeof operation !== "string" || !OPERATIONS.includes(operation as AdmissionOperation)) throw new ReviewError("request.operation must be CREATE, UPDATE, DELETE or CONNECT");
  const groupsValue = userInfo.groups ?? [];
  if (!Array.isArray(groupsValue) || groupsValue.length > MAX_GROUPS) throw new ReviewError(`request.userInfo.groups must be a list of at most ${MAX_GROUPS}`);
  const options = request.options === undefined || request.options === null ? {} : record(request.options, "request.options");
  const fieldManager = text(options.fieldManager, "request.options.fieldManager", 128, { optional: true, empty: true });
  if (request.dryRun !== undefined && typeof request.dryRun !== "boolean") throw new ReviewError("request.dryRun must be a boolean");
  for (const [field, value] of [["request.object", request.object], ["request.oldObject", request.oldObject]] as const) {
    if (value !== undefined && value !== null && !isRecord(value)) throw new ReviewError(`${field} must be an object`);
  }
  return {
    uid: text(request.uid, "request.uid", MAX_UID),
    resource: {
      group: text(resource.group, "request.resource.group", MAX_NAME, { optional: true, empty: true }),
      version: text(resource.version, "request.resource.version", 64),
      resource: text(resource.resource, "request.resource.resource", MAX_NAME),
    },
    subResource: text(request.subResource, "request.subResource", MAX_NAME, { optional: true, empty: true }),
    kind: {
      group: text(kind.group, "request.kind.group", MAX_NAME, { optional: true, empty: true }),
      version: text(kind.version, "request.kind.version", 64),
      kind: text(kind.kind, "request.kind.kind", MAX_NAME),
    },
    namespace: text(request.namespace, "request.namespace", MAX_NAME, { optional: true, empty: true }),
    // A CREATE with generateName has no name yet: such an object is never one fjord manages.
    name: text(request.name, "request.name", MAX_NAME, { optional: true, empty: true }),
    operation: operation as AdmissionOperation,
    userInfo: { username: text(userInfo.username, "request.userInfo.username", MAX_USER, { empty: true }), groups: groupsValue.map((group, index) => text(group, `request.userInfo.groups[${index}]`, MAX_USER)) },
    ...(fieldManager ? { fieldManager } : {}),
    dryRun: request.dryRun === true,
    ...(isRecord(request.object) ? { object: request.object } : {}),
    ...(isRecord(request.oldObject) ? { oldObject: request.oldObject } : {}),
  };
}

/** The answer: `allowed`, and for a denial the message kubectl prints (403). */
export function admissionResponse(uid: string, allowed: boolean, message?: string): Record<string, unknown> {
  return {
    apiVersion: ADMISSION_API_VERSION,
    kind: "AdmissionReview",
    response: { uid, allowed, ...(allowed || !message ? {} : { status: { code: 403, reason: "Forbidden", message } }) },
  };
}
