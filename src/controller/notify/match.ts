/**
 * Which Alerts an event goes to. An Alert sees events of its own namespace only (a tenant's
 * Alert cannot read another tenant's failures), of the sources it lists (kind, a name with `*`,
 * labels), at its severity, filtered by its inclusion and exclusion patterns (RE2, linear time:
 * the patterns are tenant input).
 */
import type { Alert, EventSource } from "../../api/notification-types.ts";
import { compileUserPattern, type UserPattern } from "../../util/user-pattern.ts";
import type { NotificationEvent } from "./events.ts";

/** `*` matches any run of characters; everything else literally. No regex: names are plain text. */
export function matchesName(pattern: string, value: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return pattern === value;
  const first = parts[0] ?? "";
  const last = parts[parts.length - 1] ?? "";
  if (!value.startsWith(first) || value.length < first.length + last.length || !value.endsWith(last)) return false;
  let at = first.length;
  const end = value.length - last.length;
  for (const part of parts.slice(1, -1)) {
    const found = value.indexOf(part, at);
    if (found < 0 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

/** An Alert with its patterns compiled once (per generation), ready to match events. */
export interface CompiledAlert {
  alert: Alert;
  inclusion: UserPattern[];
  exclusion: UserPattern[];
}

/** Throws UserPatternError (with the list and index named) for a pattern that cannot be used. */
export function compileAlert(alert: Alert): CompiledAlert {
  const compile = (list: string[] | undefined, field: string) =>
    (list ?? []).map((source, index) => {
      try {
        return compileUserPattern(source);
      } catch (error) {
        throw new Error(`spec.${field}[${index}] ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    });
  return { alert, inclusion: compile(alert.spec.inclusionList, "inclusionList"), exclusion: compile(alert.spec.exclusionList, "exclusionList") };
}

function sourceMatches(source: EventSource, alertNamespace: string, event: NotificationEvent, labels: Readonly<Record<string, string>> | undefined): boolean {
  if ((source.namespace || alertNamespace) !== alertNamespace) return false;
  if (source.kind !== event.object.kind) return false;
  if (!matchesName(source.name, event.object.name)) return false;
  for (const [key, value] of Object.entries(source.matchLabels ?? {})) if (labels?.[key] !== value) return false;
  return true;
}

/** Whether `event` (of an object carrying `labels`) goes to this Alert. */
export function alertMatches(compiled: CompiledAlert, event: NotificationEvent, labels: Readonly<Record<string, string>> | undefined): boolean {
  const { alert } = compiled;
  if (alert.spec.suspend) return false;
  if (event.object.namespace !== alert.metadata.namespace) return false;
  if ((alert.spec.eventSeverity ?? "info") === "error" && event.severity !== "error") return false;
  if (!alert.spec.eventSources.some((source) => sourceMatches(source, alert.metadata.namespace, event, labels))) return false;
  if (compiled.inclusion.length > 0 && !compiled.inclusion.some((pattern) => pattern.test(event.message))) return false;
  return !compiled.exclusion.some((pattern) => pattern.test(event.message));
}
