import { LineCounter, parse, type Document, type Scalar } from "yaml";
import { MAX_DOCUMENT_TOKENS } from "../../input/limits.ts";
import { mayHoldSecrets } from "../../input/secret-text.ts";
import { describeYamlError, parseAllYamlDocuments, parseYamlDocuments, YamlLimitError } from "../../input/yaml.ts";

// Edits are found through the yaml Document API (nodes, their source ranges, comments) but
// applied as splices of the original text: Document.toString() re-flows what it cannot
// represent exactly (sequence indentation, long lines, flow collections, blank lines inside
// blocks), and a commit that changes one tag must show exactly one changed line.

export interface ParsedYaml {
  text: string;
  documents: Document.Parsed[];
  lines: LineCounter;
}

export interface YamlSyntaxError {
  /** 1-based line of the first error. */
  line?: number;
  message: string;
}

/**
 * Every document of a file is kept (edits are offsets into the whole text), so the whole file is
 * held to the token limit of one document: its syntax trees cost hundreds of bytes per token.
 */
const LIMITS = { maxStreamTokens: MAX_DOCUMENT_TOKENS };

/** Parses every document of a file; any error makes the whole file unusable (it is then left alone). */
export function parseYaml(text: string): { ok: true; yaml: ParsedYaml } | { ok: false; error: YamlSyntaxError } {
  const lines = new LineCounter();
  let list: Document.Parsed[];
  try {
    // Kubernetes files use YAML 1.1 scalars; the structure is what matters here and is the same.
    list = parseAllYamlDocuments(text, { lineCounter: lines, limits: LIMITS });
  } catch (error) {
    if (!(error instanceof YamlLimitError)) throw error;
    return { ok: false, error: { line: lines.linePos(error.offset).line, message: error.message } };
  }
  for (const document of list) {
    const [error] = document.errors;
    // Messages reach status and Events: nothing of a file that may hold secrets is quoted.
    if (error) return { ok: false, error: { line: lines.linePos(error.pos[0]).line, message: describeYamlError(error, !mayHoldSecrets(text)) } };
  }
  return { ok: true, yaml: { text, documents: list, lines } };
}

/**
 * The first problem of a file that is only checked, not edited: documents are parsed one at a
 * time and dropped, so a file of any size within the per-document limits costs one document's
 * syntax tree at a time.
 */
export function checkYaml(text: string): YamlSyntaxError | undefined {
  const lines = new LineCounter();
  try {
    for (const { document } of parseYamlDocuments(text, { lineCounter: lines })) {
      const [error] = document.errors;
      if (error) return { line: lines.linePos(error.pos[0]).line, message: describeYamlError(error, !mayHoldSecrets(text)) };
    }
  } catch (error) {
    if (!(error instanceof YamlLimitError)) throw error;
    return { line: lines.linePos(error.offset).line, message: error.message };
  }
  return undefined;
}

export function lineOf(yaml: ParsedYaml, offset: number): number {
  return yaml.lines.linePos(offset).line;
}

/** The comment after a node on its own line (`image: app:1 # this`), without the `#`. */
export function trailingComment(text: string, node: Scalar): { text: string; start: number; end: number } | undefined {
  const valueEnd = node.range?.[1];
  if (valueEnd === undefined) return undefined;
  const lineEnd = lineEndAt(text, valueEnd);
  const match = /^([ \t]+)#(.*?)[ \t]*$/.exec(text.slice(valueEnd, lineEnd));
  if (!match) return undefined;
  return { text: match[2] ?? "", start: valueEnd, end: lineEnd };
}

/** The value of a scalar as written, so `1.10` stays `1.10` rather than the number 1.1. */
export function scalarText(node: Scalar): string {
  if (typeof node.source === "string" && node.type === "PLAIN") return node.source;
  return primitiveText(node.value);
}

/** A scalar's value as text; "" for null and for anything that is not a primitive. */
export function primitiveText(value: unknown): string {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "boolean":
    case "bigint":
      return String(value);
    default:
      return "";
  }
}

const PLAIN_SAFE = /^[A-Za-z0-9_./][A-Za-z0-9_./:@+-]*$/;

/**
 * Writes `value` in the style of the scalar it replaces: quotes stay the quotes they were, and a
 * plain scalar stays plain unless that would change its type (`1.10` would become a number and
 * `yes` a boolean to a YAML 1.1 reader such as kubectl) or its meaning.
 */
export function formatScalarLike(value: string, node: Scalar | undefined): string {
  switch (node?.type) {
    case "QUOTE_SINGLE":
      return `'${value.replace(/'/g, "''")}'`;
    case "QUOTE_DOUBLE":
      return JSON.stringify(value);
    default:
      return plainIsString(value) ? value : JSON.stringify(value);
  }
}

function plainIsString(value: string): boolean {
  if (!PLAIN_SAFE.test(value)) return false;
  try {
    return parse(value, { version: "1.1" }) === value && parse(value, { version: "1.2" }) === value;
  } catch {
    return false;
  }
}

export interface TextEdit {
  start: number;
  end: number;
  replacement: string;
}

/** Applies non-overlapping edits given as offsets into the original text. */
export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start || b.end - a.end);
  let result = text;
  let floor = Number.POSITIVE_INFINITY;
  for (const edit of sorted) {
    if (edit.end > floor) throw new Error(`overlapping edits at offset ${edit.start}`);
    result = result.slice(0, edit.start) + edit.replacement + result.slice(edit.end);
    floor = edit.start;
  }
  return result;
}

/** The edit that replaces a scalar's value, keeping its quoting style and anything after it on the line. */
export function replaceScalar(node: Scalar, value: string): TextEdit {
  const [start = 0, end = 0] = node.range ?? [];
  return { start, end, replacement: formatScalarLike(value, node) };
}

export function lineStartAt(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

export function lineEndAt(text: string, offset: number): number {
  const newline = text.indexOf("\n", offset);
  return newline < 0 ? text.length : newline;
}

/** The leading whitespace of the line holding `offset`. */
export function indentationAt(text: string, offset: number): string {
  const start = lineStartAt(text, offset);
  return /^[ \t]*/.exec(text.slice(start))?.[0] ?? "";
}

/** The line break the file uses, so inserted lines match it. */
export function lineBreakOf(text: string): string {
  return text.includes("\r\n") ? "\r\n" : "\n";
}
