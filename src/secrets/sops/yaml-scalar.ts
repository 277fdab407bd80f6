/**
 * What a YAML scalar is to sops: go-yaml v3's resolution (YAML 1.2 core types plus its own
 * quirks: `0777` octals, `0b`/`0o` prefixes, `_` in numbers, plain timestamps as time.Time).
 * The MAC hashes values by type, so `012` (int 10) and `"012"` (str) must never be confused.
 */
import { formatGoFloat, parseGoFloat, parseGoInt64, parseGoUint64 } from "./go-format.ts";
import { parseYamlTimestamp } from "./go-time.ts";
import type { SopsScalar } from "./tree.ts";

const CORE = "tag:yaml.org,2002:";

export type ScalarStyle = "PLAIN" | "QUOTE_DOUBLE" | "QUOTE_SINGLE" | "BLOCK_LITERAL" | "BLOCK_FOLDED";

function shortTag(tag: string | undefined): string {
  if (!tag || tag === "!") return "";
  return tag.startsWith(CORE) ? `!!${tag.slice(CORE.length)}` : tag.startsWith("!!") ? tag : tag;
}

const RESOLVABLE = new Set(["", "!!str", "!!bool", "!!int", "!!float", "!!null", "!!timestamp"]);

const NAMED: Record<string, SopsScalar> = {};
for (const word of ["true", "True", "TRUE"]) NAMED[word] = { type: "bool", value: true };
for (const word of ["false", "False", "FALSE"]) NAMED[word] = { type: "bool", value: false };
for (const word of ["", "~", "null", "Null", "NULL"]) NAMED[word] = { type: "null" };
for (const word of [".nan", ".NaN", ".NAN"]) NAMED[word] = { type: "float", value: NaN };
for (const word of [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"]) NAMED[word] = { type: "float", value: Infinity };
for (const word of ["-.inf", "-.Inf", "-.INF"]) NAMED[word] = { type: "float", value: -Infinity };

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

const TAG_OF: Record<SopsScalar["type"], string> = {
  str: "!!str",
  int: "!!int",
  float: "!!float",
  bool: "!!bool",
  time: "!!timestamp",
  bytes: "!!binary",
  null: "!!null",
};

/** go-yaml's resolve(): the type of a plain scalar, or of any scalar under an explicit core tag. */
function resolve(tag: string, text: string): SopsScalar | "uint64" {
  const first = text[0];
  const hint = first === undefined ? "N" : /[+-]/.test(first) ? "S" : /\d/.test(first) ? "D" : /[yYnNtTfFoO~]/.test(first) ? "M" : first === "." ? "." : "";
  if (hint === "" || tag === "!!str") return { type: "str", value: text };
  const named = NAMED[text];
  if (named) return named;
  if (hint === ".") {
    const value = parseGoFloat(text);
    if (value !== undefined) return { type: "float", value };
  } else if (hint === "D" || hint === "S") {
    if (tag === "" || tag === "!!timestamp") {
      const time = parseYamlTimestamp(text);
      if (time !== undefined) return { type: "time", value: time };
    }
    const plain = text.replaceAll("_", "");
    const int = parseGoInt64(plain, 0);
    if (int !== undefined) return { type: "int", value: int };
    if (parseGoUint64(plain) !== undefined) return "uint64";
    if (YAML_STYLE_FLOAT.test(plain)) {
      const value = parseGoFloat(plain);
      if (value !== undefined) return { type: "float", value };
    }
  }
  return { type: "str", value: text };
}

export class YamlScalarError extends Error {}

/**
 * The sops value of a YAML scalar node, from its text, style and tag (as the `yaml` package
 * parses it with the failsafe schema, which leaves all of them as written).
 */
export function resolveYamlScalar(text: string, style: ScalarStyle | undefined, tag: string | undefined): SopsScalar {
  const short = shortTag(tag);
  const quoted = style !== undefined && style !== "PLAIN";
  if (short === "!!str" || (short === "" && quoted)) return { type: "str", value: text };
  if (short === "!!binary") {
    const compact = text.replace(/[\r\n]/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) throw new YamlScalarError("!!binary value contains invalid base64 data");
    const bytes = Buffer.from(compact, "base64");
    const decoded = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
    return Buffer.from(decoded, "utf8").equals(bytes) ? { type: "str", value: decoded } : { type: "bytes", value: bytes };
  }
  // Custom tags are opaque to go-yaml: the value stays a string.
  if (!RESOLVABLE.has(short)) return { type: "str", value: text };
  const resolved = resolve(short, text);
  if (resolved === "uint64") throw new YamlScalarError("integers above 9223372036854775807 are not supported by sops");
  if (short === "" || TAG_OF[resolved.type] === short) return resolved;
  if (short === "!!float" && resolved.type === "int") return { type: "float", value: Number(resolved.value) };
  // Never the value itself: this is a file of secrets, and the message reaches status and Events.
  throw new YamlScalarError(`cannot decode a ${TAG_OF[resolved.type]} value as a ${short}`);
}

/** The text go-yaml writes for a non-string scalar. */
export function yamlScalarText(scalar: Exclude<SopsScalar, { type: "str" | "bytes" | "null" }>): string {
  switch (scalar.type) {
    case "int":
      return scalar.value.toString();
    case "bool":
      return scalar.value ? "true" : "false";
    case "time":
      return scalar.value;
    case "float": {
      if (Number.isNaN(scalar.value)) return ".nan";
      if (scalar.value === Infinity) return ".inf";
      if (scalar.value === -Infinity) return "-.inf";
      const text = formatGoFloat(scalar.value);
      // Keep it a float when read back.
      return /[.eE]/.test(text) ? text : `${text}.0`;
    }
  }
}
