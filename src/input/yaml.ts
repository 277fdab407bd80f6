/**
 * The one way fjord parses YAML that comes from outside (Git, tools' output, request bodies):
 * document by document, each checked against the limits of limits.ts before and after it is
 * built, so that a hostile text costs time and memory in proportion to its size, never more.
 *
 * - Documents larger than `maxDocumentBytes` are refused before anything is parsed (a cheap scan
 *   for `---` lines), since the syntax tree of one document costs tens of bytes per byte.
 * - Collections nested deeper than `maxDepth` are refused on the concrete syntax tree, which the
 *   `yaml` package builds without recursion, before the recursive composer ever sees them.
 * - Aliases are counted, an alias to a node that contains it is refused, and the size of each
 *   document with every alias expanded is computed in linear time (each anchor measured once),
 *   so a "billion laughs" document is refused without expanding anything.
 * - Duplicate keys are found with one set per map: the `yaml` package compares each new key with
 *   every earlier one, which takes minutes for a map of a few hundred thousand keys.
 *
 * Only one document's syntax tree is alive at a time: callers convert each document as it comes
 * and drop it.
 */
import {
  type Alias,
  Composer,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  Lexer,
  Parser,
  YAMLParseError,
  type CST,
  type Document,
  type DocumentOptions,
  type ErrorCode,
  type YAMLError,
  type LineCounter,
  type Node,
  type ParsedNode,
  type ParseOptions,
  type SchemaOptions,
} from "yaml";
import { formatBytes, formatCount, MAX_ALIASES, MAX_DOCUMENT_BYTES, MAX_DOCUMENT_TOKENS, MAX_NESTING_DEPTH } from "./limits.ts";

export interface YamlLimits {
  maxDepth: number;
  maxAliases: number;
  /** One document's text. */
  maxDocumentBytes: number;
  /** Tokens (keys, values, indicators, punctuation) of one document as written, counted before it is built. */
  maxDocumentTokens: number;
  /** The same, for the whole stream: for callers that keep every document's syntax tree. */
  maxStreamTokens: number;
  /** One document with its aliases expanded: the text of its scalars... */
  maxExpandedBytes: number;
  /** ...and its nodes. */
  maxExpandedNodes: number;
}

export const DEFAULT_YAML_LIMITS: YamlLimits = {
  maxDepth: MAX_NESTING_DEPTH,
  maxAliases: MAX_ALIASES,
  maxDocumentBytes: MAX_DOCUMENT_BYTES,
  maxDocumentTokens: MAX_DOCUMENT_TOKENS,
  maxStreamTokens: Number.POSITIVE_INFINITY,
  maxExpandedBytes: MAX_DOCUMENT_BYTES,
  maxExpandedNodes: MAX_DOCUMENT_TOKENS,
};

export type YamlLimitKind = "document-size" | "document-tokens" | "stream-tokens" | "depth" | "aliases" | "alias-cycle" | "expansion";

/** The input exceeds one of the limits; `offset` is where (a caller turns it into a line). */
export class YamlLimitError extends Error {
  override readonly name = "YamlLimitError";

