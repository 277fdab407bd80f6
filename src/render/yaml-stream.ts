import { isMap, isScalar, isSeq, LineCounter, type Document, type ParsedNode, type YAMLError } from "yaml";
import { documentAround, mayQuoteFrom } from "../input/secret-text.ts";
import { describeConversionError, describeYamlError, parseYamlDocuments, YamlLimitError, type YamlLimits } from "../input/yaml.ts";
import { RenderError } from "./errors.ts";
import { kubeScalarTags } from "./kube-yaml-schema.ts";

/** One non-empty document of a YAML stream, as plain JSON, with where it starts. */
export interface YamlDocument {
  value: unknown;
  /** 1-based line of the document's first node (its first key, not the `---`). */
  line: number;
  /** For a document with an `items` sequence (a List): the line of each item. */
  itemLines?: number[];
  /** Size of the document once its aliases are expanded: its scalars' text and its nodes. */
  expandedBytes: number;
  expandedNodes: number;
}

export interface StreamOrigin {
  /** The file named in errors, relative to the repository root. */
  file: string;
  /**
   * Set when the text is a tool's output rather than the file itself (helm, kustomize), so
   * its line numbers are described as lines of the output instead of lines of `file`.
   */
  renderedBy?: string;
  /**
   * The text is, or comes from, a decrypted file: errors never quote it. (Text that looks like
   * a Secret or a SOPS file is never quoted either; see mayQuoteFrom.)
   */
  sensitive?: boolean;
}

/** Keys collide when they would become the same JSON key, e.g. `1` and `"1"`, or `on` and `true`. */
function jsonKeyOf(key: ParsedNode | null): string | undefined {
  if (key === null) return "";
  if (!isScalar(key)) return undefined; // collection keys are stringified; never equal to another node
  if (typeof key.value === "symbol") return undefined; // `<<` merge keys may repeat
  return jsonKey(key.value);
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
  keyIdentity: jsonKeyOf,
} as const;

function lineExcerpt(text: string, lineCounter: LineCounter, line: number, column: number): string {
  const start = lineCounter.lineStarts[line - 1] ?? 0;
  const end = text.indexOf("\n", start);
  const source = text.slice(start, end < 0 ? undefined : end).replace(/\r$/, "");
  return `${source}\n${" ".repeat(Math.max(0, column - 1))}^`;
}

function mayQuote(text: string, offset: number, origin: StreamOrigin): boolean {
  return origin.sensitive !== true && mayQuoteFrom(text, documentAround(text, offset));
}

function parseFailure(error: YAMLError, text: string, lineCounter: LineCounter, origin: StreamOrigin): RenderError {
  const { line, col } = lineCounter.linePos(error.pos[0]);
  const invalidValue = error.code === "TAG_RESOLVE_FAILED";
  const what = invalidValue ? "unusable YAML value" : "malformed YAML";
  // Never a line of a Secret, a SOPS file or a document of unknown kind: it may hold a secret.
  const quote = mayQuote(text, error.pos[0], origin);
  const reason = describeYamlError(error, quote);
  const excerpt = quote ? { output: lineExcerpt(text, lineCounter, line, col) } : {};
  if (origin.renderedBy) {
    return new RenderError(invalidValue ? "yaml-value" : "yaml-syntax", `${what} in the output of ${origin.renderedBy}, at line ${line}:${col} of that output: ${reason}`, {
      file: origin.file,
      ...excerpt,
      fix: `fix the template or kustomization that produces this output`,
    });
  }
  return new RenderError(invalidValue ? "yaml-value" : "yaml-syntax", `${what}: ${reason}`, {
    file: origin.file,
    line,
    column: col,
    ...excerpt,
  });
}

const LIMIT_FIXES: Record<YamlLimitError["kind"], string> = {
  "document-size": "split it into one document per object, with --- between them",
  "document-tokens": "split it into one document per object, with --- between them",
  "stream-tokens": "split the file",
  depth: "flatten the structure: no Kubernetes object nests that deeply",
  aliases: "write the repeated blocks out instead of aliasing them",
  "alias-cycle": "make the alias refer to an anchor outside the node that holds it",
  expansion: "write the repeated blocks out, or use fewer aliases",
};

function limitFailure(error: YamlLimitError, lineCounter: LineCounter, origin: StreamOrigin): RenderError {
  const { line, col } = lineCounter.linePos(error.offset);
  const fix = LIMIT_FIXES[error.kind];
  if (origin.renderedBy) {
    return new RenderError("limit-exceeded", `${error.message}, at line ${line}:${col} of the output of ${origin.renderedBy}`, { file: origin.file, fix });
  }
  return new RenderError("limit-exceeded", error.message, { file: origin.file, line, column: col, fix });
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
 * The documents of a multi-document YAML (or JSON) text as plain JSON values, one at a time,
 * read the way kubectl would read them (see kube-yaml-schema.ts) and within fjord's limits
 * (src/input/limits.ts). Documents that are empty, only comments, or `null` are left out. Any
 * error fails the whole text, naming file, line and column.
 */
export function* yamlStream(text: string, origin: StreamOrigin, limits: Partial<YamlLimits> = {}): Generator<YamlDocument> {
  const lineCounter = new LineCounter();
  const documents = parseYamlDocuments(text, { ...PARSE_OPTIONS, lineCounter, limits });
  for (;;) {
    let next: IteratorResult<{ document: Document.Parsed; expandedBytes: number; expandedNodes: number }>;
    try {
      next = documents.next();
    } catch (error) {
      if (error instanceof YamlLimitError) throw limitFailure(error, lineCounter, origin);
      throw error;
    }
    if (next.done) return;
    const { document: doc, expandedBytes, expandedNodes } = next.value;
    const error = doc.errors[0];
    if (error) throw parseFailure(error, text, lineCounter, origin);
    if (doc.contents === null) continue;
    const line = startLine(doc.contents, lineCounter);
    let value: unknown;
    try {
      // Aliases were counted and their expansion measured above.
      value = doc.toJS({ maxAliasCount: -1 });
    } catch (cause) {
      // Unresolved aliases and malformed merge keys surface only while converting; the package's message names the alias, which in a Secret is its value.
      const reason = describeConversionError(cause, mayQuote(text, doc.range[0], origin));
      throw new RenderError("yaml-syntax", `malformed YAML: ${reason}`, origin.renderedBy ? { file: origin.file } : { file: origin.file, line });
    }
    if (value === null) continue;
    const itemLines = listItemLines(doc, lineCounter);
    yield itemLines ? { value, line, itemLines, expandedBytes, expandedNodes } : { value, line, expandedBytes, expandedNodes };
  }
}

/** Every document of a YAML text at once; for small files (Chart.yaml, kustomizations). */
export function parseYamlStream(text: string, origin: StreamOrigin, limits: Partial<YamlLimits> = {}): YamlDocument[] {
  return [...yamlStream(text, origin, limits)];
}
