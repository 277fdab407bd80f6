/**
 * Defensive readers for live objects. Health is evaluated on whatever the API server (or a
 * controller with a bug) put in `status`, so a missing or mistyped field must read as "not
 * reported" instead of throwing.
 */

function lookup(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** An integer field, or `fallback` when absent; the API server omits counters that are zero. */
export function intAt(value: unknown, path: string, fallback = 0): number {
  const found = lookup(value, path);
  return typeof found === "number" && Number.isFinite(found) ? found : fallback;
}

export function optionalIntAt(value: unknown, path: string): number | undefined {
  const found = lookup(value, path);
  return typeof found === "number" && Number.isFinite(found) ? found : undefined;
}

export function stringAt(value: unknown, path: string): string | undefined {
  const found = lookup(value, path);
  return typeof found === "string" && found !== "" ? found : undefined;
}

export function booleanAt(value: unknown, path: string): boolean {
  return lookup(value, path) === true;
}

/** The plain objects in an array field; anything else in it is skipped. */
export function recordsAt(value: unknown, path: string): Record<string, unknown>[] {
  const found = lookup(value, path);
  if (!Array.isArray(found)) return [];
  return found.filter((item): item is Record<string, unknown> => typeof item === "object" && item !== null && !Array.isArray(item));
}

export function stringsAt(value: unknown, path: string): string[] {
  const found = lookup(value, path);
  return Array.isArray(found) ? found.filter((item): item is string => typeof item === "string") : [];
}

/** "1 replica", "3 replicas". */
export function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
