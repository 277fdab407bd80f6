/**
 * The one reader for configuration files that fjord and a tool both read (Chart.yaml, every
 * kustomization). fjord checks them before the tool runs, so a file must mean exactly the same
 * to both, and YAML leaves room for disagreement: go-yaml v2 (inside helm and kustomize) lets a
 * later merge key (`<<`) override an explicit key where the YAML spec and the `yaml` package
 * let the explicit key win; Go's encoding/json matches field names case-insensitively and with
 * Unicode folding (`Resources`, `reſources` with U+017F and `Kind` with U+212A all land on
 * the Go field) where JavaScript sees other keys. So this reader refuses, with the file, the key
 * and the fix, everything on which two readers could differ:
 *
 * - merge keys, anchors and aliases, explicit tags, directives (`%YAML`, `%TAG`);
 * - more than one document, text that is not UTF-8;
 * - duplicate keys and keys that are not plain strings (`1:`, `on:`, `~:`, `[a]:`);
 * - keys that are not byte-identical to the field the tool knows but that encoding/json would
 *   fold onto it;
 * - for kustomizations, top-level fields kustomize does not know (kustomize refuses them too)
 *   and scalars that span lines without being block scalars (folding rules differ in corners).
 *
 * What is accepted then has one meaning for both readers, and is returned as plain JSON.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, Parser, type Document, type Node as YamlNode, LineCounter } from "yaml";
import { parseAllYamlDocuments, YamlLimitError } from "../input/yaml.ts";
import { RenderError } from "./errors.ts";
import { kubeScalarTags } from "./kube-yaml-schema.ts";

/** What a place in the file holds, as far as the tool's Go types say. */
export type Shape =
  | { kind: "struct"; fields: Readonly<Record<string, Shape>>; closed?: boolean }
  | { kind: "list"; of: Shape }
  | { kind: "map"; of: Shape }
  | { kind: "scalar" }
  | { kind: "any" };

export const scalar: Shape = { kind: "scalar" };
export const anything: Shape = { kind: "any" };
export const listOf = (of: Shape): Shape => ({ kind: "list", of });
export const mapOf = (of: Shape): Shape => ({ kind: "map", of });
export const struct = (fields: Record<string, Shape>, options: { closed?: boolean } = {}): Shape => ({ kind: "struct", fields, ...options });

export interface ToolConfigKind {
  /** The tool that reads the file, for messages ("kustomize", "helm"). */
  tool: string;
  shape: Shape;
  /** Refuse flow scalars (plain or quoted) that span several lines. */
  singleLineScalars: boolean;
}

/** Configuration files are small; anything larger is refused before parsing. */
export const MAX_TOOL_CONFIG_BYTES = 1024 * 1024;

const PARSE_OPTIONS = {
  schema: "failsafe",
  customTags: kubeScalarTags,
  merge: false,
  resolveKnownTags: false,
  uniqueKeys: false,
  prettyErrors: false,
} as const;

/**
 * Go's encoding/json matches a key to a field when bytes.EqualFold says they are equal. Field
 * names are ASCII, and the only non-ASCII runes whose simple case folding reaches ASCII are
 * U+017F (long s, folds to s) and U+212A (Kelvin sign, folds to k).
 */
export function goFold(key: string): string {
  return key.replace(/[A-Z\u017f\u212a]/g, (char) => (char === "\u017f" ? "s" : char === "\u212a" ? "k" : char.toLowerCase()));
}

/** Keys shown in messages: escaped (a look-alike must look different), and never too long. */
function showKey(key: string): string {
  const escaped = JSON.stringify(key).slice(1, -1).replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return escaped.length > 80 ? `${escaped.slice(0, 77)}...` : escaped;
}

interface Reader {
  file: string;
  text: string;
  kind: ToolConfigKind;
  lines: LineCounter;
}

function refuse(reader: Reader, offset: number, problem: string, fix: string): RenderError {
  const { line, col } = reader.lines.linePos(offset);
  return new RenderError("tool-config", problem, { file: reader.file, line, column: col, fix });
}

function where(path: readonly string[]): string {
  return path.length === 0 ? "at the top level" : `under ${path.join(".")}`;
}

function checkNodeProperties(reader: Reader, node: YamlNode, path: readonly string[]): void {
  const at = node.range?.[0] ?? 0;
  if (node.anchor) {
    throw refuse(reader, at, `anchor &${showKey(node.anchor)} ${where(path)}: fjord does not accept YAML anchors in files ${reader.kind.tool} reads`, "write the value out in full instead of using anchors and aliases");
  }
  if (node.tag) {
    throw refuse(reader, at, `explicit tag ${showKey(node.tag)} ${where(path)}: fjord does not accept YAML tags in files ${reader.kind.tool} reads`, "remove the tag; quote the value if it is meant as a string");
  }
}

function fieldFor(reader: Reader, shape: Shape, key: string, offset: number, path: readonly string[]): Shape {
  if (shape.kind === "map") return shape.of;
  if (shape.kind !== "struct") return anything;
  const known = shape.fields[key];
  if (known) return known;
  const folded = goFold(key);
  const meant = Object.keys(shape.fields).find((field) => goFold(field) === folded);
  if (meant !== undefined) {
    throw refuse(
      reader,
      offset,
      `key "${showKey(key)}" ${where(path)} is not "${meant}", but ${reader.kind.tool} would read it as "${meant}" (Go matches field names ignoring case)`,
      `write \`${meant}\``,
    );
  }
  if (shape.closed) {
    throw refuse(reader, offset, `unknown field "${showKey(key)}" ${where(path)}: ${reader.kind.tool} does not know it`, "remove it, or check its spelling against the kustomization reference");
  }
  return anything;
}

