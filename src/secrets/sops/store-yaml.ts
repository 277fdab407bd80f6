/**
 * YAML documents <-> the SOPS tree, read the way sops reads them (go-yaml v3 types, comments as
 * items of the enclosing map or list, every document of a stream a branch) and written the way
 * it writes them (4-space indentation, block style).
 */
import { Document, isAlias, isMap, isScalar, isSeq, Pair, Scalar, YAMLMap, YAMLSeq, type Alias, type Node } from "yaml";
import { MAX_FILE_BYTES, MAX_NESTING_DEPTH } from "../../input/limits.ts";
import { describeYamlError, parseYamlDocuments, YamlLimitError, type YamlInputDocument } from "../../input/yaml.ts";
import { SopsProblem } from "./errors.ts";
import type { Branches, CommentItem, MapNode, SeqNode, SopsScalar, TreeValue } from "./tree.ts";
import { resolveYamlScalar, yamlScalarText, YamlScalarError } from "./yaml-scalar.ts";

const MAX_DEPTH = MAX_NESTING_DEPTH;

/**
 * A SOPS file is read in full and every alias is expanded into the tree (each value is encrypted
 * on its own), so what it expands to is limited like a file: a handful of nested aliases could
 * otherwise make billions of values (issue 13, attack 6).
 */
const LIMITS = { maxExpandedBytes: MAX_FILE_BYTES };

function commentItems(comment: string | null | undefined, inline = false): CommentItem[] {
  if (!comment) return [];
  return comment
    .split("\n")
    .filter((line) => line !== "")
    .map((text) => (inline ? { kind: "comment", text, inline } : { kind: "comment", text }));
}

function invalid(problem: string, node?: Node, lines?: LineFinder): SopsProblem {
  const line = node?.range && lines ? ` (line ${lines(node.range[0])})` : "";
  return new SopsProblem("invalid-file", `${problem}${line}`);
}

type LineFinder = (offset: number) => number;

interface Reader {
  aliasTargets: ReadonlyMap<Alias, Node>;
  lines: LineFinder;
  depth: number;
}

function scalarOf(reader: Reader, node: Scalar): SopsScalar {
  try {
    return resolveYamlScalar(String(node.value), node.type, node.tag);
  } catch (error) {
    if (error instanceof YamlScalarError) throw invalid(error.message, node, reader.lines);
    throw error;
  }
}

function keyOf(reader: Reader, pair: Pair): string {
  const key = pair.key;
  if (!isScalar(key)) throw invalid("a map key is not a plain value; sops supports only string keys", undefined, reader.lines);
  const scalar = scalarOf(reader, key);
  if (scalar.type !== "str") {
    throw invalid(`map key ${JSON.stringify(String(key.value))} is a ${scalar.type}, and sops supports only string keys: quote it`, key, reader.lines);
  }
  return scalar.value;
}

function resolveAlias(reader: Reader, node: unknown): unknown {
  if (!isAlias(node)) return node;
  const target = reader.aliasTargets.get(node);
  if (!target) throw invalid(`alias *${node.source} has no anchor`, node, reader.lines);
  return target;
}

function valueOf(reader: Reader, raw: unknown): TreeValue {
  const node = resolveAlias(reader, raw);
  if (reader.depth > MAX_DEPTH) throw invalid(`documents nested deeper than ${MAX_DEPTH} levels are not supported`);
  reader.depth++;
  try {
    if (node === null || node === undefined) return { kind: "scalar", scalar: { type: "null" } };
    if (isMap(node)) return mapOf(reader, node);
    if (isSeq(node)) return seqOf(reader, node);
    if (isScalar(node)) return { kind: "scalar", scalar: scalarOf(reader, node) };
    throw invalid("unexpected YAML node", node as Node, reader.lines);
  } finally {
    reader.depth--;
  }
}

function isLeafNode(node: unknown): boolean {
  return isScalar(node) || isAlias(node) || node === null || node === undefined;
}