  constructor(
    readonly kind: YamlLimitKind,
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

export type YamlInputOptions = ParseOptions &
  DocumentOptions &
  SchemaOptions & {
    lineCounter?: LineCounter;
    limits?: Partial<YamlLimits>;
    /**
     * The identity under which two keys of one map collide (undefined: the key never collides,
     * as `<<` merge keys). Default: equal scalar values. Unused when `uniqueKeys` is false.
     */
    keyIdentity?: (key: ParsedNode | null) => string | undefined;
  };

export interface YamlInputDocument {
  document: Document.Parsed;
  /** Size of the document with its aliases expanded: its scalars' text... */
  expandedBytes: number;
  /** ...and its nodes. */
  expandedNodes: number;
  /** The node each alias refers to (for walkers that expand aliases themselves). */
  aliasTargets: ReadonlyMap<Alias, Node>;
}

const DOCUMENT_MARKER = /^(?:---|\.\.\.)(?=[ \t\r\n]|$)/gm;

/** A document can only start or end at a `---` or `...` line (YAML forbids them inside scalars). */
function assertDocumentSizes(text: string, maxBytes: number): void {
  if (text.length <= maxBytes) return;
  let start = 0;
  const check = (end: number) => {
    // Characters, not bytes: a cheap lower bound that is exact for the usual ASCII text.
    if (end - start > maxBytes) {
      throw new YamlLimitError("document-size", start, `a single YAML document is larger than ${formatBytes(maxBytes)}, fjord's limit for one document; no Kubernetes object can be that large`);
    }
  };
  for (const match of text.matchAll(DOCUMENT_MARKER)) {
    check(match.index);
    start = match.index;
  }
  check(text.length);
}

function isCollectionToken(token: CST.Token): token is CST.BlockMap | CST.BlockSequence | CST.FlowCollection {
  return token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection";
}

/** The offset of the first collection nested deeper than `maxDepth`, without recursion. */
function tooDeep(document: CST.Document, maxDepth: number): number | undefined {
  const stack: Array<{ token: CST.Token; depth: number }> = document.value ? [{ token: document.value, depth: 0 }] : [];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { token } = next;
    if (!isCollectionToken(token)) continue;
    const depth = next.depth + 1;
    if (depth > maxDepth) return token.offset;
    for (const item of token.items) {
      if (item.key) stack.push({ token: item.key, depth });
      if (item.value) stack.push({ token: item.value, depth });
    }
  }
  return undefined;
}

function defaultKeyIdentity(key: ParsedNode | null): string | undefined {
  if (key === null) return "null";
  if (!isScalar(key)) return undefined;
  const value = key.value;
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
    case "bigint":
      return `${typeof value}:${String(value)}`;
    default:
      return undefined; // merge keys (symbols) may repeat
  }
}

interface Size {
  bytes: number;
  nodes: number;
}

interface Measure {
  limits: YamlLimits;
  keyIdentity: ((key: ParsedNode | null) => string | undefined) | undefined;
  anchors: Map<string, Node>;
  /** Expanded size of every anchored node that is complete; one still missing here is being walked. */
  sizes: Map<Node, Size>;
  targets: Map<Alias, Node>;
  aliases: number;
  duplicates: YAMLParseError[];
}

function offsetOf(node: Node | null | undefined): number {
  return node?.range?.[0] ?? 0;
}

const LEAF: Size = { bytes: 1, nodes: 1 };

function add(total: Size, part: Size): void {
  total.bytes += part.bytes;
  total.nodes += part.nodes;
}

function exceeds(size: Size, limits: YamlLimits): boolean {
  return size.bytes > limits.maxExpandedBytes || size.nodes > limits.maxExpandedNodes;
}

/**
 * The expanded size of a node, in document order (an alias refers to the last anchor of its
 * name before it, as in the `yaml` package and go-yaml). Depth is already bounded, so recursion
 * is safe here; every node is visited once, however often it is aliased.
 */
function measure(state: Measure, node: unknown): Size {
  if (node === null || typeof node !== "object") return LEAF;
  if (isAlias(node)) {
    state.aliases++;
    if (state.aliases > state.limits.maxAliases) {
      throw new YamlLimitError("aliases", offsetOf(node), `more than ${formatCount(state.limits.maxAliases)} aliases in one YAML document (fjord's limit)`);
    }
    const target = state.anchors.get(node.source);
    if (!target) return LEAF; // unresolved: reported by whoever converts the document
    const size = state.sizes.get(target);
    if (size === undefined) throw new YamlLimitError("alias-cycle", offsetOf(node), `alias *${node.source} refers to a node that contains it`);
    state.targets.set(node, target);
    return size;
  }
  const anchored = node as Node;
  if (anchored.anchor) state.anchors.set(anchored.anchor, anchored);
  const size: Size = { bytes: 1, nodes: 1 };
  if (isScalar(node)) {
    const [start = 0, end = start] = node.range ?? [];
    size.bytes += end - start;
  } else if (isMap(node)) {
    const seen = state.keyIdentity ? new Set<string>() : undefined;
    for (const pair of node.items) {
      add(size, measure(state, pair.key));
      add(size, measure(state, pair.value));
      if (exceeds(size, state.limits)) break;
      const identity = seen ? state.keyIdentity!(pair.key as ParsedNode | null) : undefined;
      if (identity === undefined) continue;
      if (seen!.has(identity)) {
        const start = offsetOf(pair.key as Node | null);
        state.duplicates.push(new YAMLParseError([start, start + 1], "DUPLICATE_KEY", "Map keys must be unique"));
      } else seen!.add(identity);
    }
  } else if (isSeq(node)) {
    for (const item of node.items) {
      add(size, measure(state, item));
      if (exceeds(size, state.limits)) break;
    }
  }
  if (exceeds(size, state.limits)) {
    const what = size.bytes > state.limits.maxExpandedBytes ? formatBytes(state.limits.maxExpandedBytes) : `${formatCount(state.limits.maxExpandedNodes)} nodes`;
    throw new YamlLimitError("expansion", offsetOf(anchored), `this YAML document grows beyond ${what} once its aliases are expanded (fjord's limit)`);
  }
  if (anchored.anchor) state.sizes.set(anchored, size);
  return size;
}

