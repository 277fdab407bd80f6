/**
 * Deliveries to Receiver objects (fjord.dev Receiver, Flux's shape): how each type proves a
 * delivery, which header names its event, and what its payload must look like. Pure: the route
 * (webhook-route.ts) does the I/O, the controller keeps the table of live Receivers.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { ReceiverObjectType, ReceiverRoute } from "../api/receiver-types.ts";
import { JsonInputError, parseBoundedJson } from "../input/json.ts";
import { WebhookPayloadError } from "./push-payload.ts";
import type { SignatureScheme, WebhookEvent } from "./webhook-signatures.ts";

/** As Flux verifies each type (internal/server/receiver_handlers.go), Gitea with its own signature header. */
export const RECEIVER_SCHEMES: Record<ReceiverObjectType, SignatureScheme> = {
  github: "hub-signature-256",
  gitlab: "gitlab-token",
  gitea: "gitea-signature",
  bitbucket: "hub-signature",
  generic: "path",
  "generic-hmac": "x-signature",
  dockerhub: "path",
  harbor: "authorization",
  quay: "path",
  cdevents: "path",
};

/** The header naming a delivery's event, for types that send one (what spec.events is compared with). */
const EVENT_HEADERS: Partial<Record<ReceiverObjectType, string>> = {
  github: "x-github-event",
  gitlab: "x-gitlab-event",
  gitea: "x-gitea-event",
  bitbucket: "x-event-key",
  cdevents: "ce-type",
};

/**
 * Whether a verified delivery triggers: a GitHub `ping` (sent when the hook is created) never
 * does; with spec.events set, only the events it names (compared without regard to case, as
 * Flux does); otherwise every event.
 */
export function receiverEvent(route: Pick<ReceiverRoute, "type" | "events">, headers: IncomingHttpHeaders): WebhookEvent {
  const header = EVENT_HEADERS[route.type];
  const value = header === undefined ? undefined : headers[header];
  const name = typeof value === "string" ? value : "";
  if (route.type === "github" && name === "ping") return { kind: "ping", name };
  if (route.events.length === 0) return { kind: "push", name };
  const wanted = name.toLowerCase();
  return { kind: route.events.some((event) => event.toLowerCase() === wanted) ? "push" : "ignored", name };
}

/**
 * The registry types carry no signature, so their payload is at least read as what the registry
 * sends (as Flux decodes it) before anything is triggered: a JSON object, and for CDEvents one
 * whose `context.type` is a CDEvent type (`dev.cdevents.*`). Throws WebhookPayloadError.
 */
export function checkReceiverPayload(type: ReceiverObjectType, rawBody: Buffer): void {
  if (type !== "dockerhub" && type !== "quay" && type !== "harbor" && type !== "cdevents") return;
  let payload: unknown;
  try {
    payload = parseBoundedJson(rawBody.toString("utf8"), `${type} payload`);
  } catch (error) {
    if (error instanceof JsonInputError) throw new WebhookPayloadError(error.message);
    throw error;
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) throw new WebhookPayloadError(`${type} payload is not a JSON object`);
  if (type !== "cdevents") return;
  const context = (payload as { context?: unknown }).context;
  const eventType = typeof context === "object" && context !== null ? (context as { type?: unknown }).type : undefined;
  if (typeof eventType !== "string" || !eventType.startsWith("dev.cdevents.")) throw new WebhookPayloadError("cdevents payload has no context.type of a CDEvent (dev.cdevents.*)");
}
