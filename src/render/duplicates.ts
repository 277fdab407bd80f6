import { describeRef, describeSource, refKey, refOf, type RenderedObject } from "../model/object.ts";
import { RenderError } from "./errors.ts";

/**
 * Two objects with the same identity would fight over one cluster object, the last applied
 * silently winning. Identity is group/kind/namespace/name with the namespace as written (a
 * missing one is ""), because the default namespace is applied later. Objects without a name
 * (generateName) have no identity yet and are left out.
 */
export function assertNoDuplicates(objects: readonly RenderedObject[]): void {
  const seen = new Map<string, RenderedObject>();
  for (const rendered of objects) {
    if (!rendered.object.metadata.name) continue;
    const ref = refOf(rendered.object);
    const key = refKey(ref);
    const first = seen.get(key);
    if (first) {
      throw new RenderError("duplicate", `${describeRef(ref)} is defined twice: in ${describeSource(first.source)} and in ${describeSource(rendered.source)}`, {
        file: rendered.source.file,
        ...(rendered.source.line !== undefined ? { line: rendered.source.line } : {}),
        fix: "keep one definition; if both are meant, give them different names or namespaces",
      });
    }
    seen.set(key, rendered);
  }
}