function mapOf(reader: Reader, map: YAMLMap): MapNode {
  const items: MapNode["items"] = [...commentItems(map.commentBefore)];
  for (const pair of map.items) {
    const key = pair.key as Node | null;
    items.push(...commentItems(key?.commentBefore), ...commentItems(key?.comment));
    const value = pair.value as Node | null;
    const leaf = isLeafNode(value);
    // A comment on a value's own line belongs to the entry before it, as in sops.
    if (leaf && value) items.push(...commentItems(value.commentBefore), ...commentItems(value.comment, true));
    items.push({ kind: "entry", key: keyOf(reader, pair), value: valueOf(reader, value) });
  }
  items.push(...commentItems(map.comment));
  return { kind: "map", items };
}

function seqOf(reader: Reader, seq: YAMLSeq): SeqNode {
  const items: SeqNode["items"] = [...commentItems(seq.commentBefore)];
  for (const item of seq.items as Array<Node | null>) {
    if (isLeafNode(item) && item) items.push(...commentItems(item.commentBefore), ...commentItems(item.comment, true));
    items.push(valueOf(reader, item));
  }
  items.push(...commentItems(seq.comment));
  return { kind: "seq", items };
}

function lineFinder(text: string): LineFinder {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1);
  return (offset) => {
    let line = 0;
    while (line + 1 < starts.length && starts[line + 1]! <= offset) line++;
    return line + 1;
  };
}

/** The documents of a stream, within fjord's limits on YAML (src/input/limits.ts). */
function* documents(text: string, lines: LineFinder): Generator<YamlInputDocument> {
  const parsed = parseYamlDocuments(text, { schema: "failsafe", resolveKnownTags: false, merge: false, limits: LIMITS });
  for (;;) {
    try {
      const next = parsed.next();
      if (next.done) return;
      yield next.value;
    } catch (error) {
      if (error instanceof YamlLimitError) throw new SopsProblem("invalid-file", `${error.message} (line ${lines(error.offset)})`);
      throw error;
    }
  }
}

/** Every document of a YAML stream as a branch; each must be a map (or empty). */
export function loadYaml(text: string): Branches {
  const lines = lineFinder(text);
  const branches: Branches = [];
  for (const { document: doc, aliasTargets } of documents(text, lines)) {
    const error = doc.errors[0];
    // The file holds secrets: the message says what is wrong and where, never quoting the text.
    if (error) throw new SopsProblem("invalid-file", `not valid YAML (line ${lines(error.pos[0])}): ${describeYamlError(error, false)}`);
    const reader: Reader = { aliasTargets, lines, depth: 0 };
    const contents = doc.contents;
    const branch: MapNode = { kind: "map", items: [] };
    if (isMap(contents)) branch.items.push(...mapOf(reader, contents).items);
    else if (isSeq(contents)) throw invalid("YAML documents that are lists are not supported by sops: wrap the list in a map", contents, lines);
    else if (isScalar(contents) && scalarOf(reader, contents).type !== "null") {
      throw invalid("YAML documents that are single values are not supported by sops", contents, lines);
    }
    branch.items.unshift(...commentItems(doc.commentBefore));
    branch.items.push(...commentItems(doc.comment));
    branches.push(branch);
  }
  return branches;
}

const RESERVED_WORDS = new Set(["y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"]);

/** A string that reads back as the same string in YAML 1.1 and 1.2 parsers alike when written plain. */
function isPlainSafe(value: string): boolean {
  if (!/^[A-Za-z_/][A-Za-z0-9_./~=+\-[\],:@]*$/.test(value)) return false;
  if (value.endsWith(":") || RESERVED_WORDS.has(value.toLowerCase())) return false;
  return true;
}

/** Characters a block literal cannot hold (tab and newline it can). */
function hasControlCharacters(value: string): boolean {
  for (const char of value) {
    const code = char.charCodeAt(0);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a) || code === 0x7f || code === 0x85 || code === 0x2028 || code === 0x2029) return true;
  }
  return false;
}

