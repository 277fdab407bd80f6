/**
 * Reading and writing the single-object manifests that sealing works on. Errors name the
 * source, line and column but never quote the text: the text is usually a Secret.
 */
import { stringify, type Document } from "yaml";
import { parseAllYamlDocuments, YamlLimitError } from "../../input/yaml.ts";

export type ManifestFormat = "yaml" | "json";

/**
 * One YAML (1.1, as kubectl reads it) or JSON document as plain JSON. Like kubeseal, a stream
 * of several documents is refused rather than silently sealing only the first.
 */
export function parseManifest(text: string, source: string): unknown {
  let docs: Document.Parsed[];
  try {
    docs = parseAllYamlDocuments(text, { version: "1.1" });
  } catch (error) {
    if (error instanceof YamlLimitError) throw new Error(`${source}: ${error.message}`, { cause: error });
    throw error;
  }
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
  }
  if (nonEmpty.length === 0) throw new Error(`${source} is empty`);
  if (nonEmpty.length > 1) throw new Error(`${source} holds ${nonEmpty.length} documents; give exactly one object`);
  try {
    // Aliases were counted and their expansion measured while parsing.
    return nonEmpty[0]!.toJS({ maxAliasCount: -1 });
  } catch {
    throw new Error(`${source} is not valid YAML or JSON (bad alias or merge key)`);
  }
}

/** YAML keeps strings that YAML 1.1 readers would take for booleans or numbers (`yes`, `012`) quoted; base64 is never folded. */
export function formatManifest(value: unknown, format: ManifestFormat): string {
  return format === "json" ? `${JSON.stringify(value, null, 2)}\n` : stringify(value, { version: "1.1", lineWidth: 0 });
}