function finish(document: Document.Parsed, limits: YamlLimits, options: YamlInputOptions): YamlInputDocument {
  const state: Measure = {
    limits,
    keyIdentity: options.uniqueKeys === false ? undefined : (options.keyIdentity ?? defaultKeyIdentity),
    anchors: new Map(),
    sizes: new Map(),
    targets: new Map(),
    aliases: 0,
    duplicates: [],
  };
  // A document with syntax errors is not measured: the caller reports the first error.
  const size = document.errors.length > 0 ? { bytes: 0, nodes: 0 } : measure(state, document.contents);
  if (state.duplicates.length > 0) {
    document.errors.push(...state.duplicates);
    document.errors.sort((a, b) => a.pos[0] - b.pos[0]);
  }
  return { document, expandedBytes: size.bytes, expandedNodes: size.nodes, aliasTargets: state.targets };
}

/**
 * Lexemes the parser turns into something that costs memory: a node, a pair, an anchor or tag,
 * punctuation (a stray comma or bracket becomes an error object). Whitespace, newlines and
 * comments do not; neither does a scalar's text, which follows a marker that is counted.
 */
function isCostlyLexeme(lexeme: string): boolean {
  switch (lexeme[0]) {
    case undefined:
    case " ":
    case "\t":
    case "\n":
    case "\r":
    case "#":
    case DOC_MODE_MARK:
    case BOM:
      return false;
    default:
      return true;
  }
}

/** Generous: the exact depth is checked on each complete document; this only keeps the parser's own recursion shallow. */
const PARSER_STACK_PER_LEVEL = 2;
const PARSER_STACK_SLACK = 8;

/** The lexer's markers (yaml's CST.SCALAR, CST.DOCUMENT, CST.BOM). */
const SCALAR_MARK = "\x1f";
const DOC_MODE_MARK = "\x02";
const BOM = "\u{FEFF}";

/**
 * The documents of a YAML (or JSON) stream, one at a time, each within the limits. Syntax
 * errors are in each document's `errors`, as with the `yaml` package; exceeding a limit throws
 * a YamlLimitError. Options are the `yaml` package's (schema, custom tags, merge keys...).
 *
 * The lexer's tokens are counted before the parser sees them, so a document with too many
 * tokens is refused before its syntax tree (hundreds of bytes per token) is built.
 */
