import { OPERATION_ACTIONS, type HistoryAction } from "./entry.ts";
import { parseRevision } from "./revision.ts";

/**
 * How `fjord reconcile|suspend|resume|rollback` tell the controller who asked: a JSON annotation
 * `{"action":"suspend","actor":"alice","at":"<RFC 3339>"}` written in the same patch as the
 * request itself (a rollback adds `"target":"main@sha1:<sha>"`, the revision it restored). The controller turns each new value into one history entry. The value is
 * written by whoever may patch the Application, so it is parsed strictly: bounded, no control
 * characters (a forged newline must not forge a second audit line), a known action and a time.
 */
export const OPERATION_ANNOTATION = "fjord.dev/requested-operation";

export const MAX_ACTOR_LENGTH = 256;
const MAX_ANNOTATION_LENGTH = 1024;
// C0, DEL, C1 and the Unicode line/paragraph separators: anything that could break a line or a terminal.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

export interface RequestedOperation {
  action: Exclude<HistoryAction, "sync">;
  actor: string;
  /** When it was asked for (the CLI's clock); with the action, what makes two requests two entries. */
  at: string;
  /** rollback only, and required there: the revision whose content was restored. */
  target?: string;
}

export function validActor(actor: string): boolean {
  return actor.length > 0 && actor.length <= MAX_ACTOR_LENGTH && !CONTROL.test(actor);
}

/** The annotation's value for a request; throws for an actor that the controller would refuse. */
export function operationAnnotation(operation: RequestedOperation): Record<string, string> {
  if (!validActor(operation.actor)) throw new Error(`actor ${JSON.stringify(operation.actor)} is empty, longer than ${MAX_ACTOR_LENGTH} characters or has control characters`);
  const target = targetProblem(operation.action, operation.target);
  if (target !== undefined) throw new Error(target);
  return { [OPERATION_ANNOTATION]: JSON.stringify({ action: operation.action, actor: operation.actor, at: operation.at, ...(operation.target !== undefined ? { target: operation.target } : {}) }) };
}

/** The operation an annotation value asks to record, or a reason it is refused. */
export function parseOperation(value: string): RequestedOperation | { refused: string } {
  if (value.length > MAX_ANNOTATION_LENGTH) return { refused: `longer than ${MAX_ANNOTATION_LENGTH} characters` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { refused: "not JSON" };
  }
  const { action, actor, at, target } = (typeof parsed === "object" && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (typeof action !== "string" || !OPERATION_ACTIONS.includes(action as HistoryAction)) return { refused: `unknown action (want one of ${OPERATION_ACTIONS.join(", ")})` };
  if (typeof actor !== "string" || !validActor(actor)) return { refused: `actor is empty, longer than ${MAX_ACTOR_LENGTH} characters or has control characters` };
  if (typeof at !== "string" || at.length > 64 || CONTROL.test(at) || Number.isNaN(Date.parse(at))) return { refused: "at is not a time" };
  const problem = targetProblem(action as HistoryAction, target);
  if (problem !== undefined) return { refused: problem };
  return { action: action as RequestedOperation["action"], actor, at: new Date(Date.parse(at)).toISOString(), ...(typeof target === "string" ? { target } : {}) };
}

/** A rollback names the revision it restored, as `main@sha1:<full sha>`; no other operation names one. */
function targetProblem(action: HistoryAction, target: unknown): string | undefined {
  if (action !== "rollback") return target === undefined ? undefined : `target is only for rollback, not ${action}`;
  return typeof target === "string" && parseRevision(target) !== undefined ? undefined : "a rollback's target must be a revision such as main@sha1:<40 hex digits>";
}
