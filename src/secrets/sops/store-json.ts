/**
 * JSON documents <-> the SOPS tree. JSON.parse cannot be used: it turns `{"b":1,"10":2}` into
 * an object iterated as 10, b (breaking the MAC's document order) and big integers into
 * doubles. Numbers follow Go's json.Number handling in sops: int64 when the text is an
 * integer, float otherwise.
 */
import { formatCount, MAX_DOCUMENT_TOKENS, MAX_NESTING_DEPTH } from "../../input/limits.ts";
import { SopsProblem } from "./errors.ts";
import { parseGoFloat, parseGoInt64 } from "./go-format.ts";
import type { MapNode, SeqNode, SopsScalar, TreeValue } from "./tree.ts";

const MAX_DEPTH = MAX_NESTING_DEPTH;
/** Every value becomes a tree node of about a hundred bytes; the same bound as one YAML document. */
const MAX_VALUES = MAX_DOCUMENT_TOKENS;
const STRING = /"(?:[^"\\]|\\.)*"/y;
const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

class Parser {
  private at = 0;
  private depth = 0;
  private values = 0;
  constructor(private readonly text: string) {}

  fail(what: string): never {
    const line = this.text.slice(0, this.at).split("\n").length;
    throw new SopsProblem("invalid-file", `not valid JSON (line ${line}): ${what}`);
  }

  private sticky(pattern: RegExp): RegExpExecArray | null {
    pattern.lastIndex = this.at;
    return pattern.exec(this.text);
  }

  private space(): void {
    while (this.at < this.text.length && " \t\r\n".includes(this.text[this.at]!)) this.at++;
  }

  private peek(): string | undefined {
    this.space();
    return this.text[this.at];
  }

  private expect(char: string): void {
    if (this.peek() !== char) this.fail(`expected ${JSON.stringify(char)}`);
    this.at++;
  }

  private string(): string {
    this.space();
    const match = this.sticky(STRING);
    if (!match) this.fail("invalid string");
    this.at += match[0].length;
    try {
      // JSON.parse checks escapes and refuses raw control characters.
      return JSON.parse(match[0]) as string;
    } catch {
      return this.fail("invalid string");
    }
  }

  private number(): SopsScalar {
    const match = this.sticky(NUMBER);
    if (!match) this.fail("unexpected character");
    this.at += match[0].length;
    const int = parseGoInt64(match[0], 10);
    if (int !== undefined) return { type: "int", value: int };
    const float = parseGoFloat(match[0]);
    if (float === undefined) this.fail("number out of range");
    return { type: "float", value: float };
  }

  value(): TreeValue {
    if (++this.values > MAX_VALUES) this.fail(`more than ${formatCount(MAX_VALUES)} values (fjord's limit)`);
    const next = this.peek();
    if (next === "{") return this.object();
    if (next === "[") return this.array();
    if (next === '"') return { kind: "scalar", scalar: { type: "str", value: this.string() } };
    for (const [word, scalar] of [["true", { type: "bool", value: true }], ["false", { type: "bool", value: false }], ["null", { type: "null" }]] as const) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return { kind: "scalar", scalar };
      }
    }
    return { kind: "scalar", scalar: this.number() };
  }

  private nested<T>(body: () => T): T {
    if (++this.depth > MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    try {
      return body();
    } finally {
      this.depth--;
    }
  }

  object(): MapNode {
    return this.nested(() => {
      this.expect("{");
      const node: MapNode = { kind: "map", items: [] };
      if (this.peek() === "}") {
        this.at++;
        return node;
      }
      for (;;) {
        const key = this.string();
        this.expect(":");
        node.items.push({ kind: "entry", key, value: this.value() });
        if (this.peek() === ",") {
          this.at++;
          continue;
        }
        this.expect("}");
        return node;
      }
    });
  }

  private array(): SeqNode {
    return this.nested(() => {
      this.expect("[");
      const node: SeqNode = { kind: "seq", items: [] };
      if (this.peek() === "]") {
        this.at++;
        return node;
      }
      for (;;) {
        node.items.push(this.value());
        if (this.peek() === ",") {
          this.at++;
          continue;
        }
        this.expect("]");
        return node;
      }
    });
  }

  end(): void {
    if (this.peek() !== undefined) this.fail("unexpected text after the top-level object");
  }
}

/** A JSON document; sops accepts only a top-level object. */
export function loadJson(text: string): MapNode {
  const parser = new Parser(text);
  if (!/^\s*\{/.test(text)) {
    throw new SopsProblem("invalid-file", "sops supports only JSON files with a top-level object (starting with '{'): wrap the value in an object");
  }
  const branch = parser.object();
  parser.end();
  return branch;
}

/** Go's json.Marshal of a string: HTML characters and line separators escaped. */
function quote(value: string): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function scalarJson(scalar: SopsScalar): string {
  switch (scalar.type) {
    case "str":
    case "time":
      return quote(scalar.value);
    case "bytes":
      // Go marshals []byte as base64.
      return quote(Buffer.from(scalar.value).toString("base64"));
    case "int":
      return scalar.value.toString();
    case "float":
      if (!Number.isFinite(scalar.value)) throw new SopsProblem("invalid-input", "JSON cannot hold NaN or infinite numbers");
      return Object.is(scalar.value, -0) ? "-0" : String(scalar.value);
    case "bool":
      return String(scalar.value);
    case "null":
      return "null";
  }
}

function emitValue(value: TreeValue, indent: string, level: number): string {
  const inner = indent.repeat(level + 1);
  const close = indent.repeat(level);
  if (value.kind === "scalar") return scalarJson(value.scalar);
  if (value.kind === "map") {
    const entries = value.items.flatMap((item) => (item.kind === "entry" ? [`${inner}${quote(item.key)}: ${emitValue(item.value, indent, level + 1)}`] : []));
    return entries.length === 0 ? "{}" : `{\n${entries.join(",\n")}\n${close}}`;
  }
  const items = value.items.flatMap((item) => (item.kind === "comment" ? [] : [`${inner}${emitValue(item, indent, level + 1)}`]));
  return items.length === 0 ? "[]" : `[\n${items.join(",\n")}\n${close}]`;
}

/** Like sops: tab-indented, comments dropped (JSON has none), a final newline. */
export function emitJson(branch: MapNode, indent = "\t"): string {
  return `${emitValue(branch, indent, 0)}\n`;
}

/** One value (a list, say) as JSON, for `--extract`. */
export function emitJsonValue(value: TreeValue, indent = "\t"): string {
  return emitValue(value, indent, 0);
}
