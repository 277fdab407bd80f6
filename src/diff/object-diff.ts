import { createTwoFilesPatch } from "diff";
import { stringify } from "yaml";
import type { KubeObject } from "../model/object.ts";

/** Fields that differ between any two reads of an object and say nothing about its desired state. */
function forDisplay(object: KubeObject): KubeObject {
  const { status: _status, ...rest } = object;
  const metadata = { ...object.metadata };
  for (const field of ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"]) delete metadata[field];
  return { ...rest, metadata };
}

/**
 * Secret values never reach a terminal or a log: every value becomes a mask, and a value
 * that differs between the two sides gets a different mask, so the diff still shows *that*
 * it changed, never *what* it is.
 */
export function maskSecrets(before: KubeObject | undefined, after: KubeObject | undefined): [KubeObject | undefined, KubeObject | undefined] {
  const isSecret = (object: KubeObject | undefined) => object?.kind === "Secret" && (object.apiVersion === "v1" || object.apiVersion === undefined);
  if (!isSecret(before) && !isSecret(after)) return [before, after];
  const mask = (object: KubeObject | undefined, other: KubeObject | undefined, label: string): KubeObject | undefined => {
    if (!object) return object;
    const masked: KubeObject = { ...object };
    for (const field of ["data", "stringData"] as const) {
      const values = object[field] as Record<string, string> | undefined;
      if (!values) continue;
      const otherValues = (other?.[field] as Record<string, string> | undefined) ?? {};
      masked[field] = Object.fromEntries(
        Object.keys(values).map((key) => [key, otherValues[key] === undefined || otherValues[key] === values[key] ? "***" : `*** (${label})`]),
      );
    }
    return masked;
  };
  return [mask(before, after, "before"), mask(after, before, "after")];
}

export function toDisplayYaml(object: KubeObject | undefined): string {
  return object ? stringify(forDisplay(object), { lineWidth: 0 }) : "";
}

/** A unified diff of live (before) against desired (after); empty when they show the same. */
export function objectDiff(name: string, live: KubeObject | undefined, desired: KubeObject | undefined): string {
  const [before, after] = maskSecrets(live, desired);
  const oldText = toDisplayYaml(before);
  const newText = toDisplayYaml(after);
  if (oldText === newText) return "";
  return createTwoFilesPatch(live ? `live/${name}` : "/dev/null", desired ? `git/${name}` : "/dev/null", oldText, newText, "", "", { context: 3 });
}