function stringNode(value: string): Scalar {
  const node = new Scalar(value);
  if (isPlainSafe(value)) node.type = "PLAIN";
  // Block literals keep multi-line values readable; control characters need escapes, and a
  // leading space needs an indentation indicator the yaml package gets wrong at indent 4.
  else if (value.includes("\n") && !hasControlCharacters(value) && !/^\n*[ \t]/.test(value)) {
    node.type = "BLOCK_LITERAL";
  }
  else node.type = "QUOTE_DOUBLE";
  return node;
}

function scalarNode(scalar: SopsScalar): Scalar {
  switch (scalar.type) {
    case "str":
      return stringNode(scalar.value);
    case "bytes": {
      const node = new Scalar(Buffer.from(scalar.value).toString("base64"));
      node.tag = "tag:yaml.org,2002:binary";
      return node;
    }
    case "null":
      return Object.assign(new Scalar("null"), { type: "PLAIN" as const });
    default:
      return Object.assign(new Scalar(yamlScalarText(scalar)), { type: "PLAIN" as const });
  }
}

function joinComments(comments: string[]): string | undefined {
  return comments.length > 0 ? comments.join("\n") : undefined;
}

function appendComment(existing: string | null | undefined, comments: string[]): string | undefined {
  const joined = joinComments(comments);
  if (!joined) return existing ?? undefined;
  return existing ? `${existing}\n${joined}` : joined;
}

function yamlMap(map: MapNode): YAMLMap {
  const node = new YAMLMap();
  let head: string[] = [];
  let inline: string[] = [];
  for (const item of map.items) {
    if (item.kind === "comment") {
      (item.inline ? inline : head).push(item.text);
      continue;
    }
    const key = stringNode((item).key);
    key.commentBefore = joinComments(head);
    const value = yamlValue(item.value);
    if (inline.length > 0) {
      if (isScalar(value)) value.comment = appendComment(value.comment, inline);
      else key.commentBefore = appendComment(key.commentBefore, inline);
    }
    node.items.push(new Pair(key, value));
    head = [];
    inline = [];
  }
  node.comment = joinComments([...head, ...inline]);
  return node;
}

function yamlSeq(seq: SeqNode): YAMLSeq {
  const node = new YAMLSeq();
  let head: string[] = [];
  let inline: string[] = [];
  for (const item of seq.items) {
    if (item.kind === "comment") {
      (item.inline ? inline : head).push(item.text);
      continue;
    }
    const value = yamlValue(item);
    value.commentBefore = appendComment(value.commentBefore, head);
    if (inline.length > 0) {
      if (isScalar(value)) value.comment = appendComment(value.comment, inline);
      else value.commentBefore = appendComment(value.commentBefore, inline);
    }
    node.items.push(value);
    head = [];
    inline = [];
  }
  node.comment = joinComments([...head, ...inline]);
  return node;
}

function yamlValue(value: TreeValue): Scalar | YAMLMap | YAMLSeq {
  if (value.kind === "map") return yamlMap(value);
  if (value.kind === "seq") return yamlSeq(value);
  return scalarNode(value.scalar);
}

/** Branches as a YAML stream, one document each. */
export function emitYaml(branches: Branches): string {
  return branches
    .map((branch) => {
      const doc = new Document(null, { schema: "failsafe" });
      const contents = yamlMap(branch);
      if (contents.items.length === 0 && contents.comment) {
        doc.commentBefore = contents.comment;
        contents.comment = undefined;
      }
      doc.contents = contents;
      return doc.toString({ indent: 4, indentSeq: true, lineWidth: 0, minContentWidth: 0 });
    })
    .join("---\n");
}

/** One value (a list, say) as a YAML document, for `--extract`. */
export function emitYamlValue(value: TreeValue): string {
  const doc = new Document(null, { schema: "failsafe" });
  doc.contents = yamlValue(value);
  return doc.toString({ indent: 4, indentSeq: true, lineWidth: 0, minContentWidth: 0 });
}