export function* parseYamlDocuments(text: string, options: YamlInputOptions = {}): Generator<YamlInputDocument> {
  const limits: YamlLimits = { ...DEFAULT_YAML_LIMITS, ...options.limits };
  assertDocumentSizes(text, limits.maxDocumentBytes);
  const { lineCounter, limits: _limits, keyIdentity: _identity, ...yamlOptions } = options;
  const parser = new Parser(lineCounter?.addNewLine);
  lineCounter?.addNewLine(0);
  // The package's warnings (a collection used as a key, say) go to the process's stderr and
  // quote the input, which may be a Secret: outside data never reaches the log that way.
  const composer = new Composer({ logLevel: "error", ...yamlOptions, uniqueKeys: false });
  let tokens = 0;
  let streamTokens = 0;
  let offset = 0;
  let scalarText = false;
  // The parser makes an error object per stray token, and with a stack trace each costs over a
  // kilobyte (a line of 250,000 `]` took 420 MiB). Stack traces are off while it runs; the
  // errors carry their offsets, which is all fjord reports. They are back on for the caller.
  const stackTraceLimit = Error.stackTraceLimit;
  const accept = (token: CST.Token): void => {
    if (token.type !== "document") return;
    tokens = 0;
    const deep = tooDeep(token, limits.maxDepth);
    if (deep !== undefined) throw new YamlLimitError("depth", deep, `YAML nested deeper than ${limits.maxDepth} levels (fjord's limit)`);
  };
  Error.stackTraceLimit = 0;
  try {
    for (const lexeme of new Lexer().lex(text)) {
      const costly = !scalarText && isCostlyLexeme(lexeme);
      scalarText = lexeme === SCALAR_MARK;
      if (costly && ++tokens > limits.maxDocumentTokens) {
        throw new YamlLimitError("document-tokens", offset, `more than ${formatCount(limits.maxDocumentTokens)} YAML tokens (keys, values, punctuation) in one document (fjord's limit)`);
      }
      if (costly && ++streamTokens > limits.maxStreamTokens) {
        throw new YamlLimitError("stream-tokens", offset, `more than ${formatCount(limits.maxStreamTokens)} YAML tokens (keys, values, punctuation) in one file (fjord's limit)`);
      }
      for (const token of parser.next(lexeme)) {
        accept(token);
        for (const document of composer.next(token)) {
          const finished = finish(document, limits, options);
          Error.stackTraceLimit = stackTraceLimit;
          yield finished;
          Error.stackTraceLimit = 0;
        }
      }
      offset = parser.offset;
      // The parser closes open collections by recursion (generators delegating to each other),
      // which overflows the stack at about a thousand levels (`: : : ...` then a line less
      // indented) before a document is complete and its depth can be measured. Its stack of
      // open tokens holds one or two per level, so bounding it bounds that recursion.
      if (parser.stack.length > PARSER_STACK_PER_LEVEL * limits.maxDepth + PARSER_STACK_SLACK) {
        throw new YamlLimitError("depth", offset, `YAML nested deeper than ${limits.maxDepth} levels (fjord's limit)`);
      }
    }
    const rest = [...parser.end()];
    for (const token of rest) accept(token);
    for (const document of composer.compose(rest, false, text.length)) {
      const finished = finish(document, limits, options);
      Error.stackTraceLimit = stackTraceLimit;
      yield finished;
      Error.stackTraceLimit = 0;
    }
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/** Every document of a stream (for small inputs that are needed whole, such as a file to edit). */
export function parseAllYamlDocuments(text: string, options: YamlInputOptions = {}): Document.Parsed[] {
  return Array.from(parseYamlDocuments(text, options), (item) => item.document);
}

/**
 * Codes whose messages may quote the input: an escape sequence, a block scalar header, a stray
 * token, a tag, or (from fjord's own scalar tags) the value that has no type.
 */
const QUOTING_CODES: Partial<Record<ErrorCode, string>> = {
  TAG_RESOLVE_FAILED: "a value cannot be read as its type (quote it if it is meant as a string)",
  BAD_DQ_ESCAPE: "invalid escape sequence in a double-quoted string",
  UNEXPECTED_TOKEN: "unexpected text",
  BAD_SCALAR_START: "a plain value starts with a reserved character; quote it",
  BAD_COLLECTION_TYPE: "a tag names the wrong kind of collection",
};

/**
 * What went wrong converting a parsed document to plain values (an alias with no anchor before
 * it, a merge key that merges something other than a map), without the package's message,
 * which quotes the alias's name: in a Secret that name is the value someone wrote, e.g.
 * `password: *hunter2`.
 */
export function describeConversionError(error: unknown, quoteInput: boolean): string {
  const message = error instanceof Error ? error.message : String(error);
  if (quoteInput) return message.split("\n")[0] ?? message;
  if (/alias/i.test(message)) return "an alias (*name) refers to no anchor (&name) defined before it; quote the value if it is meant as a string";
  if (/merge/i.test(message)) return "a merge key (<<) merges something other than a map";
  return "a value cannot be converted";
}

/**
 * The problem a YAML error describes. Where the package's message may quote a piece of the
 * input and the text may hold secrets, only the error's kind is described.
 */
export function describeYamlError(error: YAMLError, quoteInput: boolean): string {
  const description = QUOTING_CODES[error.code];
  return quoteInput || !description ? (error.message.split("\n")[0] ?? error.message) : description;
}
