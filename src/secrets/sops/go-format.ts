/**
 * How sops (Go) turns scalars into bytes and back. The MAC hashes these bytes and every
 * encrypted value holds them, so they must match Go's strconv output exactly: `True`/`False`
 * for booleans, shortest non-exponent decimals for floats, 64-bit integers.
 */
import { normalizeTimeText } from "./go-time.ts";
import type { SopsScalar } from "./tree.ts";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

const DIGITS: Record<number, RegExp> = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ };
const PREFIX: Record<number, string> = { 2: "0b", 8: "0o", 10: "", 16: "0x" };

/** The magnitude and sign of an integer in Go syntax; base 0 means "from the prefix", as strconv does. */
function parseInteger(text: string, base: 0 | 10): { negative: boolean; magnitude: bigint; signed: boolean } | undefined {
  const signed = text.startsWith("+") || text.startsWith("-");
  const negative = text.startsWith("-");
  let digits = signed ? text.slice(1) : text;
  let radix = 10;
  if (base === 0) {
    const prefix = digits.slice(0, 2).toLowerCase();
    if (prefix === "0x") [radix, digits] = [16, digits.slice(2)];
    else if (prefix === "0o") [radix, digits] = [8, digits.slice(2)];
    else if (prefix === "0b") [radix, digits] = [2, digits.slice(2)];
    else if (digits.length > 1 && digits.startsWith("0")) [radix, digits] = [8, digits.slice(1)];
  }
  if (!DIGITS[radix]!.test(digits)) return undefined;
  return { negative, magnitude: BigInt(`${PREFIX[radix]}${digits}`), signed };
}

/** strconv.ParseInt(text, base, 64). */
export function parseGoInt64(text: string, base: 0 | 10): bigint | undefined {
  const parsed = parseInteger(text, base);
  if (!parsed) return undefined;
  const value = parsed.negative ? -parsed.magnitude : parsed.magnitude;
  return value >= INT64_MIN && value <= INT64_MAX ? value : undefined;
}

/** strconv.ParseUint(text, 0, 64): no sign allowed. */
export function parseGoUint64(text: string): bigint | undefined {
  const parsed = parseInteger(text, 0);
  if (!parsed || parsed.signed) return undefined;
  return parsed.magnitude <= UINT64_MAX ? parsed.magnitude : undefined;
}

const DECIMAL_FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * strconv.ParseFloat(text, 64) for the decimal and named forms sops and YAML produce.
 * Overflow is an error in Go (it is not Infinity), so it is one here too.
 */
export function parseGoFloat(text: string): number | undefined {
  const named = text.replace(/^[+-]/, "").toLowerCase();
  if (named === "inf" || named === "infinity") return text.startsWith("-") ? -Infinity : Infinity;
  if (named === "nan" && !/^[+-]/.test(text)) return NaN;
  if (!DECIMAL_FLOAT.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** strconv.FormatFloat(value, 'f', -1, 64): the shortest digits that round-trip, never an exponent. */
export function formatGoFloat(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  if (Object.is(value, -0)) return "-0";
  // JS and Go both pick the shortest round-tripping digits; only the layout differs.
  const text = String(value);
  const match = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const [, sign = "", whole = "", fraction = "", exponent = "0"] = match;
  const digits = whole + fraction;
  const point = whole.length + Number(exponent);
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** strconv.ParseBool. */
export function parseGoBool(text: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  return undefined;
}

/** sops's ToBytes: what the MAC hashes and what an encrypted value holds. */
export function scalarText(scalar: Exclude<SopsScalar, { type: "null" | "bytes" }>): string {
  switch (scalar.type) {
    case "str":
    case "time":
      return scalar.value;
    case "int":
      return scalar.value.toString();
    case "float":
      return formatGoFloat(scalar.value);
    case "bool":
      return scalar.value ? "True" : "False";
  }
}

export function scalarBytes(scalar: Exclude<SopsScalar, { type: "null" }>): Uint8Array {
  return scalar.type === "bytes" ? scalar.value : new TextEncoder().encode(scalarText(scalar));
}

/**
 * The scalar a decrypted value stands for, by the type sops recorded next to it; undefined
 * when the plaintext is not valid for that type (Go would fail to parse it).
 */
export function scalarFromPlaintext(type: string, plaintext: Uint8Array): SopsScalar | undefined {
  const text = new TextDecoder().decode(plaintext);
  switch (type) {
    case "str":
      // Go strings are bytes: a binary file's content need not be UTF-8.
      return Buffer.from(text, "utf8").equals(plaintext) ? { type: "str", value: text } : { type: "bytes", value: plaintext };
    case "int": {
      const value = parseGoInt64(text, 10);
      return value === undefined ? undefined : { type: "int", value };
    }
    case "float": {
      const value = parseGoFloat(text);
      return value === undefined ? undefined : { type: "float", value };
    }
    case "bool": {
      const value = parseGoBool(text);
      return value === undefined ? undefined : { type: "bool", value };
    }
    case "time": {
      const value = normalizeTimeText(text);
      return value === undefined ? undefined : { type: "time", value };
    }
    case "bytes":
      return { type: "bytes", value: plaintext };
    default:
      return undefined;
  }
}
