import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type ParsedNode, type YAMLError } from "yaml";
import { RenderError } from "./errors.ts";
import { kubeScalarTags } from "./kube-yaml-schema.ts";

/** One non-empty document of a YAML stream, as plain JSON, with where it starts. */
export interface YamlDocument {
  value: unknown;
  /** 1-based line of the document's first node (its first key, not the `---`). */
  line: number;
  /** For a document with an `items` sequence (a List): the line of each item. */
  itemLines?: number[];
}

export interface StreamOrigin {
  /** The file named in errors, relative to the repository root. */
  file: string;
  /**
   * Set when the text is a tool's output rather than the file itself (helm, kustomize), so
   * its line numbers are described as lines of the output instead of lines of `file`.
   */
  renderedBy?: string;
}

/** Keys collide when they would become the same JSON key, e.g. `1` and `"1"`, or `on` and `true`. */
function sameJsonKey(a: ParsedNode, b: ParsedNode): boolean {
  if (!isScalar(a) || !isScalar(b)) return a === b;
  if (typeof a.value === "symbol" || typeof b.value === "symbol") return false; // `<<` merge keys may repeat
  return jsonKey(a.value) === jsonKey(b.value);
}

function jsonKey(value: unknown): string {
  if (value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value) ?? "";
}

const PARSE_OPTIONS = {
  schema: "failsafe",
  customTags: kubeScalarTags,
  merge: true,
  resolveKnownTags: false,
  uniqueKeys: sameJsonKey,
  prettyErrors: false,
} as const;

/** Aliases may be expanded this many times per document; guards against "billion laughs" input. */
const MAX_ALIAS_COUNT = 100;

function lineExcerpt(text: string, lineCounter: LineCounter, line: number, column: number): string {
  const start = lineCounter.lineStarts[line - 1] ?? 0;
  const end = text.indexOf("\n", start);
  const source = text.slice(start, end < 0 ? undefined : end).replace(/\r$/, "");
  return `${source}\n${" ".repeat(Math.max(0, column - 1))}^`;
}

function parseFailure(error: YAMLError, text: string, lineCounter: LineCounter, origin: StreamOrigin): RenderError {
  const { line, col } = lineCounter.linePos(error.pos[0]);
  const invalidValue = error.code === "TAG_RESOLVE_FAILED";
  const what = invalidValue ? "unusable YAML value" : "malformed YAML";
  const excerpt = lineExcerpt(text, lineCounter, line, col);
  if (origin.renderedBy) {
    return new RenderError(invalidValue ? "yaml-value" : "yaml-syntax", `${what} in the output of ${origin.renderedBy}, at line ${line}:${col} of that output: ${error.message}`, {
      file: origin.file,
      output: excerpt,
      fix: `fix the template or kustomization that produces this output`,
    });
  }
  return new RenderError(invalidValue ? "yaml-value" : "yaml-syntax", `${what}: ${error.message}`, {
    file: origin.file,
    line,
    column: col,
    output: excerpt,
  });
}

function startLine(node: ParsedNode, lineCounter: LineCounter): number {
  return lineCounter.linePos(node.range[0]).line;
}

function listItemLines(doc: Document.Parsed, lineCounter: LineCounter): number[] | undefined {
  if (!isMap(doc.contents)) return undefined;
  const items = doc.contents.get("items", true);
  return isSeq(items) ? items.items.map((item) => startLine(item as ParsedNode, lineCounter)) : undefined;
}

/**
 * Parses a multi-document YAML (or JSON) text into plain JSON values, the way kubectl would
 * read it (see kube-yaml-schema.ts). Documents that are empty, only comments, or `null` are
 * left out. Any error fails the whole text, naming file, line and column.
 */
export function parseYamlStream(text: string, origin: StreamOrigin): YamlDocument[] {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { ...PARSE_OPTIONS, lineCounter });
  const result: YamlDocument[] = [];
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error) throw parseFailure(error, text, lineCounter, origin);
    if (doc.contents === null) continue;
    const line = startLine(doc.contents, lineCounter);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (cause) {
      // Alias expansion limits and malformed merge keys surface only while converting.
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new RenderError("yaml-syntax", `malformed YAML: ${reason}`, origin.renderedBy ? { file: origin.file } : { file: origin.file, line });
    }
    if (value === null) continue;
    const itemLines = listItemLines(doc, lineCounter);
    result.push(itemLines ? { value, line, itemLines } : { value, line });
  }
  return result;
}
