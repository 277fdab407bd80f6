/**
 * Reading and writing the single-object manifests that sealing works on. Errors name the
 * source, line and column but never quote the text: the text is usually a Secret.
 */
import { isMap, isScalar, isSeq, parseAllDocuments, stringify, type Node } from "yaml";

export type ManifestFormat = "yaml" | "json";

/**
 * One YAML (1.1, as kubectl reads it) or JSON document as plain JSON. Like kubeseal, a stream
 * of several documents is refused rather than silently sealing only the first.
 */
export function parseManifest(text: string, source: string): unknown {
  // yaml's own duplicate-key check compares each key with every earlier one, which takes
  // minutes for a map of a few hundred thousand keys; duplicateKey() does it in one pass.
  const docs = parseAllDocuments(text, { version: "1.1", prettyErrors: false, uniqueKeys: false });
  const nonEmpty = docs.filter((doc) => doc.errors.length > 0 || (doc.contents !== null && doc.contents !== undefined));
  const refuse = (code: string, offset: number) => {
    const before = text.slice(0, offset);
    const line = before.split("\n").length;
    const column = before.length - before.lastIndexOf("\n");
    return new Error(`${source} is not valid YAML or JSON (${code} at line ${line}, column ${column})`);
  };
  for (const doc of nonEmpty) {
    const error = doc.errors[0];
    if (error) throw refuse(error.code, error.pos[0]);
    const duplicate = duplicateKey(doc.contents);
    if (duplicate !== undefined) throw refuse("DUPLICATE_KEY", duplicate);
  }
  if (nonEmpty.length === 0) throw new Error(`${source} is empty`);
  if (nonEmpty.length > 1) throw new Error(`${source} holds ${nonEmpty.length} documents; give exactly one object`);
  try {
    return nonEmpty[0]!.toJS({ maxAliasCount: 100 });
  } catch {
    throw new Error(`${source} is not valid YAML or JSON (bad alias or merge key)`);
  }
}

/** Where the first key that repeats an earlier one of its map starts, if any; merge keys (`<<`) may repeat. */
function duplicateKey(root: unknown): number | undefined {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const node = pending.pop();
    if (isSeq(node)) pending.push(...node.items);
    if (!isMap(node)) continue;
    const seen = new Set<string>();
    for (const { key, value } of node.items) {
      pending.push(value);
      if (!isScalar(key) || typeof key.value === "symbol") continue;
      const name = typeof key.value === "string" ? `s:${key.value}` : `v:${String(key.value)}`;
      if (seen.has(name)) return (key as Node).range?.[0] ?? 0;
      seen.add(name);
    }
  }
  return undefined;
}

/** YAML keeps strings that YAML 1.1 readers would take for booleans or numbers (`yes`, `012`) quoted; base64 is never folded. */
export function formatManifest(value: unknown, format: ManifestFormat): string {
  return format === "json" ? `${JSON.stringify(value, null, 2)}\n` : stringify(value, { version: "1.1", lineWidth: 0 });
}