function checkScalarLines(reader: Reader, node: YamlNode, path: readonly string[]): void {
  if (!reader.kind.singleLineScalars || !isScalar(node)) return;
  if (node.type !== "PLAIN" && node.type !== "QUOTE_SINGLE" && node.type !== "QUOTE_DOUBLE") return;
  const [start, end] = node.range ?? [0, 0];
  if (/[\r\n]/.test(reader.text.slice(start, end))) {
    throw refuse(reader, start, `a value ${where(path)} spans several lines`, "write it on one line, or as a block scalar (`|`)");
  }
}

function walk(reader: Reader, node: unknown, shape: Shape, path: readonly string[]): void {
  if (isAlias(node)) {
    throw refuse(reader, node.range?.[0] ?? 0, `alias *${showKey(node.source)} ${where(path)}: fjord does not accept YAML aliases in files ${reader.kind.tool} reads`, "write the value out in full instead of using anchors and aliases");
  }
  if (node === null || node === undefined) return;
  const yamlNode = node as YamlNode;
  checkNodeProperties(reader, yamlNode, path);
  checkScalarLines(reader, yamlNode, path);
  if (isSeq(node)) {
    const of = shape.kind === "list" ? shape.of : anything;
    node.items.forEach((item, index) => walk(reader, item, of, [...path.slice(0, -1), `${path.at(-1) ?? ""}[${index}]`]));
    return;
  }
  if (!isMap(node)) return;
  const seen = new Set<string>();
  for (const pair of node.items) {
    if (!isPair(pair)) continue;
    const key = pair.key;
    if (isAlias(key)) walk(reader, key, anything, path);
    if (!isScalar(key)) {
      const offset = (key as YamlNode | null)?.range?.[0] ?? node.range?.[0] ?? 0;
      throw refuse(reader, offset, `a key ${where(path)} is not a plain string`, "use plain field names as keys");
    }
    checkNodeProperties(reader, key, path);
    const offset = key.range?.[0] ?? 0;
    if (typeof key.value !== "string") {
      const read = key.value === null ? "null" : typeof key.value === "number" ? "a number" : typeof key.value === "boolean" ? "a boolean" : "not a string";
      throw refuse(reader, offset, `key "${showKey(String(key.source ?? key.value))}" ${where(path)} is read as ${read}, not as a string, by YAML 1.1 (as in ${reader.kind.tool})`, "quote the key");
    }
    if (key.value === "<<") {
      throw refuse(reader, offset, `merge key << ${where(path)}: go-yaml and fjord resolve merge keys differently`, "write the merged keys out in full");
    }
    if (seen.has(key.value)) {
      throw refuse(reader, offset, `key "${showKey(key.value)}" appears twice ${where(path)}`, "keep one of them");
    }
    seen.add(key.value);
    walk(reader, pair.value, fieldFor(reader, shape, key.value, offset, path), [...path, showKey(key.value)]);
  }
}

/** A document with nothing in it: no node, or the empty (null) scalar an explicit `---` leaves. */
function isEmpty(contents: unknown): boolean {
  return contents === null || (isScalar(contents) && contents.value === null);
}

function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new RenderError("tool-config", "the file is not valid UTF-8", { file, fix: "save it as UTF-8" });
  }
}

/**
 * Reads a configuration file that both fjord and `kind.tool` read. Returns its content as plain
 * JSON (null for an empty file); throws a RenderError naming `file` (repository-relative) for
 * anything the two readers could understand differently.
 */
export function readToolConfig(bytes: Uint8Array, file: string, kind: ToolConfigKind): unknown {
  if (bytes.length > MAX_TOOL_CONFIG_BYTES) {
    throw new RenderError("tool-config", `the file is ${bytes.length} bytes; fjord reads ${kind.tool} configuration files of at most ${MAX_TOOL_CONFIG_BYTES} bytes`, {
      file,
      fix: "split it, or move large content into the files it refers to",
    });
  }
  const text = decodeUtf8(bytes, file);
  const lines = new LineCounter();
  const reader: Reader = { file, text, kind, lines };
  let docs: Document.Parsed[];
  try {
    // Bounded like every other parse of Git content: tokens, nesting and size are checked before a tree is built.
    docs = parseAllYamlDocuments(text, { ...PARSE_OPTIONS, lineCounter: lines });
  } catch (error) {
    if (error instanceof YamlLimitError) throw refuse(reader, error.offset, error.message, "make the file smaller or flatter");
    throw error;
  }
  // Only now that the bounded parse has passed: the parser recurses per level of nesting, and an
  // unbounded parse of `: : : ...` overflowed the stack here.
  for (const token of new Parser().parse(text)) {
    if (token.type === "directive") throw refuse(reader, token.offset, `YAML directive ${showKey(token.source.trim())}`, "remove the directive");
  }
  // A trailing `---` (an empty document) is harmless; content after the first document is not.
  const extra = docs.slice(1).find((doc) => !isEmpty(doc.contents) || doc.errors.length > 0);
  if (extra) {
    throw refuse(reader, extra.range[0], `the file holds more than one YAML document; ${kind.tool} reads only the first`, "keep one document in the file");
  }
  const doc = docs[0];
  if (!doc) return null;
  const error = doc.errors[0];
  if (error) throw refuse(reader, error.pos[0], `malformed YAML: ${error.message}`, "fix the YAML syntax");
  const contents = doc.contents;
  walk(reader, contents, kind.shape, []);
  if (contents === null || isEmpty(contents)) return null;
  if (!isMap(contents)) {
    throw refuse(reader, contents.range?.[0] ?? 0, `the file must hold a mapping of fields`, `write it as \`field: value\` lines, as ${kind.tool} expects`);
  }
  return doc.toJS();
}
